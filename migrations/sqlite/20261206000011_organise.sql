-- Labels, saved views, canned responses, and the rows full-text search reads.

-- Labels an admin keeps; agents put them on conversations. `colour` names one of the palette's
-- colours (domain::labels), so every label reads well on the page.
CREATE TABLE labels (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL UNIQUE,
    colour     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE conversation_labels (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    label_id        BIGINT NOT NULL REFERENCES labels (id),
    added_by        BIGINT REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label ON conversation_labels (label_id, conversation_id);

-- A saved view: a named search (its words and filters, as typed). `owner_id` NULL: shared.
CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY,
    owner_id   BIGINT REFERENCES users (id),
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    position   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX saved_views_owner ON saved_views (owner_id);

-- A canned response: `shortcut` is what an agent types after `/` in the composer.
-- `owner_id` NULL: shared with everyone.
CREATE TABLE canned_responses (
    id         INTEGER PRIMARY KEY,
    owner_id   BIGINT REFERENCES users (id),
    shortcut   TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX canned_responses_owner ON canned_responses (owner_id, shortcut);

-- What search reads: one row per message and private note. `id` orders the rows by time
-- (the second of `at` since 2000, then the message's or note's id, then 1 for a note), so the
-- newest hits come first straight from the index. Triggers (next migration) keep it in step
-- with messages, attachments and notes in the transaction that writes them.
CREATE TABLE search_docs (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    ref_id          BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    direction       TEXT NOT NULL,
    channel         TEXT,
    at              BIGINT NOT NULL,
    files           BIGINT NOT NULL DEFAULT 0,
    body            TEXT NOT NULL
);
CREATE INDEX search_docs_conversation ON search_docs (conversation_id, id);
-- Filters without words ("is:note", "from:agent", "has:attachment") walk these, newest first.
CREATE INDEX search_docs_direction ON search_docs (direction, id);
CREATE INDEX search_docs_files ON search_docs (id) WHERE files = 1;

-- One row per customer: the name and every identifier, as written and as stored.
CREATE TABLE search_people (
    customer_id INTEGER PRIMARY KEY,
    body        TEXT NOT NULL
);

INSERT INTO search_docs (id, kind, ref_id, conversation_id, direction, channel, at, files, body)
SELECT (m.created_at / 1000 - 946684800) * 2147483648 + (m.id % 1073741824) * 2,
       'message', m.id, m.conversation_id, m.direction, m.channel, m.created_at,
       CASE WHEN EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id AND a.content_id IS NULL)
            THEN 1 ELSE 0 END,
       substr(COALESCE(m.subject || ' ', '') || m.body_text
              || COALESCE((SELECT ' ' || string_agg(a.filename, ' ') FROM attachments a
                           WHERE a.message_id = m.id AND a.content_id IS NULL), ''), 1, 20000)
FROM messages m;

INSERT INTO search_docs (id, kind, ref_id, conversation_id, direction, channel, at, files, body)
SELECT (e.created_at / 1000 - 946684800) * 2147483648 + (e.id % 1073741824) * 2 + 1,
       'note', e.id, e.conversation_id, 'note', NULL, e.created_at, 0, substr(COALESCE(e.body, ''), 1, 20000)
FROM events e WHERE e.kind = 'note';

INSERT INTO search_people (customer_id, body)
SELECT c.id, c.name || COALESCE((SELECT ' | ' || string_agg(i.label || ' ' || i.value, ' | ')
                                 FROM identifiers i WHERE i.customer_id = c.id), '')
FROM customers c;
