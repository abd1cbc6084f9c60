"""The OAI-PMH provider: every verb and error, paging, tokens, transport, privacy, and its behaviour at scale."""
