-- Issue 25 (kept in step with the other backend's 0014): the IP allowlist.
-- Whether it is on, and when the owner was last told of a refused address.
ALTER TABLE users ADD COLUMN allowlist_enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN allowlist_told_at BIGINT;

-- Its entries in the order the owner put them: an address or a range (CIDR, as
-- ipnet writes it) and a note.
CREATE TABLE allowlist_entries (
    user_id   BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    cidr      TEXT NOT NULL,
    note      TEXT NOT NULL,
    PRIMARY KEY (user_id, position)
);
