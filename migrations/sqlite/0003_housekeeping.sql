-- When housekeeping last ran. Instances that share the database claim this one row
-- with a conditional update, so they take turns instead of doing the work together.
CREATE TABLE housekeeping (
    id        INTEGER PRIMARY KEY,
    last_run  INTEGER NOT NULL
);
INSERT INTO housekeeping (id, last_run) VALUES (1, 0);
