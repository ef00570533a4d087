//! Authenticator secrets, recovery codes and pending sign-ins.
use super::{Db, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TotpRow {
    pub secret_sealed: Vec<u8>,
    pub enabled_at: Option<i64>,
    pub last_step: Option<i64>,
}

pub async fn totp(db: &Db, user_id: i64) -> Result<Option<TotpRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT secret_sealed, enabled_at, last_step FROM totp_methods WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Status {
    pub totp_enabled_at: Option<i64>,
    pub recovery_codes_left: i64,
    pub email_enabled_at: Option<i64>,
    pub sms_enabled_at: Option<i64>,
    pub sms_number: Option<String>,
    pub recovery_codes_retired_at: Option<i64>,
    /// How many passkeys (the list is read only when there are any).
    pub passkeys: i64,
}

/// When each second factor was turned on (`None`: off), in one query: the
/// authenticator, Email Code, SMS Code.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct Enabled {
    pub totp: Option<i64>,
    pub email: Option<i64>,
    pub sms: Option<i64>,
    /// When the account's first passkey (still there) was added.
    pub passkey: Option<i64>,
}

pub async fn enabled(db: &Db, user_id: i64) -> Result<Enabled, sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT enabled_at FROM totp_methods WHERE user_id = $1) AS totp,
                (SELECT enabled_at FROM code_methods WHERE user_id = $1 AND channel = 'email')
                    AS email,
                (SELECT enabled_at FROM code_methods WHERE user_id = $1 AND channel = 'sms')
                    AS sms,
                (SELECT MIN(created_at) FROM passkeys WHERE user_id = $1) AS passkey",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// What the Security page shows, in one query: when the authenticator was enabled
/// (if it is), how many recovery codes are still unused, and when Email Code was
/// turned on (if it is).
pub async fn status(db: &Db, user_id: i64) -> Result<Status, sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT enabled_at FROM totp_methods WHERE user_id = $1) AS totp_enabled_at,
                (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)
                    AS recovery_codes_left,
                (SELECT enabled_at FROM code_methods WHERE user_id = $1 AND channel = 'email')
                    AS email_enabled_at,
                (SELECT enabled_at FROM code_methods WHERE user_id = $1 AND channel = 'sms')
                    AS sms_enabled_at,
                (SELECT destination FROM code_methods WHERE user_id = $1 AND channel = 'sms')
                    AS sms_number,
                (SELECT recovery_codes_retired_at FROM users WHERE id = $1)
                    AS recovery_codes_retired_at,
                (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) AS passkeys",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// Starts (or restarts) set-up: a new secret, not enabled. An enabled method is kept.
pub async fn put_pending_totp(
    db: &Db,
    user_id: i64,
    secret_sealed: &[u8],
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO totp_methods (user_id, secret_sealed, created_at) VALUES ($1, $2, $3)
         ON CONFLICT(user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed,
             created_at = excluded.created_at, last_step = NULL
         WHERE totp_methods.enabled_at IS NULL",
    )
    .bind(user_id)
    .bind(secret_sealed)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a used time step; false when that step (or a later one) was used already.
/// Atomic: of two racing uses of one code, one wins.
pub async fn use_step<'e, E>(exec: E, user_id: i64, step: i64) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query("UPDATE totp_methods SET last_step = $1 WHERE user_id = $2 AND (last_step IS NULL OR last_step < $3)")
        .bind(step)
        .bind(user_id)
        .bind(step)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns a set-up that is waiting for its first code on; false when there is none
/// (never started, or already on).
/// Turns on the waiting authenticator secret, only if it is still `checked_secret` (the
/// sealed secret a code was just checked against): a second "Enable" that replaced it
/// meanwhile turns nothing on. False: nothing was turned on.
pub async fn enable_totp(
    tx: &mut Tx<'_>,
    user_id: i64,
    now: i64,
    checked_secret: &[u8],
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE totp_methods SET enabled_at = $1
         WHERE user_id = $2 AND enabled_at IS NULL AND secret_sealed = $3",
    )
    .bind(now)
    .bind(user_id)
    .bind(checked_secret)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_totp(tx: &mut Tx<'_>, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM totp_methods WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CodeRow {
    pub id: i64,
    pub code_sealed: Vec<u8>,
    pub code_hash: Vec<u8>,
    pub used_at: Option<i64>,
}

pub async fn recovery_codes(db: &Db, user_id: i64) -> Result<Vec<CodeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, code_sealed, code_hash, used_at FROM recovery_codes WHERE user_id = $1 ORDER BY position",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// The accounts holding recovery codes whose sealed length is one of `lengths` (the
/// old format's).
pub async fn owners_of_codes_sealed_as(
    db: &Db,
    lengths: &[i64; 2],
) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT user_id FROM recovery_codes
         WHERE length(code_sealed) = $1 OR length(code_sealed) = $2 ORDER BY 1",
    )
    .bind(lengths[0])
    .bind(lengths[1])
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Removes a user's recovery codes whose sealed length is one of `lengths` and, when
/// there were any (another instance starting at the same time may have been first),
/// marks the account (the Security page asks to regenerate). How many were removed.
pub async fn retire_codes_sealed_as(
    tx: &mut Tx<'_>,
    user_id: i64,
    lengths: &[i64; 2],
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM recovery_codes
         WHERE user_id = $1 AND (length(code_sealed) = $2 OR length(code_sealed) = $3)",
    )
    .bind(user_id)
    .bind(lengths[0])
    .bind(lengths[1])
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(0);
    }
    sqlx::query("UPDATE users SET recovery_codes_retired_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// The accounts with an authenticator secret or recovery codes (what a rekey moves).
pub async fn users_with_secrets(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT user_id FROM totp_methods UNION SELECT user_id FROM recovery_codes ORDER BY 1",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Seals an authenticator secret again (a rekey), only if it is still `old`.
pub async fn replace_totp_secret(
    db: &Db,
    user_id: i64,
    old: &[u8],
    new: &[u8],
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE totp_methods SET secret_sealed = $1 WHERE user_id = $2 AND secret_sealed = $3",
    )
    .bind(new)
    .bind(user_id)
    .bind(old)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Seals and hashes one recovery code again (a rekey), only if it is still the one
/// read (its old hash).
pub async fn replace_recovery_code(
    db: &Db,
    id: i64,
    old_hash: &[u8],
    sealed: &[u8],
    hash: &[u8],
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET code_sealed = $1, code_hash = $2 WHERE id = $3 AND code_hash = $4",
    )
    .bind(sealed)
    .bind(hash)
    .bind(id)
    .bind(old_hash)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces all of a user's recovery codes (inside the caller's transaction).
pub async fn replace_recovery_codes(
    tx: &mut Tx<'_>,
    user_id: i64,
    codes: &[(Vec<u8>, Vec<u8>)],
) -> Result<(), sqlx::Error> {
    delete_recovery_codes(tx, user_id).await?;
    for (position, (sealed, hash)) in codes.iter().enumerate() {
        sqlx::query("INSERT INTO recovery_codes (user_id, position, code_sealed, code_hash) VALUES ($1, $2, $3, $4)")
            .bind(user_id)
            .bind(position as i64)
            .bind(sealed)
            .bind(hash)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Removes all of a user's recovery codes (new ones follow, or the app is gone): the
/// "old codes retired" mark goes with them.
pub async fn delete_recovery_codes(tx: &mut Tx<'_>, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE users SET recovery_codes_retired_at = NULL WHERE id = $1 AND recovery_codes_retired_at IS NOT NULL")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How many unused recovery codes the account has, read under a lock on the account's
/// row (a write, so that on SQLite the transaction holds the write lock from here):
/// two methods turned on at once decide one after the other whether codes are due.
pub async fn lock_unused_recovery_codes(tx: &mut Tx<'_>, user_id: i64) -> Result<i64, sqlx::Error> {
    super::users::lock(tx, user_id).await?;
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

/// Removes the account's recovery codes once no method is left on (they belong to
/// two-step sign-in as a whole, not to one method); true when they went.
pub async fn delete_recovery_codes_if_no_method(
    tx: &mut Tx<'_>,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let (methods,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM totp_methods WHERE user_id = $1 AND enabled_at IS NOT NULL)
              + (SELECT COUNT(*) FROM code_methods WHERE user_id = $1)
              + (SELECT COUNT(*) FROM passkeys WHERE user_id = $1)",
    )
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?;
    if methods > 0 {
        return Ok(false);
    }
    delete_recovery_codes(tx, user_id).await?;
    Ok(true)
}

/// Uses a recovery code; false when unknown or already used. Atomic.
pub async fn use_recovery_code(
    db: &Db,
    user_id: i64,
    code_hash: &[u8],
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
        .bind(now)
        .bind(user_id)
        .bind(code_hash)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingRow {
    pub id: i64,
    pub user_id: i64,
    pub next: String,
    pub created_at: i64,
    pub failures: i64,
}

/// Stores a sign-in waiting for its second step, only while the account's credentials
/// are still at `checked_version` (the password it checked is still the account's).
pub async fn insert_pending(
    db: &Db,
    token_hash: &[u8],
    user_id: i64,
    next: &str,
    now: i64,
    checked_version: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO pending_sign_ins (token_hash, user_id, next, created_at)
         SELECT $1, $2, $3, $4
         WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND credential_version = $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(next)
    .bind(now)
    .bind(checked_version)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn pending(db: &Db, token_hash: &[u8]) -> Result<Option<PendingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, next, created_at, failures FROM pending_sign_ins WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Counts one attempt at the second step before it is judged, only while fewer than
/// `max` were made, and gives the attempt's number; `None` means the pending sign-in
/// has used up its attempts (or is gone). Racing attempts are counted one by one.
pub async fn pending_attempt(db: &Db, id: i64, max: i64) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE pending_sign_ins SET failures = failures + 1 WHERE id = $1 AND failures < $2
         RETURNING failures",
    )
    .bind(id)
    .bind(max)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Gives back an attempt that was never judged (it was throttled).
pub async fn pending_refund(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE pending_sign_ins SET failures = failures - 1 WHERE id = $1 AND failures > 0",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends every half-done sign-in of a user (inside the caller's transaction).
pub async fn delete_pending_for_user(tx: &mut Tx<'_>, user_id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM pending_sign_ins WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// Ends a pending sign-in; true only for the one call that ended it, so that two
/// racing second steps cannot both finish it.
pub async fn delete_pending<'e, E>(exec: E, id: i64) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query("DELETE FROM pending_sign_ins WHERE id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes half-done sign-ins older than `max_age` seconds.
pub async fn delete_stale_pending(db: &Db, now: i64, max_age: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM pending_sign_ins WHERE created_at <= $1")
            .bind(now - max_age)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
