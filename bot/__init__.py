"""Common Ground: the dispute-resolution assistant's own logic, testable without a running Rasa."""
