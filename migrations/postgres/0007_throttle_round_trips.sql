-- Attempt counting in one round trip each on PostgreSQL, where every statement sent
-- costs a round trip to the server. Each function runs the statements the store would
-- otherwise send one by one (see src/server/store/throttles.rs), in the same order, so
-- rows are locked in the same order; called outside a transaction, each is its own
-- transaction, and, like the counting transactions, it does not wait for the disk
-- (inside a transaction of the caller's, that whole transaction would not wait: the
-- store calls them on a connection of the pool, never inside one).
-- SQLite keeps sending them one by one: its "round trips" stay in the process.
-- Up to four counters per call; an unused slot is NULL.

-- Counts one attempt on each counter in order, each only within its free allowance
-- (the statement of count_within_allowance). True: every one was counted. False: one
-- was not, and nothing was counted (the caller then decides counter by counter).
CREATE FUNCTION throttles_count_within_allowance(
    p_now BIGINT,
    k1 BYTEA, free1 BIGINT, forget1 BIGINT,
    k2 BYTEA, free2 BIGINT, forget2 BIGINT,
    k3 BYTEA, free3 BIGINT, forget3 BIGINT,
    k4 BYTEA, free4 BIGINT, forget4 BIGINT
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    keys   BYTEA[]  := ARRAY[k1, k2, k3, k4];
    frees  BIGINT[] := ARRAY[free1, free2, free3, free4];
    forget BIGINT[] := ARRAY[forget1, forget2, forget3, forget4];
    counted BIGINT;
BEGIN
    -- A counter already past its allowance (a throttled request, most of a storm):
    -- answered by this read alone, without locking or writing a row.
    IF EXISTS (SELECT 1 FROM throttles t JOIN unnest(keys, frees, forget) AS c(k, f, g)
               ON t.key = c.k
               WHERE NOT (t.failures < c.f AND p_now - t.last_failure < c.g)) THEN
        RETURN FALSE;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);
    BEGIN
        FOR i IN 1 .. 4 LOOP
            CONTINUE WHEN keys[i] IS NULL;
            INSERT INTO throttles (key, failures, last_failure) VALUES (keys[i], 1, p_now)
            ON CONFLICT (key) DO UPDATE SET failures = throttles.failures + 1,
                last_failure = excluded.last_failure
            WHERE throttles.failures < frees[i]
              AND excluded.last_failure - throttles.last_failure < forget[i];
            GET DIAGNOSTICS counted = ROW_COUNT;
            IF counted <> 1 THEN
                -- Undoes every count of this block.
                RAISE EXCEPTION 'past the allowance' USING ERRCODE = 'LK001';
            END IF;
        END LOOP;
    EXCEPTION WHEN SQLSTATE 'LK001' THEN
        RETURN FALSE;
    END;
    RETURN TRUE;
END
$$;

-- A right secret: forgets the account's counters (cleared) and gives the others one
-- attempt back (refunded), in that order.
CREATE FUNCTION throttles_succeeded(
    clear1 BYTEA, clear2 BYTEA, refund1 BYTEA, refund2 BYTEA
) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    k BYTEA;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOREACH k IN ARRAY ARRAY[clear1, clear2] LOOP
        CONTINUE WHEN k IS NULL;
        DELETE FROM throttles WHERE key = k;
    END LOOP;
    FOREACH k IN ARRAY ARRAY[refund1, refund2] LOOP
        CONTINUE WHEN k IS NULL;
        UPDATE throttles SET failures = failures - 1 WHERE key = k AND failures > 0;
    END LOOP;
END
$$;
