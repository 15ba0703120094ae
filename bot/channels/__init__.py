"""Channel code: parses input and renders our reply payloads; conversation logic lives elsewhere."""
