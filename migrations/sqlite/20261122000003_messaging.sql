-- SMS and social channels: consent with its history, and delivery reports that arrive before
-- the message they are about is known (a status callback racing the send's own answer).

-- Every consent change of one identifier for one purpose, newest last; the current state is
-- the newest row (no row: consent is assumed for support, the customer wrote to us).
CREATE TABLE consent_events (
    id            INTEGER PRIMARY KEY,
    identifier_id BIGINT NOT NULL REFERENCES identifiers (id),
    purpose       TEXT NOT NULL CHECK (purpose IN ('support', 'marketing')),
    granted       BIGINT NOT NULL,
    -- keyword (an SMS STOP/START), provider (the provider refused: e.g. Twilio 21610),
    -- agent, unsubscribe (email link), import
    source        TEXT NOT NULL,
    detail        TEXT,
    actor_user_id BIGINT REFERENCES users (id),
    message_id    BIGINT REFERENCES messages (id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX consent_events_identifier ON consent_events (identifier_id, purpose, id);

-- A provider's delivery report for a provider message id we do not hold yet. Applied when the
-- outbox records that id; reports only ever move a message forward.
CREATE TABLE delivery_reports (
    id                  INTEGER PRIMARY KEY,
    channel_account_id  BIGINT NOT NULL REFERENCES channel_accounts (id),
    provider_message_id TEXT NOT NULL,
    state               TEXT NOT NULL,
    reason              TEXT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX delivery_reports_key ON delivery_reports (channel_account_id, provider_message_id);
