SELECT monitor, subject, text, first_sent_at, last_sent_at FROM ops.alerts_sent;
