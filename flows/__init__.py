"""Prefect flows: scheduled sync, transform, push (issue #6)."""
