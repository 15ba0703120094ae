"""The review inbox: messages the assistant did not handle confidently, staff decisions, export to training data."""
