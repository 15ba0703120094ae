"""Understanding messages: the spaCy pipeline, our Rasa NLU components, safety, language, facts and topics."""
