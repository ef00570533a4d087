-- Issue 27 (kept in step with the other backend's 0016): passkeys (WebAuthn).
-- The account's WebAuthn user handle: random (never the account id or address), made
-- when its first passkey is added; a discoverable credential names its account by it.
ALTER TABLE users ADD COLUMN webauthn_handle TEXT;
CREATE UNIQUE INDEX users_webauthn_handle ON users (webauthn_handle);

-- An account's passkeys: credential_id as the authenticator gave it (public), the
-- credential as webauthn-rs keeps it (public key, counter, backup flags: JSON), the
-- signature counter and backup flags as the page and the log read them.
CREATE TABLE passkeys (
    id             BIGSERIAL PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id  BYTEA NOT NULL UNIQUE,
    credential     TEXT NOT NULL,
    name           TEXT NOT NULL,
    aaguid         TEXT,
    resident_key   BIGINT NOT NULL,
    backup_eligible BIGINT NOT NULL,
    backed_up      BIGINT NOT NULL,
    sign_count     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A WebAuthn ceremony under way (adding a passkey, signing in with one): the state
-- webauthn-rs needs to finish it (the challenge), kept here and never in the browser;
-- single use (taken by a conditional DELETE), 5 minutes. bound_to names what it
-- belongs to: "session:<id>", "pending:<id>" (the second step of a sign-in) or
-- "browser:<keyed hash>" (a passkey sign-in, to the random id the browser was given).
CREATE TABLE webauthn_ceremonies (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    bound_to    TEXT NOT NULL,
    user_id     BIGINT REFERENCES users(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_bound ON webauthn_ceremonies (bound_to);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
