"""The database: migrations matching the models, and compressed storage of XML."""
