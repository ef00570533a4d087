//! Turns at housekeeping for instances that share one database.
use super::Db;

/// Claims this round of housekeeping: true for exactly one caller among those that
/// ask at once, and only when the last round is at least `gap` seconds old.
pub async fn claim(db: &Db, now: i64, gap: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE housekeeping SET last_run = $1 WHERE id = 1 AND last_run <= $2")
        .bind(now)
        .bind(now - gap)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
