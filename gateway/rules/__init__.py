"""Validation rules beyond the schemas: Annex-3 content rules and the aggregator's (IRDB / CiNii) quality rules.

Every rule has a stable id (``finding["rule"]``) so that reports, tests and managers can refer to it.
"""
