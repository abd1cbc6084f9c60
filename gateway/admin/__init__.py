"""The dashboard (/admin) and the management API (/api): authentication, sources in the database, pages, JSON."""
