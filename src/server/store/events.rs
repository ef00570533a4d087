//! The security log. Details are JSON written by the server, never a secret.
use super::Db;
use sqlx::FromRow;

#[derive(Clone, Debug, FromRow)]
pub struct Event {
    pub id: i64,
    pub user_id: Option<i64>,
    pub kind: String,
    pub at: i64,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
}

pub struct NewEvent<'a> {
    pub user_id: Option<i64>,
    pub kind: &'a str,
    pub at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub detail: serde_json::Value,
}

pub async fn insert<'e, E>(exec: E, e: NewEvent<'_>) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO security_events (user_id, kind, at, ip, user_agent, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(e.user_id)
        .bind(e.kind)
        .bind(e.at)
        .bind(e.ip)
        .bind(e.user_agent)
        .bind(e.detail.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn for_user(db: &Db, user_id: i64) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as::<_, Event>("SELECT * FROM security_events WHERE user_id = $1 ORDER BY id")
        .bind(user_id)
        .fetch_all(db)
        .await
}

pub async fn all(db: &Db) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as::<_, Event>("SELECT * FROM security_events ORDER BY id")
        .fetch_all(db)
        .await
}
