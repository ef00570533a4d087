use super::Db;
use crate::server::domain::throttle::State;

pub async fn get(db: &Db, key: &[u8]) -> Result<Option<State>, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT failures, last_failure FROM throttles WHERE key = ?")
            .bind(key)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(f, l)| State {
        failures: f.clamp(0, u32::MAX as i64) as u32,
        last_failure: l,
    }))
}

pub async fn put(db: &Db, key: &[u8], state: State) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO throttles (key, failures, last_failure) VALUES (?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure",
    )
    .bind(key)
    .bind(state.failures as i64)
    .bind(state.last_failure)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn clear(db: &Db, key: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttles WHERE key = ?")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}
