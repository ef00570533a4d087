//! Second factors that send codes (`code_methods`) and the codes sent (`sent_codes`).
use super::{Db, Tx};
use crate::server::domain::sent_code::{Channel, CodePurpose, Stored};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MethodRow {
    pub channel: String,
    pub destination: Option<String>,
    pub enabled_at: i64,
}

/// The account's enabled code methods.
pub async fn methods(db: &Db, user_id: i64) -> Result<Vec<MethodRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT channel, destination, enabled_at FROM code_methods WHERE user_id = $1
         ORDER BY channel",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

pub async fn method(
    db: &Db,
    user_id: i64,
    channel: Channel,
) -> Result<Option<MethodRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT channel, destination, enabled_at FROM code_methods
         WHERE user_id = $1 AND channel = $2",
    )
    .bind(user_id)
    .bind(channel.as_str())
    .fetch_optional(db)
    .await
}

/// Turns a method on; false when it was on already (a racing request got there first).
pub async fn enable(
    tx: &mut Tx<'_>,
    user_id: i64,
    channel: Channel,
    destination: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO code_methods (user_id, channel, destination, enabled_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT(user_id, channel) DO NOTHING",
    )
    .bind(user_id)
    .bind(channel.as_str())
    .bind(destination)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns a method off; false when it was off already.
pub async fn disable(tx: &mut Tx<'_>, user_id: i64, channel: Channel) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM code_methods WHERE user_id = $1 AND channel = $2")
        .bind(user_id)
        .bind(channel.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a new code for (account, purpose, channel), replacing the one before, but
/// only when the one before was sent at or before `resend_from`. `Err(sent_at)` gives
/// the time of the send that is still too recent. One statement, so that racing
/// sends cannot both pass the interval.
#[allow(clippy::too_many_arguments)]
pub async fn put(
    db: &Db,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
    code_hash: &[u8],
    destination: Option<&str>,
    now: i64,
    expires_at: i64,
    resend_from: i64,
) -> Result<Result<(), i64>, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO sent_codes (user_id, purpose, channel, code_hash, sent_at, expires_at, failures, destination)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $8)
         ON CONFLICT(user_id, purpose, channel) DO UPDATE SET code_hash = excluded.code_hash,
             sent_at = excluded.sent_at, expires_at = excluded.expires_at, failures = 0,
             destination = excluded.destination
         WHERE sent_codes.sent_at <= $7",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(channel.as_str())
    .bind(code_hash)
    .bind(now)
    .bind(expires_at)
    .bind(resend_from)
    .bind(destination)
    .execute(db)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(Ok(()));
    }
    Ok(Err(sent_at(db, user_id, purpose, channel)
        .await?
        .unwrap_or(now)))
}

/// When the live code for (account, purpose, channel) was sent, if there is one.
pub async fn sent_at(
    db: &Db,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<Option<i64>, sqlx::Error> {
    Ok(sent_and_expiry(db, user_id, purpose, channel)
        .await?
        .map(|(sent, _)| sent))
}

/// When the live code for (account, purpose, channel) was sent and when it expires.
pub async fn sent_and_expiry(
    db: &Db,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sent_at, expires_at FROM sent_codes WHERE user_id = $1 AND purpose = $2 AND channel = $3",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(channel.as_str())
    .fetch_optional(db)
    .await
}

/// Where the live code went, when it went to a number being verified.
pub async fn destination(
    db: &Db,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT destination FROM sent_codes WHERE user_id = $1 AND purpose = $2 AND channel = $3",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(channel.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|r| r.0))
}

/// When the live code expires, if there is one.
pub async fn expires_at(
    db: &Db,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<Option<i64>, sqlx::Error> {
    Ok(sent_and_expiry(db, user_id, purpose, channel)
        .await?
        .map(|(_, expires)| expires))
}

/// What a try at the code finds: `None` when no code was sent; otherwise the code with
/// this try counted (racing tries are counted one by one). A code past its tries is
/// not counted further.
pub async fn attempt(
    db: &Db,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
    max_failures: i64,
) -> Result<Option<Stored>, sqlx::Error> {
    let counted: Option<(Vec<u8>, i64, i64)> = sqlx::query_as(
        "UPDATE sent_codes SET failures = failures + 1
         WHERE user_id = $1 AND purpose = $2 AND channel = $3 AND failures <= $4
         RETURNING code_hash, expires_at, failures",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(channel.as_str())
    .bind(max_failures)
    .fetch_optional(db)
    .await?;
    let row = match counted {
        Some(row) => Some(row),
        None => {
            sqlx::query_as(
                "SELECT code_hash, expires_at, failures FROM sent_codes
                 WHERE user_id = $1 AND purpose = $2 AND channel = $3",
            )
            .bind(user_id)
            .bind(purpose.as_str())
            .bind(channel.as_str())
            .fetch_optional(db)
            .await?
        }
    };
    Ok(row.map(|(code_hash, expires_at, failures)| Stored {
        code_hash,
        expires_at,
        failures,
    }))
}

/// Uses up the code with this hash; `Some` (with where the code went) only for the
/// one request that did, so a code raced by several requests is accepted once.
pub async fn consume(
    db: &Db,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
    code_hash: &[u8],
) -> Result<Option<Option<String>>, sqlx::Error> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "DELETE FROM sent_codes
         WHERE user_id = $1 AND purpose = $2 AND channel = $3 AND code_hash = $4
         RETURNING destination",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(channel.as_str())
    .bind(code_hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Forgets a code (a send that failed, a method turned off).
pub async fn forget<'e, E>(
    exec: E,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM sent_codes WHERE user_id = $1 AND purpose = $2 AND channel = $3")
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(channel.as_str())
        .execute(exec)
        .await?;
    Ok(())
}

/// Every code of an account on a channel (inside the caller's transaction).
pub async fn forget_channel(
    tx: &mut Tx<'_>,
    user_id: i64,
    channel: Channel,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sent_codes WHERE user_id = $1 AND channel = $2")
        .bind(user_id)
        .bind(channel.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Removes codes that expired before `before`.
pub async fn prune(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sent_codes WHERE expires_at < $1")
        .bind(before)
        .execute(db)
        .await?
        .rows_affected())
}

/// The second factor last used to sign in ("totp", "email", "sms", "recovery_code",
/// "passkey").
pub async fn last_second_factor(db: &Db, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT last_second_factor FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|r| r.0))
}

pub async fn set_last_second_factor<'e, E>(
    exec: E,
    user_id: i64,
    method: &str,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE users SET last_second_factor = $1 WHERE id = $2")
        .bind(method)
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(())
}
