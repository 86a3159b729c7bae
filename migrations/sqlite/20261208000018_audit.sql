-- The audit trail: security-relevant actions, who did them and from where. Rows are only ever
-- added; no code path updates or deletes them. actor is who it was in words at the time (a
-- user renamed later stays as they were); actor_id is NULL for the system and for sign-ins
-- that named nobody known.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       BIGINT NOT NULL,
    actor_id BIGINT,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '',
    ip       TEXT
);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
