"""The OAI-PMH conformance checker, proven on a fixture repository and run on the gateway's own provider."""
