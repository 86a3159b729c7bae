-- Failed sign-in throttling, shared by every server process on the database and kept across
-- restarts. One row per key: `a:` + SHA-256 (hex) of the normalised, length-capped email, or
-- `i:` + the client's IP address. A key counts failures in a fixed window that starts at its
-- first failure; it is locked while `failures` has reached its limit and the window is open.
-- Rows whose window has closed are deleted; an open window (so an active lockout) never is.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL
);
CREATE INDEX login_throttle_window ON login_throttle (window_start);
