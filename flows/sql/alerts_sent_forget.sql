DELETE FROM ops.alerts_sent WHERE monitor = ? AND subject = ?;
