//! Settings > Profile: the display name, changes of the account's address, and what
//! the security checklist reads.
use super::{Db, Tx};
use sqlx::FromRow;

pub async fn set_display_name<'e, E>(
    exec: E,
    user_id: i64,
    name: Option<&str>,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "UPDATE users SET display_name = $2 WHERE id = $1 AND display_name IS DISTINCT FROM $2",
    )
    .bind(user_id)
    .bind(name)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The display name of the account with this address (mails greet by it).
pub async fn display_name_of(db: &Db, email: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT display_name FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|r| r.0))
}

pub async fn set_password_strength<'e, E>(
    exec: E,
    user_id: i64,
    score: u8,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE users SET password_strength = $2 WHERE id = $1")
        .bind(user_id)
        .bind(i64::from(score))
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn set_sessions_reviewed(db: &Db, user_id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET sessions_reviewed_at = $2 WHERE id = $1")
        .bind(user_id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Everything the security checklist reads, in one query (the Security page renders
/// it on every load).
#[derive(Debug, FromRow)]
pub struct ChecklistRow {
    pub password_strength: Option<i64>,
    pub sessions_reviewed_at: Option<i64>,
    pub recovery_codes_retired_at: Option<i64>,
    pub totp: Option<i64>,
    pub email: Option<i64>,
    pub sms: Option<i64>,
    pub passkey: Option<i64>,
    pub recovery_left: i64,
    /// Live sessions (this one included).
    pub sessions: i64,
    /// When the newest live session other than `this_session` began.
    pub newest_other: Option<i64>,
}

/// Sessions count as live as `store::sessions::list_for_user` has them: not expired,
/// begun after `signed_in_since`, active after `active_since`.
pub async fn checklist_row(
    db: &Db,
    user_id: i64,
    this_session: i64,
    now: i64,
    signed_in_since: i64,
    active_since: i64,
) -> Result<ChecklistRow, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.password_strength, u.sessions_reviewed_at, u.recovery_codes_retired_at,
                (SELECT enabled_at FROM totp_methods WHERE user_id = $1) AS totp,
                (SELECT enabled_at FROM code_methods WHERE user_id = $1 AND channel = 'email') AS email,
                (SELECT enabled_at FROM code_methods WHERE user_id = $1 AND channel = 'sms') AS sms,
                (SELECT MIN(created_at) FROM passkeys WHERE user_id = $1) AS passkey,
                (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)
                    AS recovery_left,
                (SELECT COUNT(*) FROM sessions
                  WHERE user_id = $1 AND expires_at > $3 AND created_at > $4 AND last_seen_at > $5)
                    AS sessions,
                (SELECT MAX(created_at) FROM sessions
                  WHERE user_id = $1 AND id <> $2 AND expires_at > $3 AND created_at > $4
                    AND last_seen_at > $5) AS newest_other
         FROM users u WHERE u.id = $1",
    )
    .bind(user_id)
    .bind(this_session)
    .bind(now)
    .bind(signed_in_since)
    .bind(active_since)
    .fetch_one(db)
    .await
}

/// An email change as stored.
#[derive(Clone, Debug, FromRow)]
pub struct ChangeRow {
    pub id: i64,
    pub user_id: i64,
    pub old_email: String,
    pub new_email: String,
    pub sent_at: i64,
    pub expires_at: i64,
    pub cancelled_at: Option<i64>,
    pub applied_at: Option<i64>,
    pub undo_expires_at: Option<i64>,
    pub undone_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, old_email, new_email, sent_at, expires_at, cancelled_at, \
                       applied_at, undo_expires_at, undone_at";

/// The account's change waiting for its link, if one is.
pub async fn pending(db: &Db, user_id: i64, now: i64) -> Result<Option<ChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_changes
         WHERE user_id = $1 AND applied_at IS NULL AND cancelled_at IS NULL AND expires_at > $2
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(user_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Cancels whatever change of the account waits; true when one did.
pub async fn cancel_pending(tx: &mut Tx<'_>, user_id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE email_changes SET cancelled_at = $2
         WHERE user_id = $1 AND applied_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A new change (any change waiting before is cancelled first, in the same
/// transaction).
#[allow(clippy::too_many_arguments)]
pub async fn start(
    tx: &mut Tx<'_>,
    user_id: i64,
    old_email: &str,
    new_email: &str,
    verify_hash: &[u8],
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    cancel_pending(tx, user_id, now).await?;
    sqlx::query(
        "INSERT INTO email_changes (user_id, old_email, new_email, verify_hash, created_at, sent_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(user_id)
    .bind(old_email)
    .bind(new_email)
    .bind(verify_hash)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// "Resend": a new link for the waiting change (the old link stops working), unless
/// the last one went out after `sent_before`; false when nothing was sent.
pub async fn resend(
    db: &Db,
    id: i64,
    verify_hash: &[u8],
    now: i64,
    expires_at: i64,
    sent_before: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE email_changes SET verify_hash = $2, sent_at = $3, expires_at = $4
         WHERE id = $1 AND applied_at IS NULL AND cancelled_at IS NULL AND sent_at <= $5",
    )
    .bind(id)
    .bind(verify_hash)
    .bind(now)
    .bind(expires_at)
    .bind(sent_before)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn by_verify_hash(db: &Db, hash: &[u8]) -> Result<Option<ChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_changes WHERE verify_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(db)
    .await
}

pub async fn by_undo_hash(db: &Db, hash: &[u8]) -> Result<Option<ChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_changes WHERE undo_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(db)
    .await
}

/// Uses the link of a waiting change: marks it applied and stores its undo link.
/// Atomic: of two racing uses, one gets the row; the others get `None`.
pub async fn apply(
    tx: &mut Tx<'_>,
    verify_hash: &[u8],
    now: i64,
    undo_hash: &[u8],
    undo_expires_at: i64,
) -> Result<Option<ChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE email_changes SET applied_at = $2, undo_hash = $3, undo_expires_at = $4
         WHERE verify_hash = $1 AND applied_at IS NULL AND cancelled_at IS NULL AND expires_at > $2
         RETURNING {COLUMNS}"
    ))
    .bind(verify_hash)
    .bind(now)
    .bind(undo_hash)
    .bind(undo_expires_at)
    .fetch_optional(&mut **tx)
    .await
}

/// Uses an undo link while it lasts. Atomic: of two racing uses, one wins.
pub async fn undo(
    tx: &mut Tx<'_>,
    undo_hash: &[u8],
    now: i64,
) -> Result<Option<ChangeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE email_changes SET undone_at = $2
         WHERE undo_hash = $1 AND undone_at IS NULL AND undo_expires_at > $2
         RETURNING {COLUMNS}"
    ))
    .bind(undo_hash)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
}

/// Sets the account's address (verified as of `now`: its link was followed), unless
/// another account has it; false then.
pub async fn set_email(
    tx: &mut Tx<'_>,
    user_id: i64,
    email: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET email = $2, email_verified_at = $3
         WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users o WHERE o.email = $2 AND o.id <> $1)",
    )
    .bind(user_id)
    .bind(email)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes changes long done with (kept a while, so a late click is told why).
pub async fn prune(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM email_changes
         WHERE (applied_at IS NULL AND expires_at < $1)
            OR (applied_at IS NOT NULL AND undo_expires_at < $1)",
    )
    .bind(before)
    .execute(db)
    .await?
    .rows_affected())
}
