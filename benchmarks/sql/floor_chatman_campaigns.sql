-- The campaign events the warehouse holds per campaign (never deleted: no deleted_at): every
-- page of each campaign is read each run, as the API has no time filter for them.
SELECT count(*)
FROM raw_chatman.campaign_events
GROUP BY campaign_id
ORDER BY campaign_id
