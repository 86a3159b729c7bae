-- Never lose a reply, never send it twice: retries for a horizon of hours, and sends whose
-- outcome is unknown reconciled with the provider instead of repeated.

-- When the current attempt's request may have left for the provider; cleared once its outcome
-- is known. A job claimed with this set (its process died mid-send) is looked up, not resent.
ALTER TABLE outbox ADD COLUMN in_flight_at BIGINT;
-- Where the retry horizon starts when an agent queued the message again (else created_at).
ALTER TABLE outbox ADD COLUMN retry_from BIGINT;
-- How a finished job ended when not delivered: 'failed', 'unknown' (the provider may have the
-- message: the agent decides whether to send again) or 'cancelled'. NULL while pending or sent.
ALTER TABLE outbox ADD COLUMN outcome TEXT;

-- The failed messages of an account, for the admin's "retry every failed message".
CREATE INDEX messages_failed ON messages (channel_account_id) WHERE delivery_state = 'failed';
