"""Running the providers' dlt pipelines into the warehouse."""
