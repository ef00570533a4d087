-- Issue 24 (kept in step with the other backend's 0012): an API request no longer
-- writes its token's row. Each instance reserves a share of the token's minute from
-- the row (rate_window, rate_count: requests reserved in that minute; rate_granted:
-- what the last reservation got) and counts its own requests in memory; "last used"
-- is written at most once a minute, and a refused use of a dead token is logged at
-- most once a minute (refused_logged_at). prev_ip is no longer needed.
ALTER TABLE access_tokens ADD COLUMN rate_granted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE access_tokens ADD COLUMN refused_logged_at BIGINT;
ALTER TABLE access_tokens DROP COLUMN prev_ip;
