"""Harvesting each kind of source: OAI-PMH, GakuNin RDM exports, spreadsheets, rows held with their problems."""
