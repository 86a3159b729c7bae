-- Campaigns: marketing's outreach, drafted, approved by a second person, planned once and
-- delivered through the outbox with consent, windows, quiet hours, caps and throttles checked
-- again at the moment of sending.

-- A customer's own time zone (IANA name), when known; quiet hours use it before the one their
-- phone number's region suggests.
ALTER TABLE customers ADD COLUMN time_zone TEXT;

-- `definition` is the campaign as drafted (domain::campaign::Definition as JSON: topic,
-- audience, steps with content per channel, strategy). `status`: draft, approved, scheduled,
-- sending, paused, done, cancelled. `step` is the step being delivered; `step_due_at` when it
-- may start; `planned_step` the last step whose recipients are all written.
CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    definition   TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_by   BIGINT NOT NULL REFERENCES users (id),
    approved_by  BIGINT REFERENCES users (id),
    approved_at  BIGINT,
    scheduled_at BIGINT,
    started_at   BIGINT,
    finished_at  BIGINT,
    step         BIGINT NOT NULL DEFAULT 0,
    step_due_at  BIGINT,
    planned_step BIGINT NOT NULL DEFAULT -1,
    locked_until BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX campaigns_status ON campaigns (status, step_due_at);

-- One row per customer and step: the uniqueness that keeps a customer from being messaged
-- twice in a step, whatever process or restart plans or sends. `state`: planned, waiting,
-- sent, delivered, failed, skipped, replied, opted_out, cancelled; `skip` the reason's code
-- (domain::campaign_rules::SkipReason) when skipped or opted out. `tried` lists the channels
-- tried before (comma-separated: each failed or was not delivered in time), `channel` the
-- current one.
CREATE TABLE campaign_recipients (
    id            INTEGER PRIMARY KEY,
    campaign_id   BIGINT NOT NULL REFERENCES campaigns (id),
    step          BIGINT NOT NULL,
    customer_id   BIGINT NOT NULL REFERENCES customers (id),
    state         TEXT NOT NULL,
    reason        TEXT,
    skip          TEXT,
    channel       TEXT,
    tried         TEXT NOT NULL DEFAULT '',
    message_id    BIGINT,
    due_at        BIGINT NOT NULL,
    locked_until  BIGINT,
    sent_at       BIGINT,
    delivered_at  BIGINT,
    replied_at    BIGINT,
    reply_message_id BIGINT,
    updated_at    BIGINT NOT NULL,
    UNIQUE (campaign_id, step, customer_id)
);
CREATE INDEX campaign_recipients_due ON campaign_recipients (campaign_id, state, due_at);
CREATE INDEX campaign_recipients_customer ON campaign_recipients (customer_id, sent_at);
CREATE INDEX campaign_recipients_message ON campaign_recipients (message_id);

-- Every message a campaign sent, one per recipient and channel: a fallback is a new row, a
-- second send on the same channel in the same step cannot be written.
CREATE TABLE campaign_messages (
    message_id   BIGINT PRIMARY KEY REFERENCES messages (id),
    campaign_id  BIGINT NOT NULL REFERENCES campaigns (id),
    recipient_id BIGINT NOT NULL REFERENCES campaign_recipients (id),
    customer_id  BIGINT NOT NULL,
    step         BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (recipient_id, channel)
);
CREATE INDEX campaign_messages_customer ON campaign_messages (customer_id, created_at);

-- Replies that answer a campaign (shown on the timeline).
CREATE TABLE campaign_replies (
    message_id  BIGINT PRIMARY KEY REFERENCES messages (id),
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    created_at  BIGINT NOT NULL
);

-- Sends per channel account and minute: the throttle, shared by every process.
CREATE TABLE campaign_throttle (
    channel_account_id BIGINT NOT NULL,
    minute             BIGINT NOT NULL,
    sent               BIGINT NOT NULL,
    PRIMARY KEY (channel_account_id, minute)
);
