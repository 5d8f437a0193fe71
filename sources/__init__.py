"""dlt sources and push clients, one folder per provider; shared HTTP and config in `common`."""

PROVIDERS = ("chatman", "dmchamp", "whautomate", "waabot", "chatrace")
