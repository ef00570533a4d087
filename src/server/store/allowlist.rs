//! The IP allowlist of an account: whether it is on, and its entries.
use super::{Db, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EntryRow {
    pub cidr: String,
    pub note: String,
}

/// Whether the list is on, and its entries in order.
pub async fn get(db: &Db, user_id: i64) -> Result<(bool, Vec<EntryRow>), sqlx::Error> {
    let (enabled,): (i64,) = sqlx::query_as("SELECT allowlist_enabled FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await?;
    let entries = entries(db, user_id).await?;
    Ok((enabled != 0, entries))
}

pub async fn entries(db: &Db, user_id: i64) -> Result<Vec<EntryRow>, sqlx::Error> {
    sqlx::query_as("SELECT cidr, note FROM allowlist_entries WHERE user_id = $1 ORDER BY position")
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// Replaces the whole list and its switch. The account's row is written first, so
/// that parallel saves take turns and each leaves one whole list.
pub async fn replace(
    tx: &mut Tx<'_>,
    user_id: i64,
    enabled: bool,
    entries: &[(String, String)],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET allowlist_enabled = $2 WHERE id = $1")
        .bind(user_id)
        .bind(i64::from(enabled))
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM allowlist_entries WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for (i, (cidr, note)) in entries.iter().enumerate() {
        sqlx::query(
            "INSERT INTO allowlist_entries (user_id, position, cidr, note) VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(i as i64)
        .bind(cidr)
        .bind(note)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Turns the list off (a password reset by link: no owner is locked out for good);
/// whether it was on.
pub async fn disable<'e, E>(exec: E, user_id: i64) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "UPDATE users SET allowlist_enabled = 0 WHERE id = $1 AND allowlist_enabled <> 0",
    )
    .bind(user_id)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims the hour's notice about refused addresses; whether this caller tells.
pub async fn claim_tell(db: &Db, user_id: i64, now: i64, every: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET allowlist_told_at = $2
         WHERE id = $1 AND (allowlist_told_at IS NULL OR allowlist_told_at <= $2 - $3)",
    )
    .bind(user_id)
    .bind(now)
    .bind(every)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
