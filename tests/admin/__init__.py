"""The dashboard and the management API: logins and roles, pages, the API and its schema, sources in the database."""
