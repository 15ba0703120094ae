"""rasa-sdk glue: one module per feature; every concrete Action subclass is registered by the SDK."""
