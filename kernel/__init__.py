"""The kernel every layer stands on: errors, push types, phone numbers, the warehouse opener,
its lock (overlap.py) and the provider descriptor. It imports nothing of crmsync above it."""
