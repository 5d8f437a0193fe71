INSERT INTO ops.alerts_sent (monitor, subject, text, first_sent_at, last_sent_at) VALUES (?, ?, ?, ?, ?);
