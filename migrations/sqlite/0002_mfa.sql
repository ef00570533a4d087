-- Multi-factor authentication: authenticator apps, recovery codes, half-done sign-ins.

-- One authenticator app per account; enabled_at is NULL while set-up is unfinished.
CREATE TABLE totp_methods (
    user_id        INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed  BLOB    NOT NULL,
    enabled_at     INTEGER,
    last_step      INTEGER,
    created_at     INTEGER NOT NULL
);

-- Recovery codes: sealed (so they can be shown again) and keyed-hashed (for lookup).
CREATE TABLE recovery_codes (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    code_sealed  BLOB    NOT NULL,
    code_hash    BLOB    NOT NULL UNIQUE,
    used_at      INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- A correct password for an account with MFA: waiting for the second factor.
CREATE TABLE pending_sign_ins (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB    NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    next        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0
);

-- When this session last passed a fresh second-factor check (recovery-code view).
ALTER TABLE sessions ADD COLUMN mfa_confirmed_at INTEGER;
