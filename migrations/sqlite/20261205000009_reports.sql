-- Reports (issue 13). The facts they count are already written with each change, in the same
-- transaction: messages (in and out), timeline events (status changes, moves, merges and undos)
-- and consent_events. These tables are derived from them and can be rebuilt at any time
-- (`server reports-rebuild`); the server keeps them current as conversations change.

-- The team's reporting settings: the time zone days are counted in, and the inactivity period
-- after which a quiet conversation's episode is over. Changing either rebuilds the rollups.
CREATE TABLE report_settings (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    time_zone       TEXT NOT NULL DEFAULT 'UTC',
    inactivity_secs BIGINT NOT NULL DEFAULT 604800 CHECK (inactivity_secs > 0),
    updated_at      BIGINT NOT NULL DEFAULT 0
);
INSERT INTO report_settings (id) VALUES (1);

-- Conversations whose episodes must be computed again from the episode that holds since_at
-- (0: from the start, after a merge or an undo). Written in the transaction of the change.
CREATE TABLE report_dirty (
    conversation_id BIGINT PRIMARY KEY,
    since_at        BIGINT NOT NULL,
    marked_at       BIGINT NOT NULL
);

-- One row per episode (a stretch of a conversation from a customer message to its resolution
-- or to the inactivity period; app/src/domain/reports). Times in unix ms, durations in seconds.
-- replies: "channel:seconds" per answered reply; window_expired: "channel:count".
CREATE TABLE report_episodes (
    id                  INTEGER PRIMARY KEY,
    conversation_id     BIGINT NOT NULL,
    day                 BIGINT NOT NULL,
    started_at          BIGINT NOT NULL,
    last_message_at     BIGINT NOT NULL,
    resolved_at         BIGINT,
    first_channel       TEXT NOT NULL,
    resolution_channel  TEXT,
    channels            TEXT NOT NULL,
    switched            BIGINT NOT NULL,
    moved               BIGINT NOT NULL,
    reopened            BIGINT NOT NULL,
    repeated            BIGINT NOT NULL,
    first_response_secs BIGINT,
    resolution_secs     BIGINT,
    replies             TEXT NOT NULL,
    window_expired      TEXT NOT NULL,
    handled_by          BIGINT,
    inbound             BIGINT NOT NULL,
    outbound            BIGINT NOT NULL
);
CREATE INDEX report_episodes_conversation ON report_episodes (conversation_id, started_at);
-- Covers counting distinct customers over a range.
CREATE INDEX report_episodes_day ON report_episodes (day, first_channel, conversation_id);

-- Daily rollups: one row per (local day, metric) holding an entry per (channel, agent) with a
-- count, a sum and, for durations, every value (so medians are exact), packed as text so a
-- 90-day report reads a few thousand rows. Metric names and the packing:
-- app/src/domain/reports/rollup.rs.
CREATE TABLE report_daily (
    day     BIGINT NOT NULL,
    metric  TEXT NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (day, metric)
);

-- The reach tab's ranges: consent changes and failed deliveries by time.
CREATE INDEX consent_events_time ON consent_events (created_at);
CREATE INDEX messages_failed_time ON messages (created_at) WHERE delivery_state = 'failed';
