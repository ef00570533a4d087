-- Accounts, sessions, emailed links, throttling, the security log and the dev outbox.
-- Times are Unix seconds, UTC.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    email               TEXT    NOT NULL UNIQUE,
    password_hash       TEXT    NOT NULL,
    email_verified_at   INTEGER,
    password_changed_at INTEGER,
    created_at          INTEGER NOT NULL
);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    BLOB    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ip            TEXT    NOT NULL,
    user_agent    TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Single-use links sent by email (verification now; password resets later).
CREATE TABLE email_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB    NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX email_tokens_user ON email_tokens(user_id, purpose);

-- Failure counters for throttling; the key is a keyed hash, never an address or email.
CREATE TABLE throttles (
    key           BLOB    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  INTEGER NOT NULL
);

CREATE TABLE security_events (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    ip          TEXT    NOT NULL,
    user_agent  TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX security_events_user ON security_events(user_id, at);

-- The development outbox: mail kept instead of sent.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    to_addr     TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    text_body   TEXT    NOT NULL,
    html_body   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
