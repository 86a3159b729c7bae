-- Website chat continuity: agents' chat answers the visitor left before seeing, sent on as one
-- email (the email message is email_message_id). A row per answer makes the follow-up happen
-- once, whichever process finds it.
CREATE TABLE chat_followups (
    message_id       BIGINT PRIMARY KEY REFERENCES messages (id),
    email_message_id BIGINT REFERENCES messages (id),
    created_at       BIGINT NOT NULL
);

-- The chat answers not yet seen, found without reading every message.
CREATE INDEX messages_chat_unseen ON messages (delivery_state, created_at)
    WHERE channel = 'chat' AND direction = 'out';

-- A customer's visitors by their id (whether any of them is still there), across chats.
CREATE INDEX chat_visitors_visitor ON chat_visitors (visitor, last_active_at);
