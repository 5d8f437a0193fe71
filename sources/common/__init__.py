"""What every provider shares: configuration lookup, HTTP, paging and auth helpers."""
