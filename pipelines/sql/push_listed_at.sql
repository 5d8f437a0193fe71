-- When the provider's latest sync completed: dlt's record of its loads ({dataset} is
-- raw_<provider>, filled in by the engine).
SELECT max(inserted_at) FROM {dataset}._dlt_loads WHERE status = 0;
