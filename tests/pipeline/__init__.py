"""A record through the mapping stage and the policy gate: what is published, withheld, quarantined, deleted."""
