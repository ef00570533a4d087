//! Throttle counters. Every change is a compare-and-swap on the row, so requests that
//! race each other cannot both spend the same allowance.
use super::{Backend, Db};
use crate::server::domain::throttle::State;

pub async fn get<'e, E>(exec: E, key: &[u8]) -> Result<Option<State>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT failures, last_failure FROM throttles WHERE key = $1")
            .bind(key)
            .fetch_optional(exec)
            .await?;
    Ok(row.map(|(f, l)| State {
        failures: f.clamp(0, u32::MAX as i64) as u32,
        last_failure: l,
    }))
}

/// A transaction for counting attempts. On PostgreSQL its commit does not wait for the
/// disk (`synchronous_commit = off`, for this transaction only): a counter row that
/// every sign-in from one address updates is then locked for a round trip, not for a
/// flush, and the counts have the durability SQLite's `synchronous = NORMAL` gives them
/// (a crash of the machine may forget the last fraction of a second of counting; the
/// database stays consistent). Every other change keeps waiting for the disk.
/// (Both statements go in one round trip.)
pub async fn begin(conn: &mut sqlx::AnyConnection) -> Result<super::Tx<'_>, sqlx::Error> {
    match Backend::of_connection(conn) {
        Backend::Postgres => {
            sqlx::Connection::begin_with(conn, "BEGIN; SET LOCAL synchronous_commit TO OFF").await
        }
        Backend::Sqlite => sqlx::Connection::begin(conn).await,
    }
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

/// How many counters one call of the PostgreSQL functions takes (migration 0007).
const AT_ONCE: usize = 4;

/// [`count_within_allowance`] on every counter, in order, in one round trip and its own
/// transaction, all or nothing, on PostgreSQL (migration 0007). `Some(true)`: every
/// one was counted. `Some(false)`: one was past its allowance and nothing was counted.
/// `None`: not done here (SQLite, whose statements never leave the process, or more
/// counters than one call takes); the caller counts them in a transaction.
/// Counters are `(key, free, forget_after_secs)`.
pub async fn count_all_within_allowance(
    conn: &mut super::Conn,
    counters: &[(&[u8], u32, i64)],
    now: i64,
) -> Result<Option<bool>, sqlx::Error> {
    if Backend::of_connection(conn) != Backend::Postgres || counters.len() > AT_ONCE {
        return Ok(None);
    }
    let mut query = sqlx::query_scalar::<_, bool>(
        "SELECT throttles_count_within_allowance($1, $2, $3, $4, $5, $6, $7,
             $8, $9, $10, $11, $12, $13)",
    )
    .bind(now);
    for n in 0..AT_ONCE {
        let (key, free, forget) = match counters.get(n) {
            Some(&(key, free, forget)) => (Some(key), Some(free as i64), Some(forget)),
            None => (None, None, None),
        };
        query = query.bind(key).bind(free).bind(forget);
    }
    query.fetch_one(&mut **conn).await.map(Some)
}

/// After a right secret, on PostgreSQL: [`clear`] on each of `cleared`, then [`refund`]
/// on each of `refunded`, in one round trip and its own transaction (migration 0007).
/// False: not done here (SQLite, or more keys than one call takes).
pub async fn clear_and_refund_at_once(
    conn: &mut super::Conn,
    cleared: &[&[u8]],
    refunded: &[&[u8]],
) -> Result<bool, sqlx::Error> {
    const SLOTS: usize = 2;
    if Backend::of_connection(conn) != Backend::Postgres
        || cleared.len() > SLOTS
        || refunded.len() > SLOTS
    {
        return Ok(false);
    }
    let mut query = sqlx::query("SELECT throttles_succeeded($1, $2, $3, $4)");
    for keys in [cleared, refunded] {
        for n in 0..SLOTS {
            query = query.bind(keys.get(n).copied());
        }
    }
    query.execute(&mut **conn).await?;
    Ok(true)
}

/// The counters of several keys in one read (keys without a row are left out).
pub async fn get_many<'e, E>(exec: E, keys: &[&[u8]]) -> Result<Vec<(Vec<u8>, State)>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT key, failures, last_failure FROM throttles WHERE key IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query_as::<_, (Vec<u8>, i64, i64)>(&sql);
    for key in keys {
        query = query.bind(*key);
    }
    Ok(query
        .fetch_all(exec)
        .await?
        .into_iter()
        .map(|(key, f, l)| {
            (
                key,
                State {
                    failures: f.clamp(0, u32::MAX as i64) as u32,
                    last_failure: l,
                },
            )
        })
        .collect())
}

/// Replaces `seen` (what `get` returned) with `next`, only if nobody changed the row
/// in between. False means another request got there first: read again and decide again.
pub async fn swap<'e, E>(
    exec: E,
    key: &[u8],
    seen: Option<State>,
    next: State,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = match seen {
        None => {
            sqlx::query(
                "INSERT INTO throttles (key, failures, last_failure) VALUES ($1, $2, $3)
             ON CONFLICT(key) DO NOTHING",
            )
            .bind(key)
            .bind(next.failures as i64)
            .bind(next.last_failure)
            .execute(exec)
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
            .execute(exec)
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

/// Forgets a counter (an account's, after a right secret).
pub async fn clear<'e, E>(exec: E, key: &[u8]) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM throttles WHERE key = $1")
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}

/// Forgets counters untouched for longer than any policy remembers them.
///
/// On PostgreSQL, rows that a request holds right now are left for the next round:
/// a plain DELETE would lock the stale rows in the table's order and wait for a held
/// one while holding the others, and a sign-in that holds it and locks its rows in
/// its own order could be waiting for one of those (a deadlock, which PostgreSQL ends
/// by failing one side). SQLite has no row locks: its writers take turns.
pub async fn prune(db: &Db, older_than: i64) -> Result<u64, sqlx::Error> {
    let sql = match Backend::of(db) {
        Backend::Postgres => {
            "DELETE FROM throttles WHERE key IN
               (SELECT key FROM throttles WHERE last_failure < $1 FOR UPDATE SKIP LOCKED)"
        }
        Backend::Sqlite => "DELETE FROM throttles WHERE last_failure < $1",
    };
    Ok(sqlx::query(sql)
        .bind(older_than)
        .execute(db)
        .await?
        .rows_affected())
}
