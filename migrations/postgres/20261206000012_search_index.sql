-- Full-text search, PostgreSQL's way (SQLite's file of the same name does it its way; the
-- shape test lets this one file differ). search_docs gets a stored tsvector computed with an
-- explicit configuration ('english'::regconfig, so the expression is immutable and the GIN
-- index is used), searched with websearch_to_tsquery. Everything but letters and digits is
-- read as a space first, as SQLite's tokenizer does: PostgreSQL's parser would otherwise keep
-- "invoice-2291.pdf", "rita@example.com" or "312-555-0142" as single tokens that no word of
-- theirs finds; search_people gets a trigram index
-- (pg_trgm, a trusted extension) for any part of a name, an address or a phone number.
-- Triggers keep both in step in the transaction that writes the message, attachment, note,
-- customer or identifier, whichever path writes it.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE search_docs ADD COLUMN tsv tsvector
    GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig, regexp_replace(body, '[^[:alnum:]]+', ' ', 'g'))
    ) STORED;
CREATE INDEX search_docs_tsv ON search_docs USING gin (tsv);
-- More lexemes in the statistics: a word missing from them is taken as rare (see
-- store::search::rare), so the list should hold every word that is not.
ALTER TABLE search_docs ALTER COLUMN tsv SET STATISTICS 1000;
CREATE INDEX search_people_trgm ON search_people USING gin (lower(body) gin_trgm_ops);

CREATE FUNCTION search_doc_id(at BIGINT, id BIGINT, note BIGINT) RETURNS BIGINT
    LANGUAGE sql IMMUTABLE AS
$$ SELECT (at / 1000 - 946684800) * 2147483648 + (id % 1073741824) * 2 + note $$;

CREATE FUNCTION search_people_body(cid BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS
$$ SELECT c.name || COALESCE((SELECT ' | ' || string_agg(i.label || ' ' || i.value, ' | ')
                              FROM identifiers i WHERE i.customer_id = cid), '')
   FROM customers c WHERE c.id = cid $$;

CREATE FUNCTION search_messages_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_docs (id, kind, ref_id, conversation_id, direction, channel, at, files, body)
        VALUES (search_doc_id(NEW.created_at, NEW.id, 0), 'message', NEW.id, NEW.conversation_id,
                NEW.direction, NEW.channel, NEW.created_at, 0,
                substr(COALESCE(NEW.subject || ' ', '') || NEW.body_text, 1, 20000));
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE search_docs SET conversation_id = NEW.conversation_id
        WHERE id = search_doc_id(OLD.created_at, OLD.id, 0);
    ELSE
        DELETE FROM search_docs WHERE id = search_doc_id(OLD.created_at, OLD.id, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_messages_ai AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION search_messages_trigger();
CREATE TRIGGER search_messages_moved AFTER UPDATE OF conversation_id ON messages
    FOR EACH ROW EXECUTE FUNCTION search_messages_trigger();
CREATE TRIGGER search_messages_ad AFTER DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION search_messages_trigger();

CREATE FUNCTION search_attachments_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_docs SET files = 1, body = substr(body || ' ' || NEW.filename, 1, 20300)
    WHERE id = (SELECT search_doc_id(m.created_at, m.id, 0) FROM messages m WHERE m.id = NEW.message_id);
    RETURN NULL;
END $$;
CREATE TRIGGER search_attachments_ai AFTER INSERT ON attachments
    FOR EACH ROW WHEN (NEW.content_id IS NULL) EXECUTE FUNCTION search_attachments_trigger();

CREATE FUNCTION search_notes_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_docs (id, kind, ref_id, conversation_id, direction, channel, at, files, body)
        VALUES (search_doc_id(NEW.created_at, NEW.id, 1), 'note', NEW.id, NEW.conversation_id,
                'note', NULL, NEW.created_at, 0, substr(COALESCE(NEW.body, ''), 1, 20000));
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE search_docs SET conversation_id = NEW.conversation_id
        WHERE id = search_doc_id(OLD.created_at, OLD.id, 1);
    ELSE
        DELETE FROM search_docs WHERE id = search_doc_id(OLD.created_at, OLD.id, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_notes_ai AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.kind = 'note') EXECUTE FUNCTION search_notes_trigger();
CREATE TRIGGER search_notes_moved AFTER UPDATE OF conversation_id ON events
    FOR EACH ROW WHEN (NEW.kind = 'note') EXECUTE FUNCTION search_notes_trigger();
CREATE TRIGGER search_notes_ad AFTER DELETE ON events
    FOR EACH ROW WHEN (OLD.kind = 'note') EXECUTE FUNCTION search_notes_trigger();

CREATE FUNCTION search_customers_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_people (customer_id, body) VALUES (NEW.id, NEW.name);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE search_people SET body = search_people_body(NEW.id) WHERE customer_id = NEW.id;
    ELSE
        DELETE FROM search_people WHERE customer_id = OLD.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_customers_ai AFTER INSERT ON customers
    FOR EACH ROW EXECUTE FUNCTION search_customers_trigger();
CREATE TRIGGER search_customers_au AFTER UPDATE OF name ON customers
    FOR EACH ROW EXECUTE FUNCTION search_customers_trigger();
CREATE TRIGGER search_customers_ad AFTER DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION search_customers_trigger();

CREATE FUNCTION search_identifiers_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE search_people SET body = search_people_body(OLD.customer_id)
        WHERE customer_id = OLD.customer_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE search_people SET body = search_people_body(NEW.customer_id)
        WHERE customer_id = NEW.customer_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER search_identifiers_ai AFTER INSERT ON identifiers
    FOR EACH ROW EXECUTE FUNCTION search_identifiers_trigger();
CREATE TRIGGER search_identifiers_au AFTER UPDATE OF customer_id, value, label ON identifiers
    FOR EACH ROW EXECUTE FUNCTION search_identifiers_trigger();
CREATE TRIGGER search_identifiers_ad AFTER DELETE ON identifiers
    FOR EACH ROW EXECUTE FUNCTION search_identifiers_trigger();
