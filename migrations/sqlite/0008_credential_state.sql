-- Issue 22 (kept in step with the other backend's 0008).
-- credential_version: changed by every change of the password or of a factor; a
-- sign-in stores its session (or its pending second step) only while the version it
-- checked the password against is still the account's.
-- reset_by_link_at: set by a password reset through an emailed link; while set, and
-- while the account has another method than Email Code on, an email code neither
-- completes a sign-in nor proves identity. Cleared by a sign-in completed with
-- another method (or a recovery code).
ALTER TABLE users ADD COLUMN credential_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN reset_by_link_at BIGINT;
