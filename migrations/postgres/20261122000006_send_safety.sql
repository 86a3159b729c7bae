-- Never send the wrong thing.

-- Each draft carries an idempotency key from the composer: a double submit or a retried request
-- stores one message. NULL (automatic answers, older rows) never conflicts.
ALTER TABLE messages ADD COLUMN draft_key TEXT;
CREATE UNIQUE INDEX messages_draft_key ON messages (conversation_id, draft_key);

-- Who wrote the list's preview: the agent of the last outbound message (NULL: automatic), and
-- the identifier of the last inbound one (the list says when it is unverified). No foreign
-- keys, like the other summary columns.
ALTER TABLE conversations ADD COLUMN last_author_id BIGINT;
ALTER TABLE conversations ADD COLUMN last_identifier_id BIGINT;
UPDATE conversations SET
    last_author_id = (SELECT m.author_user_id FROM messages m
                      WHERE m.conversation_id = conversations.id AND m.automatic = 0
                      ORDER BY m.created_at DESC, m.id DESC LIMIT 1),
    last_identifier_id = (SELECT m.identifier_id FROM messages m
                          WHERE m.conversation_id = conversations.id AND m.automatic = 0
                          ORDER BY m.created_at DESC, m.id DESC LIMIT 1);
