-- The security log read a page at a time, newest first (time, then id), and pruned
-- by age.
CREATE INDEX security_events_user_page ON security_events(user_id, at DESC, id DESC);
DROP INDEX security_events_user;
CREATE INDEX security_events_at ON security_events(at);
