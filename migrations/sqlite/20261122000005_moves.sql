-- Moving a conversation to another channel, and files sent as links on channels that cannot
-- carry them.

-- Where an agent moved the conversation ("Move conversation to…"): the reply option chosen
-- by default until the customer writes on another channel after moved_at. No foreign keys:
-- an identifier may be removed later, and a move to an option that no longer exists is ignored.
ALTER TABLE conversations ADD COLUMN moved_account_id BIGINT;
ALTER TABLE conversations ADD COLUMN moved_identifier_id BIGINT;
ALTER TABLE conversations ADD COLUMN moved_at BIGINT;

-- An expiring, unguessable link to one attachment: GET /files/{token}. Only the SHA-256 (hex)
-- of the 32-byte random token is stored; the token itself is only in the message text.
CREATE TABLE file_links (
    id            INTEGER PRIMARY KEY,
    token_sha256  TEXT NOT NULL UNIQUE,
    attachment_id BIGINT NOT NULL REFERENCES attachments (id),
    message_id    BIGINT NOT NULL REFERENCES messages (id),
    expires_at    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX file_links_message ON file_links (message_id);
