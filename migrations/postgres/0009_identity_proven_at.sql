-- Issue 22 (kept in step with the other backend's 0009): one recent-proof rule. A
-- session remembers when its owner last proved who they are (signing in, the password,
-- a code of an active method); sensitive actions ask for a proof only when none is
-- recent (setting session.reauth_seconds). It replaces the code check that Regenerate
-- used to remember.
ALTER TABLE sessions RENAME COLUMN mfa_confirmed_at TO identity_proven_at;
