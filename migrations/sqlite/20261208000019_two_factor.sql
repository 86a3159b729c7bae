-- Two-factor sign-in (TOTP, RFC 6238). totp_secret is the confirmed shared secret (base32);
-- totp_pending the one being set up, until the user confirms it with a code; totp_last_step the
-- last time step a code was accepted for, so a code works once.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- One-time recovery codes, kept as SHA-256 hashes; a used one keeps its row with used_at.
CREATE TABLE recovery_codes (
    id        INTEGER PRIMARY KEY,
    user_id   BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    UNIQUE (user_id, code_hash)
);

-- The roles that must sign in with two factors (an admin's choice; every role for everyone).
CREATE TABLE two_factor_policy (
    role     TEXT PRIMARY KEY,
    required BIGINT NOT NULL DEFAULT 0
);
