-- The customer's preference center (issue 18). What they choose per channel and purpose is
-- consent (consent_events, source 'preference_center'); the rest is kept on the customer:
-- quiet hours in their time zone (customers.time_zone), minutes after local midnight (from
-- equal to until: none), and a most for marketing messages over a number of days.
ALTER TABLE customers ADD COLUMN quiet_from BIGINT;
ALTER TABLE customers ADD COLUMN quiet_until BIGINT;
ALTER TABLE customers ADD COLUMN marketing_max BIGINT;
ALTER TABLE customers ADD COLUMN marketing_days BIGINT;

-- Codes sent to an address the customer adds on the page: kept as SHA-256 hashes, for 15
-- minutes and 5 tries; used_at once it was confirmed.
CREATE TABLE preference_codes (
    id          INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX preference_codes_customer ON preference_codes (customer_id, id);
