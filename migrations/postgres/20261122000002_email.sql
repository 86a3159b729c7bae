-- Email channel: per-mailbox IMAP sync position, RFC Message-IDs for threading, per-message
-- channel metadata, and identifiers that were attached by threading rather than confirmed.

-- Where the sync of one mailbox stands. (uidvalidity, last_uid) makes the import resumable; when
-- the server's UIDVALIDITY changes the mailbox is read again and de-duplicated by Message-ID.
CREATE TABLE mailbox_sync (
    channel_account_id BIGINT PRIMARY KEY REFERENCES channel_accounts (id),
    folder             TEXT NOT NULL,
    uidvalidity        BIGINT,
    last_uid           BIGINT NOT NULL DEFAULT 0,
    phase              TEXT NOT NULL DEFAULT 'starting',
    total              BIGINT NOT NULL DEFAULT 0,
    done               BIGINT NOT NULL DEFAULT 0,
    detail             TEXT,
    last_success_at    BIGINT,
    updated_at         BIGINT NOT NULL
);

-- The RFC 5322 Message-ID (without angle brackets) of email messages, ours and theirs, so that
-- In-Reply-To and References find the conversation they answer.
ALTER TABLE messages ADD COLUMN rfc_message_id TEXT;
CREATE INDEX messages_rfc_message_id ON messages (rfc_message_id);

-- Channel-specific facts about a message as JSON (email: references, recipients, auto-reply kind).
ALTER TABLE messages ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';

-- Automatic mail (auto-replies, bulk, bounces) is shown but never reopens or triggers anything.
ALTER TABLE messages ADD COLUMN automatic BIGINT NOT NULL DEFAULT 0;

-- 0 when the identifier joined the customer because a message threaded to their conversation
-- (a reply from an address we did not know): shown to agents as a suggestion to confirm.
ALTER TABLE identifiers ADD COLUMN verified BIGINT NOT NULL DEFAULT 1;

CREATE INDEX raw_inbound_failed ON raw_inbound (channel_account_id, state);
