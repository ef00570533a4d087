//! Personal access tokens (only their keyed hashes) and the addresses they were used from.
use super::Db;
use sqlx::FromRow;

#[derive(Clone, Debug, FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
}

/// A token as one API request finds it, with that request counted.
#[derive(Clone, Debug, FromRow)]
pub struct UsedToken {
    pub id: i64,
    pub user_id: i64,
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Requests in the current minute, this one included.
    pub rate_count: i64,
    /// The address of the use before this one, when this request wrote a new one.
    pub prev_ip: Option<String>,
    pub last_used_ip: Option<String>,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str =
    "id, user_id, name, scopes, created_at, expires_at, revoked_at, last_used_at, last_used_ip";

pub struct NewToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub token_hash: &'a [u8],
    pub scopes: &'a str,
    pub now: i64,
    pub expires_at: Option<i64>,
}

/// Stores a token; `None` when the account already has a live token of that name.
pub async fn insert<'e, E>(exec: E, t: &NewToken<'_>) -> Result<Option<i64>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO access_tokens (user_id, name, token_hash, scopes, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, name) WHERE revoked_at IS NULL DO NOTHING
         RETURNING id",
    )
    .bind(t.user_id)
    .bind(t.name)
    .bind(t.token_hash)
    .bind(t.scopes)
    .bind(t.now)
    .bind(t.expires_at)
    .fetch_optional(exec)
    .await?;
    Ok(row.map(|r| r.0))
}

/// The account's tokens that are not revoked (expired ones included), newest first.
pub async fn live_of_user<'e, E>(exec: E, user_id: i64) -> Result<Vec<TokenRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM access_tokens WHERE user_id = $1 AND revoked_at IS NULL
         ORDER BY created_at DESC, id DESC"
    ))
    .bind(user_id)
    .fetch_all(exec)
    .await
}

/// Revokes one live token of the account, giving it (its name, permissions and
/// lifetime are what a regeneration keeps); `None` when there was none. One statement,
/// so that of two racing revocations one finds it. Its minute's count starts again, so
/// that the first refused use is the one logged.
pub async fn revoke<'e, E>(
    exec: E,
    user_id: i64,
    id: i64,
    now: i64,
) -> Result<Option<TokenRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "UPDATE access_tokens SET revoked_at = $3, rate_window = 0, rate_count = 0
         WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL
         RETURNING {COLUMNS}"
    ))
    .bind(user_id)
    .bind(id)
    .bind(now)
    .fetch_optional(exec)
    .await
}

/// How many tokens the account holds (not revoked).
pub async fn count_live<'e, E>(exec: E, user_id: i64) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM access_tokens WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(exec)
    .await?;
    Ok(n)
}

/// One API request's use of a token.
pub struct Use<'a> {
    pub token_hash: &'a [u8],
    pub now: i64,
    /// The start of the current minute.
    pub window: i64,
    pub ip: &'a str,
    /// "Last used" is written again after this many seconds (or from another address).
    pub last_used_every: i64,
    /// Requests a token may make in a minute.
    pub per_minute: i64,
}

/// Finds a token by its hash and counts this request, in one statement: the request
/// in the token's minute, always; and, only when the request is accepted (not revoked,
/// not expired, within the minute's allowance), "last used" when a minute has passed
/// or the address is another, with `prev_ip` set when the address changed. Revoked
/// and expired tokens are found too (their use is refused and logged by the caller).
pub async fn use_token(db: &Db, u: &Use<'_>) -> Result<Option<UsedToken>, sqlx::Error> {
    // $1 hash, $2 now, $3 window, $4 address, $5 last-used interval, $6 allowance.
    const ACCEPTED: &str = "(revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
        AND (CASE WHEN rate_window = $3 THEN rate_count + 1 ELSE 1 END) <= $6)";
    sqlx::query_as(&format!(
        "UPDATE access_tokens SET
             rate_count = CASE WHEN rate_window = $3 THEN rate_count + 1 ELSE 1 END,
             rate_window = $3,
             prev_ip = CASE WHEN {ACCEPTED} AND (last_used_ip IS NULL OR last_used_ip <> $4)
                 THEN COALESCE(last_used_ip, '') ELSE NULL END,
             last_used_at = CASE WHEN {ACCEPTED} AND (last_used_at IS NULL OR last_used_at <= $2 - $5
                 OR last_used_ip IS NULL OR last_used_ip <> $4) THEN $2 ELSE last_used_at END,
             last_used_ip = CASE WHEN {ACCEPTED} THEN $4 ELSE last_used_ip END
         WHERE token_hash = $1
         RETURNING id, user_id, scopes, expires_at, revoked_at, rate_count, prev_ip, last_used_ip, last_used_at"
    ))
    .bind(u.token_hash)
    .bind(u.now)
    .bind(u.window)
    .bind(u.ip)
    .bind(u.last_used_every)
    .bind(u.per_minute)
    .fetch_optional(db)
    .await
}

/// Records an address a token was used from; whether it is new for that token.
pub async fn add_address<'e, E>(
    exec: E,
    token_id: i64,
    ip: &str,
    now: i64,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "INSERT INTO access_token_addresses (token_id, ip, first_seen) VALUES ($1, $2, $3)
         ON CONFLICT (token_id, ip) DO NOTHING",
    )
    .bind(token_id)
    .bind(ip)
    .bind(now)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A live token's owner, scopes and expiry by its hash (introspection: reads only).
pub async fn by_hash(db: &Db, token_hash: &[u8]) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM access_tokens WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Tokens that expire within `within` seconds and were not reminded of yet, marked
/// as reminded in the same statement (so two instances never remind twice).
pub async fn take_due_reminders(
    db: &Db,
    now: i64,
    within: i64,
) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE access_tokens SET reminded_at = $1
         WHERE revoked_at IS NULL AND reminded_at IS NULL AND expires_at IS NOT NULL
           AND expires_at > $1 AND expires_at <= $1 + $2
         RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(within)
    .fetch_all(db)
    .await
}

/// Removes tokens revoked before `before`.
pub async fn prune_revoked(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM access_tokens WHERE revoked_at IS NOT NULL AND revoked_at < $1")
            .bind(before)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// Whether a token is still usable (not revoked, not expired).
pub async fn is_live(db: &Db, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM access_tokens WHERE id = $1 AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}

/// Revokes every live token of the account (a password reset: whoever had the
/// password may have made one); how many.
pub async fn revoke_all(
    tx: &mut super::Tx<'_>,
    user_id: i64,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE access_tokens SET revoked_at = $2, rate_window = 0, rate_count = 0
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}
