-- When the provider's latest successful sync began reading ({dataset} is raw_<provider>): dlt
-- names each load by the time its extract started. A membership pushed before then and
-- absent from what it read was taken out in the provider.
SELECT to_timestamp(max(CAST(load_id AS DOUBLE))) FROM {dataset}._dlt_loads WHERE status = 0;
