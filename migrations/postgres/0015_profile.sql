-- Issue 26 (kept in step with the other backend's 0015): Settings > Profile, the
-- email change, and what the security checklist reads.
-- The name shown in the header and in mails (NULL: none given).
ALTER TABLE users ADD COLUMN display_name TEXT;
-- The password's strength (zxcvbn score 0-4) when it was last set; NULL until known
-- (measured at the next sign-in for accounts older than this column).
ALTER TABLE users ADD COLUMN password_strength BIGINT;
-- When the owner last looked at Settings > Sessions.
ALTER TABLE users ADD COLUMN sessions_reviewed_at BIGINT;

-- Changes of an account's address: asked for in a session (verify_hash: the keyed
-- hash of the link mailed to the new address, single use, 24 hours), applied when
-- that link is used (undo_hash: the link mailed to the old address, 7 days), or
-- cancelled. At most one waits per account (a new request cancels the one before).
CREATE TABLE email_changes (
    id                BIGSERIAL PRIMARY KEY,
    user_id           BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    old_email         TEXT NOT NULL,
    new_email         TEXT NOT NULL,
    verify_hash       BYTEA NOT NULL UNIQUE,
    created_at        BIGINT NOT NULL,
    sent_at           BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    cancelled_at      BIGINT,
    applied_at        BIGINT,
    undo_hash         BYTEA UNIQUE,
    undo_expires_at   BIGINT,
    undone_at         BIGINT
);
CREATE INDEX email_changes_user ON email_changes (user_id);
