-- Several processes on one database. A lease names one piece of singleton work (a mailbox's
-- sync, the snooze wake-ups, the report rollups); the process named by holder does it until
-- expires_at, renewing well before. A process that dies stops renewing and another takes over.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Inbound payloads that failed for a passing reason wait before the next attempt, longer each
-- time; the same column is the claim a process holds while it works on a payload, so two
-- processes never work on one payload at once.
ALTER TABLE raw_inbound ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX raw_inbound_due ON raw_inbound (state, next_attempt_at, id);
