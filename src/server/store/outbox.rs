use super::Db;
use sqlx::FromRow;

#[derive(Clone, Debug, FromRow)]
pub struct StoredMail {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: i64,
}

pub async fn insert(
    db: &Db,
    to: &str,
    subject: &str,
    text: &str,
    html: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO outbox (to_addr, subject, text_body, html_body, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(to)
        .bind(subject)
        .bind(text)
        .bind(html)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn latest(db: &Db, limit: i64) -> Result<Vec<StoredMail>, sqlx::Error> {
    sqlx::query_as::<_, StoredMail>("SELECT * FROM outbox ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(db)
        .await
}
