-- What the flows' alerts told someone, so a condition that holds run after run is not sent
-- every run: one row per open condition (or failed run) last sent, kept while it holds.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.alerts_sent (
    monitor VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    first_sent_at TIMESTAMPTZ NOT NULL,
    last_sent_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE ops.alerts_sent IS 'Alerts sent and still true: sent again after alerts.repeat_hours, as resolved when they end.';
COMMENT ON COLUMN ops.alerts_sent.monitor IS 'run (a failed run), held, rejected or stale.';
COMMENT ON COLUMN ops.alerts_sent.subject IS 'What it is about: the run, "segment → provider", or the provider.';
COMMENT ON COLUMN ops.alerts_sent.text IS 'The alert as last sent.';
COMMENT ON COLUMN ops.alerts_sent.first_sent_at IS 'When it was first sent.';
COMMENT ON COLUMN ops.alerts_sent.last_sent_at IS 'When it was last sent.';
