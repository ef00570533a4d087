use super::Db;
use sqlx::FromRow;

#[derive(Clone, Debug, FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub email: String,
    pub email_verified_at: Option<i64>,
    pub user_created_at: i64,
    pub password_changed_at: Option<i64>,
    /// The account's IP allowlist is on (its entries are then read and checked).
    pub allowlist_enabled: i64,
    pub time_zone: Option<String>,
    pub display_name: Option<String>,
}

pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: i64,
    /// When the person signed in: kept across session-id rotations, so the absolute
    /// limit counts from it.
    pub signed_in_at: i64,
    pub now: i64,
    pub expires_at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// Binds a session's values as $1 to $7, in the column order of the inserts below.
macro_rules! bind_session {
    ($query:expr, $s:expr) => {
        $query
            .bind($s.token_hash)
            .bind($s.user_id)
            .bind($s.signed_in_at)
            .bind($s.now)
            .bind($s.expires_at)
            .bind($s.ip)
            .bind($s.user_agent)
    };
}

pub async fn insert<'e, E>(exec: E, s: NewSession<'_>) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let (id,): (i64,) = bind_session!(
        sqlx::query_as(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, identity_proven_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $4) RETURNING id",
        ),
        s
    )
    .fetch_one(exec)
    .await?;
    Ok(id)
}

/// Inserts a session only when its account has no second factor on (an enabled
/// authenticator, an email or SMS code method, a passkey) and its credentials are still those
/// the sign-in checked (version $8): the session's values are $1 to $7, its user $2.
macro_rules! insert_unless_second_factor {
    () => {
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, identity_proven_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $4
         WHERE NOT EXISTS (SELECT 1 FROM totp_methods WHERE user_id = $2 AND enabled_at IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM code_methods WHERE user_id = $2)
           AND NOT EXISTS (SELECT 1 FROM passkeys WHERE user_id = $2)
           AND EXISTS (SELECT 1 FROM users WHERE id = $2 AND credential_version = $8)"
    };
}

/// The session of a sign-in that a password alone completes: inserted only when the
/// account has no second factor on. `None`: nothing was inserted, the sign-in needs its
/// second step. One statement: a method turned on before it began is always seen
/// (there is no gap between a check and the insert).
pub async fn insert_unless_second_factor<'e, E>(
    exec: E,
    s: NewSession<'_>,
    checked_version: i64,
) -> Result<Option<i64>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<(i64,)> = bind_session!(
        sqlx::query_as(concat!(insert_unless_second_factor!(), " RETURNING id")),
        s
    )
    .bind(checked_version)
    .fetch_optional(exec)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// The end of a sign-in by password, all in one transaction: the browser's old session
/// (`ended`) is deleted and, unless the account has a second factor on, the new
/// session is stored with its security-log entry, while the account's credentials are
/// still at `checked_version`. `Some(id)`: stored as session `id`. `None`: the sign-in
/// needs its second step, or its password is no longer the account's (the old session
/// is gone all the same).
///
/// On PostgreSQL this is one statement, so one round trip; SQLite, whose statements
/// never leave the process, runs the three in a transaction.
pub async fn start_for_sign_in(
    conn: &mut super::Conn,
    ended: Option<i64>,
    s: NewSession<'_>,
    checked_version: i64,
    entry: super::events::NewEvent<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    if super::Backend::of_connection(conn) == super::Backend::Postgres {
        let row: Option<(i64,)> = bind_session!(
            sqlx::query_as(concat!(
                "WITH ended AS (DELETE FROM sessions WHERE id = $9), started AS (",
                insert_unless_second_factor!(),
                " RETURNING id, user_id)
             INSERT INTO security_events (user_id, kind, at, ip, user_agent, detail)
             SELECT $10, $11, $12, $13, $14, $15 FROM started
             RETURNING (SELECT id FROM started)"
            )),
            s
        )
        .bind(checked_version)
        .bind(ended)
        .bind(entry.user_id)
        .bind(entry.kind)
        .bind(entry.at)
        .bind(entry.ip)
        .bind(entry.user_agent)
        .bind(entry.detail.to_string())
        .fetch_optional(&mut **conn)
        .await?;
        return Ok(row.map(|(id,)| id));
    }
    let mut tx = sqlx::Connection::begin(&mut **conn).await?;
    if let Some(id) = ended {
        delete(&mut *tx, id).await?;
    }
    let stored = insert_unless_second_factor(&mut *tx, s, checked_version).await?;
    if stored.is_some() {
        super::events::insert(&mut *tx, entry).await?;
    }
    tx.commit().await?;
    Ok(stored)
}

pub async fn by_token_hash(db: &Db, token_hash: &[u8]) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as::<_, SessionRow>(
        "SELECT s.id, s.user_id, s.created_at, s.last_seen_at, u.email, u.email_verified_at,
                u.created_at AS user_created_at, u.password_changed_at, u.allowlist_enabled,
                u.time_zone, u.display_name
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

pub async fn touch(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Ends a session; false when it had already ended.
pub async fn delete<'e, E>(exec: E, id: i64) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The owner of session `id` proved who they are at `now` (see `auth::identity`).
pub async fn prove_identity(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET identity_proven_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// When the owner of session `id` last proved who they are (a new session counts from
/// its sign-in or renewal).
pub async fn identity_proven_at(db: &Db, id: i64) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT identity_proven_at FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|r| r.0))
}

/// Whether a session (by id) has not ended.
pub async fn exists(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM sessions WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.is_some())
}

pub async fn count_for_user(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await?;
    Ok(n)
}

/// Removes sessions past their absolute expiry (idle ones are removed when next seen).
pub async fn delete_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?
        .rows_affected())
}

/// Ends every session of a user; with `except`, all but that one.
pub async fn delete_for_user(
    tx: &mut super::Tx<'_>,
    user_id: i64,
    except: Option<i64>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2")
        .bind(user_id)
        .bind(except)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// One session as the Sessions page lists it.
#[derive(Clone, Debug, FromRow)]
pub struct Listed {
    pub id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
}

/// A user's live sessions (not past their stored absolute expiry, signed in since
/// `signed_in_since` under the current setting, active since `active_since`), most
/// recently active first: the same rule the middleware applies to each request.
pub async fn list_for_user(
    db: &Db,
    user_id: i64,
    now: i64,
    signed_in_since: i64,
    active_since: i64,
) -> Result<Vec<Listed>, sqlx::Error> {
    sqlx::query_as::<_, Listed>(
        "SELECT id, created_at, last_seen_at, ip, user_agent FROM sessions
         WHERE user_id = $1 AND expires_at > $2 AND created_at > $3 AND last_seen_at > $4
         ORDER BY last_seen_at DESC, id DESC",
    )
    .bind(user_id)
    .bind(now)
    .bind(signed_in_since)
    .bind(active_since)
    .fetch_all(db)
    .await
}

/// Ends one session of `user_id` (never another user's); true when it existed.
pub async fn delete_of_user<'e, E>(exec: E, user_id: i64, id: i64) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Locks every session row of a user (in the order one scan of the index yields, the
/// same for every caller) and gives their ids: a change to a user's sessions first
/// makes sure, under the lock, that the session asking for it still exists.
pub async fn lock_for_user(tx: &mut super::Tx<'_>, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "UPDATE sessions SET last_seen_at = last_seen_at WHERE user_id = $1 RETURNING id",
    )
    .bind(user_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
