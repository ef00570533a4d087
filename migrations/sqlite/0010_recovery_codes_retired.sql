-- Issue 22 (kept in step with the other backend's 0010): recovery codes of the old
-- 10-character format (about 50 bits) stop being accepted. At start-up the server
-- removes them (`server::upgrade`), marks their owners here and mails each owner to
-- regenerate; the Security page says so until they do.
ALTER TABLE users ADD COLUMN recovery_codes_retired_at BIGINT;
