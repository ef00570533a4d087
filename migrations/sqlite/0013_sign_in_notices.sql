-- Issue 25 (kept in step with the other backend's 0013): new sign-in notices.
-- The three switches of Settings > Notifications, on by default.
ALTER TABLE users ADD COLUMN notify_new_device   INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_new_location INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_new_browser  INTEGER NOT NULL DEFAULT 1;
-- The IANA time zone the owner's browser last reported (notices give the time in it).
ALTER TABLE users ADD COLUMN time_zone TEXT;

-- The browsers that signed in to an account, by a keyed hash of the id in their
-- device cookie (a random id the server set; never a fingerprint).
CREATE TABLE known_devices (
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_hash  BLOB NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);

-- What the account's sign-ins came from: each browser (family and OS) and place (a
-- country code, or "code/city" with a City database), with when it was last seen.
-- One row per browser or place, not per sign-in; kept 400 days (a device cookie's life).
CREATE TABLE sign_in_seen (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);

-- When a device (its cookie's keyed hash, or without a cookie the browser and
-- address's) was last sent a new sign-in notice: at most one a day.
CREATE TABLE notice_devices (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_key    BLOB NOT NULL,
    last_sent_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_key)
);

-- The notices' single-use "This wasn't me" links (keyed hashes only), each naming the
-- session it signs out and what the notice said about the sign-in.
CREATE TABLE sign_in_notices (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    link_hash     BLOB NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id    INTEGER NOT NULL,
    signed_in_at  INTEGER NOT NULL,
    ip            TEXT NOT NULL,
    place         TEXT NOT NULL,
    browser       TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
