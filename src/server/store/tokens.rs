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

/// A token as one API request finds it.
#[derive(Clone, Debug, FromRow)]
pub struct FoundToken {
    pub id: i64,
    pub user_id: i64,
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_ip: Option<String>,
    pub last_used_at: Option<i64>,
    /// The owner's IP allowlist is on.
    pub allowlist_enabled: i64,
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
/// so that of two racing revocations one finds it.
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
        "UPDATE access_tokens SET revoked_at = $3
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

/// A token by its keyed hash, as an API request needs it (revoked and expired ones
/// too: their use is refused and logged). Reads only.
pub async fn find(db: &Db, token_hash: &[u8]) -> Result<Option<FoundToken>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id, t.user_id, t.scopes, t.expires_at, t.revoked_at, t.last_used_ip,
                t.last_used_at, u.allowlist_enabled
         FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Reserves up to `want` of a live token's requests in the minute `window` for one
/// instance, never taking the minute's total past `per_minute`
/// ([`crate::server::domain::access_token::grant`], computed here in one statement so
/// that parallel reservations of several instances add up); how many it got, or
/// `None` when the token is revoked meanwhile.
pub async fn reserve(
    db: &Db,
    id: i64,
    window: i64,
    want: i64,
    per_minute: i64,
) -> Result<Option<i64>, sqlx::Error> {
    // $1 id, $2 window, $3 want, $4 allowance; `reserved` is what the minute has so far.
    const RESERVED: &str = "(CASE WHEN rate_window = $2 THEN rate_count ELSE 0 END)";
    let row: Option<(i64,)> = sqlx::query_as(&format!(
        "UPDATE access_tokens SET
             rate_granted = CASE WHEN {RESERVED} + $3 <= $4 THEN $3
                 WHEN {RESERVED} >= $4 THEN 0 ELSE $4 - {RESERVED} END,
             rate_count = CASE WHEN {RESERVED} + $3 <= $4 THEN {RESERVED} + $3
                 WHEN {RESERVED} >= $4 THEN {RESERVED} ELSE $4 END,
             rate_window = $2
         WHERE id = $1 AND revoked_at IS NULL
         RETURNING rate_granted"
    ))
    .bind(id)
    .bind(window)
    .bind(want)
    .bind(per_minute)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Writes "last used" (now, from `ip`) unless another request wrote it in the last
/// `every` seconds; `force` writes it anyway (a new address). Whether it wrote.
pub async fn touch<'e, E>(
    exec: E,
    id: i64,
    now: i64,
    ip: &str,
    every: i64,
    force: bool,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let due = if force {
        // Always true; names $4 so that both statements take the same arguments.
        "$4 IS NOT NULL"
    } else {
        "(last_used_at IS NULL OR last_used_at <= $2 - $4)"
    };
    let done = sqlx::query(&format!(
        "UPDATE access_tokens SET last_used_at = $2, last_used_ip = $3 WHERE id = $1 AND {due}"
    ))
    .bind(id)
    .bind(now)
    .bind(ip)
    .bind(every)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks that a refused use of the token (dead, or from outside its owner's IP
/// allowlist) is being logged, unless one was in the last `every` seconds; whether
/// this one is to be logged.
pub async fn refusal_to_log<'e, E>(
    exec: E,
    id: i64,
    now: i64,
    every: i64,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "UPDATE access_tokens SET refused_logged_at = $2
         WHERE id = $1 AND (refused_logged_at IS NULL OR refused_logged_at <= $2 - $3)",
    )
    .bind(id)
    .bind(now)
    .bind(every)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
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

/// Whether the token was used from this address before.
pub async fn address_known(db: &Db, token_id: i64, ip: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT token_id FROM access_token_addresses WHERE token_id = $1 AND ip = $2",
    )
    .bind(token_id)
    .bind(ip)
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
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
