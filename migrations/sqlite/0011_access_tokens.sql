-- Issue 24 (kept in step with the other backend's 0011): personal access tokens.
-- Only a keyed hash of a token is stored. A revoked (or regenerated) token keeps its
-- row, so that its use is refused and logged as such, until housekeeping removes it.
-- One statement per API request finds the token, counts the request in its minute
-- (rate_window, rate_count) and writes "last used" when a minute has passed or the
-- address changed (prev_ip holds the address before it, to log a new one).
CREATE TABLE access_tokens (
    -- AUTOINCREMENT: a pruned token's id is never given to another (the log names ids).
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    token_hash    BLOB    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER,
    last_used_ip  TEXT,
    prev_ip       TEXT,
    rate_window   INTEGER NOT NULL DEFAULT 0,
    rate_count    INTEGER NOT NULL DEFAULT 0,
    reminded_at   INTEGER
);
CREATE INDEX access_tokens_user ON access_tokens(user_id);
CREATE UNIQUE INDEX access_tokens_live_name ON access_tokens(user_id, name) WHERE revoked_at IS NULL;

-- The addresses a token has been used from (its first use from a new one is logged).
CREATE TABLE access_token_addresses (
    token_id    INTEGER NOT NULL REFERENCES access_tokens(id) ON DELETE CASCADE,
    ip          TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (token_id, ip)
);
