-- Identity: reversible merges of customers and merge suggestions.
--
-- A merge never deletes anything. The merged customer keeps its row (merged_into_id names the
-- survivor) and its conversation (empty while merged); its identifiers, messages and events
-- move to the survivor, and merge_moves lists exactly what moved so the merge can be undone.

ALTER TABLE customers ADD COLUMN merged_into_id BIGINT REFERENCES customers (id);
CREATE INDEX customers_merged_into ON customers (merged_into_id);
-- Same-name suggestions compare names case- and space-insensitively.
CREATE INDEX customers_name_key ON customers (LOWER(REPLACE(name, ' ', '')));

-- Identifiers that share a value across kinds (a phone and a WhatsApp number).
CREATE INDEX identifiers_value ON identifiers (value);

CREATE TABLE merges (
    id                   INTEGER PRIMARY KEY,
    survivor_id          BIGINT NOT NULL REFERENCES customers (id),
    merged_id            BIGINT NOT NULL REFERENCES customers (id),
    -- The merged customer had no conversation: one was made for the merge, and is removed
    -- again by the undo when it is still empty.
    created_conversation BIGINT NOT NULL DEFAULT 0,
    -- The 'merge' event on the survivor's timeline.
    event_id             BIGINT REFERENCES events (id),
    actor_user_id        BIGINT REFERENCES users (id),
    created_at           BIGINT NOT NULL,
    undone_at            BIGINT,
    undone_by            BIGINT REFERENCES users (id)
);
CREATE INDEX merges_merged ON merges (merged_id, undone_at);
CREATE INDEX merges_survivor ON merges (survivor_id, undone_at);

-- What one merge moved: identifier, message and event ids.
CREATE TABLE merge_moves (
    merge_id BIGINT NOT NULL REFERENCES merges (id),
    kind     TEXT NOT NULL CHECK (kind IN ('identifier', 'message', 'event')),
    item_id  BIGINT NOT NULL,
    PRIMARY KEY (merge_id, kind, item_id)
);

-- Suggestions that come from something that happened (an email reply threading into another
-- customer's conversation; an agent adding an identifier another customer holds). Suggestions
-- that follow from the data (shared identifiers, same name) are computed when shown.
-- customer_a < customer_b.
CREATE TABLE merge_suggestions (
    id         INTEGER PRIMARY KEY,
    customer_a BIGINT NOT NULL REFERENCES customers (id),
    customer_b BIGINT NOT NULL REFERENCES customers (id),
    reason     TEXT NOT NULL CHECK (reason IN ('threaded_reply', 'conflict')),
    detail     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (customer_a, customer_b, reason)
);
CREATE INDEX merge_suggestions_b ON merge_suggestions (customer_b);

-- An agent said two customers are different people: no suggestion pairs them again.
CREATE TABLE merge_dismissals (
    customer_a    BIGINT NOT NULL REFERENCES customers (id),
    customer_b    BIGINT NOT NULL REFERENCES customers (id),
    actor_user_id BIGINT REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (customer_a, customer_b)
);
