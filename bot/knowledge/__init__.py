"""The curated knowledge base: content validation, SQL storage and read access."""
