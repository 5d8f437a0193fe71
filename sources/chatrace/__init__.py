"""Chatrace: its API settings, dlt source and push client."""
