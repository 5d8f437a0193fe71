"""The kernel every layer stands on: errors, push types, phone numbers, the warehouse opener
and the provider descriptor. It imports nothing of crmsync above it."""
