"""SQL transforms: staging per provider, the customer model, segments (issue #4)."""
