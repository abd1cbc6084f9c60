"""The gateway: harvest research-data metadata, map it to JPCOAR 2.0, gate it, and republish it over OAI-PMH."""

__version__ = "0.1.0"
