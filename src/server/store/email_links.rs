//! Single-use emailed links, stored only as keyed hashes.
use super::{Db, Tx};

pub const VERIFY_EMAIL: &str = "verify_email";
pub const RESET_PASSWORD: &str = "reset_password";

pub async fn insert<'e, E>(
    exec: E,
    token_hash: &[u8],
    user_id: i64,
    purpose: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(purpose)
    .bind(now)
    .bind(expires_at)
    .execute(exec)
    .await?;
    Ok(())
}

/// Marks a live token used and gives its user; `None` when the token is unknown,
/// of another purpose, used or expired. Atomic: of two racing uses, one wins.
pub async fn consume(
    tx: &mut Tx<'_>,
    token_hash: &[u8],
    purpose: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE email_tokens SET used_at = $1
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $4
         RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.0))
}

/// The user a token belonged to, whatever its state (to tell "already used" apart).
pub async fn owner(
    db: &Db,
    token_hash: &[u8],
    purpose: &str,
) -> Result<Option<(i64, Option<i64>, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, used_at, expires_at FROM email_tokens WHERE token_hash = $1 AND purpose = $2")
        .bind(token_hash)
        .bind(purpose)
        .fetch_optional(db)
        .await
}

/// Uses up every outstanding token of a purpose for a user (after a password reset,
/// older reset links stop working).
pub async fn retire_all(
    tx: &mut Tx<'_>,
    user_id: i64,
    purpose: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE email_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(purpose)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes links used or expired before `before`: kept a while after, so that a late
/// click still hears "already used" or "expired" rather than "not valid".
pub async fn prune(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM email_tokens WHERE expires_at < $1 OR used_at < $2")
            .bind(before)
            .bind(before)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
