-- Each report_daily row carries a version that changes with every write (a random 63-bit
-- number), so a process may keep the row's parsed entries and reuse them until it changes.
ALTER TABLE report_daily ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
UPDATE report_daily SET version = floor(random() * 9000000000000000000)::bigint + 1;

-- The reach tab's delivery table: messages sent in a range by channel, account and state.
CREATE INDEX messages_out_time ON messages (created_at, channel, channel_account_id, delivery_state)
    WHERE direction = 'out';
