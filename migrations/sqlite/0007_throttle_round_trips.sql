-- Kept in step with migrations/postgres/0007: PostgreSQL gets functions that count
-- attempts in one round trip each. SQLite sends the same statements one by one (they
-- never leave the process), so its schema does not change.
SELECT 1;
