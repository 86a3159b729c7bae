-- Chat visitors who have been gone longer than any visitor token lives are forgotten (the
-- chat follow-up worker deletes them in batches); this index finds them in order.
CREATE INDEX chat_visitors_last_active ON chat_visitors (last_active_at);
