"""Harvesting from a source that fails as real ones do: retries, restarts, kills and resumes, locks, dirty pages."""
