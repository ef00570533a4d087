use super::{Db, Tx};
use sqlx::FromRow;

#[derive(Clone, Debug, FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub email_verified_at: Option<i64>,
    pub password_changed_at: Option<i64>,
    pub created_at: i64,
    /// Changed by every change of the password or a factor.
    pub credential_version: i64,
    /// Set by a reset through an emailed link, until a sign-in completes with a method
    /// other than Email Code.
    pub reset_by_link_at: Option<i64>,
    /// The password's strength (zxcvbn score) when it was set, once known.
    pub password_strength: Option<i64>,
}

pub async fn by_email<'e, E>(exec: E, email: &str) -> Result<Option<User>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as::<_, User>("SELECT * FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(exec)
        .await
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as::<_, User>("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Inserts a user unless the email is taken; `None` when it was.
pub async fn insert(
    tx: &mut Tx<'_>,
    email: &str,
    password_hash: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT(email) DO NOTHING RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.0))
}

pub async fn mark_verified(tx: &mut Tx<'_>, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email_verified_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces a hash of the same password by a fresh one (new pepper, parameters or
/// normalisation), only if it is still the one that was checked: a password changed in
/// the meantime is not overwritten.
pub async fn rehash(db: &Db, id: i64, old_hash: &str, new_hash: &str) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new_hash)
            .bind(id)
            .bind(old_hash)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a new password hash (and, after a reset by email, marks the address verified).
pub async fn set_password(
    tx: &mut Tx<'_>,
    id: i64,
    password_hash: &str,
    now: i64,
    verify_email: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2,
                email_verified_at = CASE WHEN $3 AND email_verified_at IS NULL THEN $4 ELSE email_verified_at END
         WHERE id = $5",
    )
    .bind(password_hash)
    .bind(now)
    .bind(verify_email)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every stored password hash (a rekey counts those under a previous secret).
pub async fn password_hashes(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT password_hash FROM users")
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|(h,)| h).collect())
}

/// Locks the account's row for the rest of the transaction (a write, so that on SQLite
/// the transaction holds the write lock from here): two changes of one account that
/// count something first (recovery codes, passkeys) go one after the other.
pub async fn lock(tx: &mut Tx<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET credential_version = credential_version WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A change of credentials (the password, a factor) is under way: sign-ins that checked
/// the old ones can no longer store a session.
pub async fn bump_credential_version(tx: &mut Tx<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET credential_version = credential_version + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The password was reset through an emailed link (see `User::reset_by_link_at`).
pub async fn mark_reset_by_link(tx: &mut Tx<'_>, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET reset_by_link_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A sign-in completed with a method other than Email Code: email codes count again.
pub async fn clear_reset_by_link<'e, E>(exec: E, id: i64) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE users SET reset_by_link_at = NULL WHERE id = $1 AND reset_by_link_at IS NOT NULL",
    )
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}
