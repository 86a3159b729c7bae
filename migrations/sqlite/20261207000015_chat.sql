-- Website chat (issue 16). A visitor is the id the server gave one widget (kept by the site's
-- page in a signed token); the messages themselves are ordinary messages on channel 'chat',
-- threaded through the visitor's identifier (kind 'chat'). last_active_at is the last request
-- or stream heartbeat of the widget: whether the visitor is still there.
CREATE TABLE chat_visitors (
    id             INTEGER PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES channel_accounts (id),
    visitor        TEXT NOT NULL,
    last_active_at BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (account_id, visitor)
);

-- Fixed-window request counters shared by every server process (the chat's limits per visitor
-- and per address). A key counts hits in a window opened by its first hit; rows whose window
-- has closed are deleted.
CREATE TABLE rate_counters (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
CREATE INDEX rate_counters_window ON rate_counters (window_start);
