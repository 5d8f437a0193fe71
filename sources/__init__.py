"""dlt sources and push clients, one folder per provider; shared HTTP and config in `common`.

The order is the sync order: providers that can be listed come first, because Chatrace and
DM Champ are read by looking up the people the others brought in.
"""

PROVIDERS = ("chatman", "whautomate", "waabot", "chatrace", "dmchamp")
