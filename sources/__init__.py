"""dlt sources and push clients, one folder per provider (each exporting its `PROVIDER`
descriptor); the list of them in `registry`; what they share in `common`."""
