-- Second factors that send a one-time code: by email (and, later, by SMS).

-- An enabled method; destination is the phone number for SMS, NULL for email (codes go
-- to the account's address).
CREATE TABLE code_methods (
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel      TEXT    NOT NULL,
    destination  TEXT,
    enabled_at   BIGINT  NOT NULL,
    PRIMARY KEY (user_id, channel)
);

-- Codes sent: a keyed hash only, one live code per account, purpose and channel (a
-- resend replaces it), with its own count of wrong tries.
CREATE TABLE sent_codes (
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose      TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    code_hash    BYTEA   NOT NULL,
    sent_at      BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    failures     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, purpose, channel)
);
CREATE INDEX sent_codes_expires ON sent_codes(expires_at);

-- The second factor last used to sign in, offered first next time.
ALTER TABLE users ADD COLUMN last_second_factor TEXT;
