//! Passkeys (the public credential; nothing secret) and the WebAuthn ceremonies under
//! way (their state, server side only, each taken once).
use super::{Db, Tx};
use sqlx::FromRow;

#[derive(Clone, Debug, FromRow)]
pub struct PasskeyRow {
    pub id: i64,
    pub user_id: i64,
    pub credential_id: Vec<u8>,
    /// The credential as webauthn-rs keeps it (JSON).
    pub credential: String,
    pub name: String,
    pub sign_count: i64,
    pub backed_up: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str =
    "id, user_id, credential_id, credential, name, sign_count, backed_up, created_at, last_used_at";

/// The account's passkeys, oldest first.
pub async fn for_user<'e, E>(exec: E, user_id: i64) -> Result<Vec<PasskeyRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
    ))
    .bind(user_id)
    .fetch_all(exec)
    .await
}

/// How many passkeys the account has, under a lock on the account's row
/// ([`super::users::lock`]): two passkeys added at once are counted one after the other.
pub async fn lock_count(tx: &mut Tx<'_>, user_id: i64) -> Result<i64, sqlx::Error> {
    super::users::lock(tx, user_id).await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n)
}

pub struct NewPasskey<'a> {
    pub user_id: i64,
    pub credential_id: &'a [u8],
    pub credential: &'a str,
    pub name: &'a str,
    pub aaguid: &'a str,
    pub resident_key: bool,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub sign_count: u32,
    pub now: i64,
}

/// Stores a new passkey; `None` when that credential is already registered (to this
/// account or another).
pub async fn insert(tx: &mut Tx<'_>, p: &NewPasskey<'_>) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO passkeys (user_id, credential_id, credential, name, aaguid, resident_key,
                               backup_eligible, backed_up, sign_count, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (credential_id) DO NOTHING
         RETURNING id",
    )
    .bind(p.user_id)
    .bind(p.credential_id)
    .bind(p.credential)
    .bind(p.name)
    .bind(p.aaguid)
    .bind(i64::from(p.resident_key))
    .bind(i64::from(p.backup_eligible))
    .bind(i64::from(p.backed_up))
    .bind(i64::from(p.sign_count))
    .bind(p.now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// After a sign-in with it: the credential as updated (counter, backup state) and when.
/// Only while the stored counter is still the one the check was made against (two
/// assertions judged at once cannot both move it): false otherwise.
pub async fn record_use<'e, E>(
    exec: E,
    id: i64,
    checked_count: i64,
    credential: &str,
    sign_count: u32,
    backed_up: bool,
    now: i64,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "UPDATE passkeys SET credential = $1, sign_count = $2, backed_up = $3, last_used_at = $4
         WHERE id = $5 AND sign_count = $6",
    )
    .bind(credential)
    .bind(i64::from(sign_count))
    .bind(i64::from(backed_up))
    .bind(now)
    .bind(id)
    .bind(checked_count)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the passkey is still registered (read inside the transaction that uses it).
pub async fn still_there<'e, E>(exec: E, id: i64) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM passkeys WHERE id = $1")
        .bind(id)
        .fetch_optional(exec)
        .await?;
    Ok(row.is_some())
}

/// Renames one of the account's passkeys; false when it has no such passkey.
pub async fn rename(db: &Db, user_id: i64, id: i64, name: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes one of the account's passkeys; its name when there was one.
pub async fn delete(tx: &mut Tx<'_>, user_id: i64, id: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(n,)| n))
}

/// The account's WebAuthn user handle, made (random) the first time it is asked for.
pub async fn user_handle(db: &Db, user_id: i64, fresh: &str) -> Result<String, sqlx::Error> {
    sqlx::query("UPDATE users SET webauthn_handle = $1 WHERE id = $2 AND webauthn_handle IS NULL")
        .bind(fresh)
        .bind(user_id)
        .execute(db)
        .await?;
    let (h,): (String,) = sqlx::query_as("SELECT webauthn_handle FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await?;
    Ok(h)
}

/// The account a user handle names.
pub async fn user_by_handle(db: &Db, handle: &str) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE webauthn_handle = $1")
        .bind(handle)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// Keeps a ceremony's state until it finishes (or expires).
pub async fn put_ceremony(
    db: &Db,
    kind: &str,
    bound_to: &str,
    user_id: Option<i64>,
    state: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (kind, bound_to, user_id, state, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(kind)
    .bind(bound_to)
    .bind(user_id)
    .bind(state)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, FromRow)]
pub struct Ceremony {
    pub user_id: Option<i64>,
    pub state: String,
    pub created_at: i64,
}

/// Takes the newest ceremony of `kind` bound to `bound_to`: it is deleted by the one
/// request that gets it (a conditional DELETE), so a ceremony finishes at most once.
/// Older ones bound to the same go too (a new "Add a passkey" replaces the one before).
pub async fn take_ceremony(
    db: &Db,
    kind: &str,
    bound_to: &str,
) -> Result<Option<Ceremony>, sqlx::Error> {
    let row: Option<Ceremony> = sqlx::query_as(
        "DELETE FROM webauthn_ceremonies
         WHERE id = (SELECT MAX(id) FROM webauthn_ceremonies WHERE kind = $1 AND bound_to = $2)
         RETURNING user_id, state, created_at",
    )
    .bind(kind)
    .bind(bound_to)
    .fetch_optional(db)
    .await?;
    if row.is_some() {
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE kind = $1 AND bound_to = $2")
            .bind(kind)
            .bind(bound_to)
            .execute(db)
            .await?;
    }
    Ok(row)
}

/// Housekeeping: ceremonies past their time.
pub async fn delete_expired_ceremonies(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
