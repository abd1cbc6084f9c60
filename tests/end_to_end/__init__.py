"""The bundled example end to end: CLI in, OAI-PMH out, a second gateway harvesting the first."""
