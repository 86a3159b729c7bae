-- Convergence schema. Times are BIGINT unix milliseconds (UTC); ids are 64-bit integers.
-- Booleans are BIGINT 0/1 so one query text serves SQLite and PostgreSQL.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'support', 'marketing')),
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

-- tower-sessions records; user_id is copied out of the record so that disabling a user can end
-- every session of theirs.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    BIGINT,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

-- A channel account is one of our endpoints: a mailbox, an SMS number, a page, a bot, or a
-- playground stand-in. `settings` is JSON the browser may see; `secrets` is JSON it never sees.
CREATE TABLE channel_accounts (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    provider     TEXT NOT NULL,
    name         TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    settings     TEXT NOT NULL DEFAULT '{}',
    secrets      TEXT NOT NULL DEFAULT '{}',
    enabled      BIGINT NOT NULL DEFAULT 1,
    state        TEXT NOT NULL DEFAULT 'ok',
    state_detail TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE customers (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    preferred_channel TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- Every address a customer can be reached at. (kind, value) is unique: one identifier belongs
-- to exactly one customer. `value` is the normalised form; `label` is how it was first written.
CREATE TABLE identifiers (
    id              INTEGER PRIMARY KEY,
    customer_id     BIGINT NOT NULL REFERENCES customers (id),
    kind            TEXT NOT NULL,
    value           TEXT NOT NULL,
    label           TEXT NOT NULL,
    last_inbound_at BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX identifiers_customer ON identifiers (customer_id);

-- One conversation per customer. The last_* columns are a denormalised summary so the inbox
-- list is a single index scan; channels_mask has one bit per channel the conversation used.
CREATE TABLE conversations (
    id                   INTEGER PRIMARY KEY,
    customer_id          BIGINT NOT NULL UNIQUE REFERENCES customers (id),
    status               TEXT NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    snoozed_until        BIGINT,
    assignee_id          BIGINT REFERENCES users (id),
    current_channel      TEXT,
    last_activity_at     BIGINT NOT NULL,
    last_inbound_at      BIGINT,
    last_inbound_channel TEXT,
    last_preview         TEXT NOT NULL DEFAULT '',
    last_channel         TEXT,
    last_direction       TEXT,
    channels_mask        BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL
);
CREATE INDEX conversations_status_activity ON conversations (status, last_activity_at, id);
CREATE INDEX conversations_assignee_activity ON conversations (assignee_id, status, last_activity_at, id);
CREATE INDEX conversations_activity ON conversations (last_activity_at, id);

CREATE TABLE conversation_reads (
    user_id         BIGINT NOT NULL REFERENCES users (id),
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    read_at         BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);

-- Raw inbound data exactly as received, stored before any processing. The unique key makes
-- provider retries and replays idempotent.
CREATE TABLE raw_inbound (
    id                 INTEGER PRIMARY KEY,
    channel_account_id BIGINT NOT NULL REFERENCES channel_accounts (id),
    dedupe_key         TEXT NOT NULL,
    content_type       TEXT NOT NULL,
    payload            BLOB NOT NULL,
    state              TEXT NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'processed', 'failed', 'ignored')),
    error              TEXT,
    attempts           BIGINT NOT NULL DEFAULT 0,
    received_at        BIGINT NOT NULL,
    processed_at       BIGINT,
    UNIQUE (channel_account_id, dedupe_key)
);
CREATE INDEX raw_inbound_state ON raw_inbound (state, id);

CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    conversation_id     BIGINT NOT NULL REFERENCES conversations (id),
    customer_id         BIGINT NOT NULL REFERENCES customers (id),
    direction           TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    channel             TEXT NOT NULL,
    channel_account_id  BIGINT NOT NULL REFERENCES channel_accounts (id),
    identifier_id       BIGINT REFERENCES identifiers (id),
    author_user_id      BIGINT REFERENCES users (id),
    subject             TEXT,
    body_text           TEXT NOT NULL,
    body_html           TEXT,
    provider_message_id TEXT,
    delivery_state      TEXT NOT NULL
                        CHECK (delivery_state IN ('received', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed')),
    failure_reason      TEXT,
    raw_inbound_id      BIGINT REFERENCES raw_inbound (id),
    created_at          BIGINT NOT NULL,
    sent_at             BIGINT,
    delivered_at        BIGINT,
    updated_at          BIGINT NOT NULL,
    UNIQUE (channel_account_id, provider_message_id)
);
CREATE INDEX messages_conversation_time ON messages (conversation_id, created_at, id);
CREATE INDEX messages_identifier ON messages (identifier_id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_id   BIGINT NOT NULL REFERENCES messages (id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    content_id   TEXT,
    data         BLOB NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

-- Durable outbox: written in the same transaction as the outbound message, drained by the
-- delivery worker. locked_until is a lease so several processes can share the work.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      BIGINT NOT NULL UNIQUE REFERENCES messages (id),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    done_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (done_at, next_attempt_at);

-- Timeline events: status changes, assignments, snoozes, channel switches, merges, and private
-- notes (kind 'note', text in body). Shown inline in the timeline, never sent to customers.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    kind            TEXT NOT NULL,
    actor_user_id   BIGINT REFERENCES users (id),
    body            TEXT,
    data            TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_conversation_time ON events (conversation_id, created_at, id);
