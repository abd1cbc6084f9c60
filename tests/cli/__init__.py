"""The gateway command as a repository manager runs it: processes, validate and quarantine, export."""
