"""The spaCy pipeline Rasa loads, and the small Rasa components that read it."""
