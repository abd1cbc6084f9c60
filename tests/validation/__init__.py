"""Findings: the gateway's schemas against the official ones, identifier checks, Annex-3 and aggregator rules."""
