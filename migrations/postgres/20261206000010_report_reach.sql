-- Each report_daily row carries a version that changes with every write (a random 63-bit
-- number), so a process may keep the row's parsed entries and reuse them until it changes.
-- Rows written before have version 0, which is never kept; the rebuild asked for below
-- writes them all again.
ALTER TABLE report_daily ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- The reach tab's delivery table: messages sent in a range by channel, account and state.
CREATE INDEX messages_out_time ON messages (created_at, channel, channel_account_id, delivery_state, direction)
    WHERE direction = 'out';

-- Business hours (a weekly schedule in the reporting time zone, '' for none): every duration
-- is also counted inside them. A change of settings asks the reports worker for a rebuild.
ALTER TABLE report_settings ADD COLUMN business_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE report_settings ADD COLUMN rebuild_requested_at BIGINT;
ALTER TABLE report_episodes ADD COLUMN first_response_bh BIGINT;
ALTER TABLE report_episodes ADD COLUMN resolution_bh BIGINT;
ALTER TABLE report_episodes ADD COLUMN replies_bh TEXT NOT NULL DEFAULT '';

-- Customers known per identifier kind (the reach tab) and by preferred channel.
CREATE INDEX identifiers_kind_customer ON identifiers (kind, customer_id);
CREATE INDEX customers_preferred ON customers (preferred_channel) WHERE merged_into_id IS NULL;

-- The rollups gained rows (business hours, each customer's channel of choice): the reports
-- worker rebuilds them once.
UPDATE report_settings SET rebuild_requested_at = 1 WHERE EXISTS (SELECT 1 FROM report_daily);
