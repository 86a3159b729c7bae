-- Full-text search, SQLite's way (PostgreSQL's file of the same name does it its way; the
-- shape test lets this one file differ). FTS5 indexes search_docs (external content: the
-- text is kept once) with the Porter stemmer, and search_people with trigrams, so any three
-- characters of a name, an address or a phone number find the customer. Triggers keep both
-- in step in the transaction that writes the message, attachment, note, customer or
-- identifier, whichever path writes it.

CREATE VIRTUAL TABLE search_fts USING fts5(
    body, content = 'search_docs', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO search_fts (search_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE people_fts USING fts5(
    body, content = 'search_people', content_rowid = 'customer_id', tokenize = 'trigram'
);
INSERT INTO people_fts (people_fts) VALUES ('rebuild');

CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE OF body ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER search_people_ai AFTER INSERT ON search_people BEGIN
    INSERT INTO people_fts (rowid, body) VALUES (new.customer_id, new.body);
END;
CREATE TRIGGER search_people_ad AFTER DELETE ON search_people BEGIN
    INSERT INTO people_fts (people_fts, rowid, body) VALUES ('delete', old.customer_id, old.body);
END;
CREATE TRIGGER search_people_au AFTER UPDATE OF body ON search_people BEGIN
    INSERT INTO people_fts (people_fts, rowid, body) VALUES ('delete', old.customer_id, old.body);
    INSERT INTO people_fts (rowid, body) VALUES (new.customer_id, new.body);
END;

-- Messages: the subject and text; attachments add their file names (inline images do not).
CREATE TRIGGER search_messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO search_docs (id, kind, ref_id, conversation_id, direction, channel, at, files, body)
    VALUES ((new.created_at / 1000 - 946684800) * 2147483648 + (new.id % 1073741824) * 2,
            'message', new.id, new.conversation_id, new.direction, new.channel, new.created_at, 0,
            substr(COALESCE(new.subject || ' ', '') || new.body_text, 1, 20000));
END;
CREATE TRIGGER search_messages_moved AFTER UPDATE OF conversation_id ON messages BEGIN
    UPDATE search_docs SET conversation_id = new.conversation_id
    WHERE id = (old.created_at / 1000 - 946684800) * 2147483648 + (old.id % 1073741824) * 2;
END;
CREATE TRIGGER search_messages_ad AFTER DELETE ON messages BEGIN
    DELETE FROM search_docs
    WHERE id = (old.created_at / 1000 - 946684800) * 2147483648 + (old.id % 1073741824) * 2;
END;
CREATE TRIGGER search_attachments_ai AFTER INSERT ON attachments WHEN new.content_id IS NULL BEGIN
    UPDATE search_docs SET files = 1, body = substr(body || ' ' || new.filename, 1, 20300)
    WHERE id = (SELECT (m.created_at / 1000 - 946684800) * 2147483648 + (m.id % 1073741824) * 2
                FROM messages m WHERE m.id = new.message_id);
END;

-- Private notes.
CREATE TRIGGER search_notes_ai AFTER INSERT ON events WHEN new.kind = 'note' BEGIN
    INSERT INTO search_docs (id, kind, ref_id, conversation_id, direction, channel, at, files, body)
    VALUES ((new.created_at / 1000 - 946684800) * 2147483648 + (new.id % 1073741824) * 2 + 1,
            'note', new.id, new.conversation_id, 'note', NULL, new.created_at, 0,
            substr(COALESCE(new.body, ''), 1, 20000));
END;
CREATE TRIGGER search_notes_moved AFTER UPDATE OF conversation_id ON events WHEN new.kind = 'note' BEGIN
    UPDATE search_docs SET conversation_id = new.conversation_id
    WHERE id = (old.created_at / 1000 - 946684800) * 2147483648 + (old.id % 1073741824) * 2 + 1;
END;
CREATE TRIGGER search_notes_ad AFTER DELETE ON events WHEN old.kind = 'note' BEGIN
    DELETE FROM search_docs
    WHERE id = (old.created_at / 1000 - 946684800) * 2147483648 + (old.id % 1073741824) * 2 + 1;
END;

-- Customers: the name and every identifier.
CREATE TRIGGER search_customers_ai AFTER INSERT ON customers BEGIN
    INSERT INTO search_people (customer_id, body) VALUES (new.id, new.name);
END;
CREATE TRIGGER search_customers_au AFTER UPDATE OF name ON customers BEGIN
    UPDATE search_people SET body = new.name
        || COALESCE((SELECT ' | ' || string_agg(i.label || ' ' || i.value, ' | ')
                     FROM identifiers i WHERE i.customer_id = new.id), '')
    WHERE customer_id = new.id;
END;
CREATE TRIGGER search_customers_ad AFTER DELETE ON customers BEGIN
    DELETE FROM search_people WHERE customer_id = old.id;
END;
CREATE TRIGGER search_identifiers_ai AFTER INSERT ON identifiers BEGIN
    UPDATE search_people SET body = (SELECT c.name FROM customers c WHERE c.id = new.customer_id)
        || COALESCE((SELECT ' | ' || string_agg(i.label || ' ' || i.value, ' | ')
                     FROM identifiers i WHERE i.customer_id = new.customer_id), '')
    WHERE customer_id = new.customer_id;
END;
CREATE TRIGGER search_identifiers_au AFTER UPDATE OF customer_id, value, label ON identifiers BEGIN
    UPDATE search_people SET body = (SELECT c.name FROM customers c WHERE c.id = search_people.customer_id)
        || COALESCE((SELECT ' | ' || string_agg(i.label || ' ' || i.value, ' | ')
                     FROM identifiers i WHERE i.customer_id = search_people.customer_id), '')
    WHERE customer_id IN (old.customer_id, new.customer_id);
END;
CREATE TRIGGER search_identifiers_ad AFTER DELETE ON identifiers BEGIN
    UPDATE search_people SET body = (SELECT c.name FROM customers c WHERE c.id = old.customer_id)
        || COALESCE((SELECT ' | ' || string_agg(i.label || ' ' || i.value, ' | ')
                     FROM identifiers i WHERE i.customer_id = old.customer_id), '')
    WHERE customer_id = old.customer_id;
END;
