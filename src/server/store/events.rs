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

/// Which events of an account one page of the log shows.
#[derive(Clone, Debug, Default)]
pub struct Filter<'a> {
    /// Only these kinds (a category); `None`: every kind.
    pub kinds: Option<&'a [&'a str]>,
    /// From this time on (Unix seconds, inclusive).
    pub from: Option<i64>,
    /// Before this time (exclusive).
    pub until: Option<i64>,
}

/// Where a page ends: the last event shown. The next page starts after it, in the
/// order newest first (time, then id), so events of the same second are neither
/// repeated nor skipped, whatever is written meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: i64,
}

/// The SQL condition and its parameters for an account's events under `filter`,
/// after `after`. Parameters are numbered from 1.
fn condition(
    user_id: i64,
    filter: &Filter,
    after: Option<Cursor>,
) -> (String, Vec<i64>, Vec<String>) {
    let mut ints = vec![user_id];
    let mut sql = String::from("user_id = $1");
    if let Some(from) = filter.from {
        ints.push(from);
        sql.push_str(&format!(" AND at >= ${}", ints.len()));
    }
    if let Some(until) = filter.until {
        ints.push(until);
        sql.push_str(&format!(" AND at < ${}", ints.len()));
    }
    if let Some(c) = after {
        ints.push(c.at);
        ints.push(c.id);
        let (a, i) = (ints.len() - 1, ints.len());
        // A row comparison: both databases walk the (user_id, at, id) index with it.
        sql.push_str(&format!(" AND (at, id) < (${a}, ${i})"));
    }
    let mut texts = Vec::new();
    if let Some(kinds) = filter.kinds {
        let first = ints.len() + 1;
        let marks: Vec<String> = (0..kinds.len())
            .map(|n| format!("${}", first + n))
            .collect();
        texts = kinds.iter().map(|k| k.to_string()).collect();
        if marks.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            sql.push_str(&format!(" AND kind IN ({})", marks.join(", ")));
        }
    }
    (sql, ints, texts)
}

/// One page of an account's log, newest first: at most `limit` events after `after`.
pub async fn page(
    db: &Db,
    user_id: i64,
    filter: &Filter<'_>,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let (cond, ints, texts) = condition(user_id, filter, after);
    let sql = format!(
        "SELECT * FROM security_events WHERE {cond} ORDER BY at DESC, id DESC LIMIT ${}",
        ints.len() + texts.len() + 1
    );
    let mut query = sqlx::query_as::<_, Event>(&sql);
    for v in &ints {
        query = query.bind(*v);
    }
    for t in &texts {
        query = query.bind(t.as_str());
    }
    query.bind(limit).fetch_all(db).await
}

/// Removes events older than `before` (the log's retention).
pub async fn prune(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM security_events WHERE at < $1")
        .bind(before)
        .execute(db)
        .await?
        .rows_affected())
}
