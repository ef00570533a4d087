//! Throttle counters. Every change is a compare-and-swap on the row, so requests that
//! race each other cannot both spend the same allowance.
use super::Db;
use crate::server::domain::throttle::State;

pub async fn get(db: &Db, key: &[u8]) -> Result<Option<State>, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT failures, last_failure FROM throttles WHERE key = $1")
            .bind(key)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(f, l)| State {
        failures: f.clamp(0, u32::MAX as i64) as u32,
        last_failure: l,
    }))
}

/// Counts one attempt in a single statement when the counter allows it without any
/// reading: the row is missing, or it holds fewer than `free` failures that are not yet
/// forgotten. True: counted (the policy allows it). False: nothing changed; the caller
/// decides with [`get`] and [`swap`]. Atomic on both databases, so racing requests on
/// a hot counter (one address signing many people in) need no retries here.
pub async fn count_within_allowance<'e, E>(
    exec: E,
    key: &[u8],
    free: u32,
    forget_after_secs: i64,
    now: i64,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "INSERT INTO throttles (key, failures, last_failure) VALUES ($1, 1, $2)
         ON CONFLICT(key) DO UPDATE SET failures = throttles.failures + 1,
             last_failure = excluded.last_failure
         WHERE throttles.failures < $3
           AND excluded.last_failure - throttles.last_failure < $4",
    )
    .bind(key)
    .bind(now)
    .bind(free as i64)
    .bind(forget_after_secs)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces `seen` (what `get` returned) with `next`, only if nobody changed the row
/// in between. False means another request got there first: read again and decide again.
pub async fn swap(
    db: &Db,
    key: &[u8],
    seen: Option<State>,
    next: State,
) -> Result<bool, sqlx::Error> {
    let done = match seen {
        None => {
            sqlx::query(
                "INSERT INTO throttles (key, failures, last_failure) VALUES ($1, $2, $3)
             ON CONFLICT(key) DO NOTHING",
            )
            .bind(key)
            .bind(next.failures as i64)
            .bind(next.last_failure)
            .execute(db)
            .await?
        }
        Some(seen) => {
            sqlx::query(
                "UPDATE throttles SET failures = $1, last_failure = $2
             WHERE key = $3 AND failures = $4 AND last_failure = $5",
            )
            .bind(next.failures as i64)
            .bind(next.last_failure)
            .bind(key)
            .bind(seen.failures as i64)
            .bind(seen.last_failure)
            .execute(db)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// Gives back one counted attempt (it turned out to be a success, or was never made).
pub async fn refund<'e, E>(exec: E, key: &[u8]) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE throttles SET failures = failures - 1 WHERE key = $1 AND failures > 0")
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}

/// Forgets two counters (an account's, after a right secret).
pub async fn clear_two<'e, E>(exec: E, first: &[u8], second: &[u8]) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM throttles WHERE key = $1 OR key = $2")
        .bind(first)
        .bind(second)
        .execute(exec)
        .await?;
    Ok(())
}

/// Forgets counters untouched for longer than any policy remembers them.
pub async fn prune(db: &Db, older_than: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM throttles WHERE last_failure < $1")
        .bind(older_than)
        .execute(db)
        .await?
        .rows_affected())
}
