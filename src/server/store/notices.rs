//! New sign-in notices: the owner's switches, the devices and sign-ins seen, the
//! daily limit per device and the "This wasn't me" links (keyed hashes only).
use super::{Db, Tx};
use crate::server::domain::sign_in_notice::Switches;

pub async fn switches(db: &Db, user_id: i64) -> Result<Switches, sqlx::Error> {
    let (d, l, b): (i64, i64, i64) = sqlx::query_as(
        "SELECT notify_new_device, notify_new_location, notify_new_browser FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?;
    Ok(Switches {
        new_device: d != 0,
        new_location: l != 0,
        new_browser: b != 0,
    })
}

/// The switches, read under a lock on the account's row (a write, so that on SQLite
/// the transaction holds the write lock from its first statement): parallel sign-ins
/// of one account decide one after the other.
pub async fn lock_switches(tx: &mut Tx<'_>, user_id: i64) -> Result<Switches, sqlx::Error> {
    let (d, l, b): (i64, i64, i64) = sqlx::query_as(
        "UPDATE users SET notify_new_device = notify_new_device WHERE id = $1
         RETURNING notify_new_device, notify_new_location, notify_new_browser",
    )
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Switches {
        new_device: d != 0,
        new_location: l != 0,
        new_browser: b != 0,
    })
}

pub async fn set_switches(tx: &mut Tx<'_>, user_id: i64, s: Switches) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET notify_new_device = $2, notify_new_location = $3, notify_new_browser = $4
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(i64::from(s.new_device))
    .bind(i64::from(s.new_location))
    .bind(i64::from(s.new_browser))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that the device (its cookie id's keyed hash) was used with the account
/// now; whether the account had seen it before.
pub async fn see_device(
    tx: &mut Tx<'_>,
    user_id: i64,
    device_hash: &[u8],
    now: i64,
) -> Result<bool, sqlx::Error> {
    let before: Option<(i64,)> = sqlx::query_as(
        "SELECT first_seen FROM known_devices WHERE user_id = $1 AND device_hash = $2",
    )
    .bind(user_id)
    .bind(device_hash)
    .fetch_optional(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO known_devices (user_id, device_hash, first_seen, last_seen)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (user_id, device_hash) DO UPDATE SET last_seen = excluded.last_seen",
    )
    .bind(user_id)
    .bind(device_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(before.is_some())
}

/// What the account's sign-ins say about a new one: whether there was any sign-in
/// before (kept 400 days), and whether this browser and this place were seen since
/// `since`.
pub async fn seen(
    tx: &mut Tx<'_>,
    user_id: i64,
    since: i64,
    browser: &str,
    place: Option<&str>,
) -> Result<(bool, bool, bool), sqlx::Error> {
    let (any, browser_seen, place_seen): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM sign_in_seen WHERE user_id = $1),
                (SELECT COUNT(*) FROM sign_in_seen
                  WHERE user_id = $1 AND kind = 'browser' AND value = $3 AND last_seen >= $2),
                (SELECT COUNT(*) FROM sign_in_seen
                  WHERE user_id = $1 AND kind = 'place' AND value = $4 AND last_seen >= $2)",
    )
    .bind(user_id)
    .bind(since)
    .bind(browser)
    .bind(place.unwrap_or(""))
    .fetch_one(&mut **tx)
    .await?;
    Ok((any > 0, browser_seen > 0, place.is_none() || place_seen > 0))
}

/// Records a sign-in's browser and (when known) place as seen now.
pub async fn add_sign_in(
    tx: &mut Tx<'_>,
    user_id: i64,
    now: i64,
    browser: &str,
    place: Option<&str>,
) -> Result<(), sqlx::Error> {
    let seen = [("browser", Some(browser)), ("place", place)];
    for (kind, value) in seen {
        let Some(value) = value else { continue };
        sqlx::query(
            "INSERT INTO sign_in_seen (user_id, kind, value, last_seen) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, kind, value) DO UPDATE SET last_seen = excluded.last_seen",
        )
        .bind(user_id)
        .bind(kind)
        .bind(value)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// When the device was last sent a notice, if ever.
pub async fn device_notified_at(
    tx: &mut Tx<'_>,
    user_id: i64,
    device_key: &[u8],
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT last_sent_at FROM notice_devices WHERE user_id = $1 AND device_key = $2",
    )
    .bind(user_id)
    .bind(device_key)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Claims the device's notice for now unless it had one in the last `every` seconds:
/// one statement, so that of parallel sign-ins from one device one sends.
pub async fn claim_notice(
    tx: &mut Tx<'_>,
    user_id: i64,
    device_key: &[u8],
    now: i64,
    every: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO notice_devices (user_id, device_key, last_sent_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, device_key) DO UPDATE SET last_sent_at = excluded.last_sent_at
         WHERE notice_devices.last_sent_at <= $3 - $4",
    )
    .bind(user_id)
    .bind(device_key)
    .bind(now)
    .bind(every)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct NewNotice<'a> {
    pub link_hash: &'a [u8],
    pub user_id: i64,
    pub session_id: i64,
    pub signed_in_at: i64,
    pub ip: &'a str,
    pub place: &'a str,
    pub browser: &'a str,
    pub expires_at: i64,
}

pub async fn insert_notice(tx: &mut Tx<'_>, n: &NewNotice<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sign_in_notices
             (link_hash, user_id, session_id, signed_in_at, ip, place, browser, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(n.link_hash)
    .bind(n.user_id)
    .bind(n.session_id)
    .bind(n.signed_in_at)
    .bind(n.ip)
    .bind(n.place)
    .bind(n.browser)
    .bind(n.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A notice as its "This wasn't me" page shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoticeRow {
    pub user_id: i64,
    pub session_id: i64,
    pub signed_in_at: i64,
    pub ip: String,
    pub place: String,
    pub browser: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const NOTICE_COLUMNS: &str =
    "user_id, session_id, signed_in_at, ip, place, browser, expires_at, used_at";

pub async fn notice(db: &Db, link_hash: &[u8]) -> Result<Option<NoticeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {NOTICE_COLUMNS} FROM sign_in_notices WHERE link_hash = $1"
    ))
    .bind(link_hash)
    .fetch_optional(db)
    .await
}

/// Uses the link: one statement, so that of two racing uses one wins.
pub async fn use_notice(
    tx: &mut Tx<'_>,
    link_hash: &[u8],
    now: i64,
) -> Result<Option<NoticeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE sign_in_notices SET used_at = $2
         WHERE link_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING {NOTICE_COLUMNS}"
    ))
    .bind(link_hash)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
}

/// Removes what no rule looks at any more: browsers, places and devices not seen
/// since `seen_before`, notices whose link expired before `links_before`, daily
/// limits older than a day.
pub async fn prune(
    db: &Db,
    seen_before: i64,
    links_before: i64,
    limits_before: i64,
) -> Result<u64, sqlx::Error> {
    let a = sqlx::query("DELETE FROM sign_in_seen WHERE last_seen < $1")
        .bind(seen_before)
        .execute(db)
        .await?;
    let d = sqlx::query("DELETE FROM known_devices WHERE last_seen < $1")
        .bind(seen_before)
        .execute(db)
        .await?;
    let b = sqlx::query("DELETE FROM sign_in_notices WHERE expires_at < $1")
        .bind(links_before)
        .execute(db)
        .await?;
    let c = sqlx::query("DELETE FROM notice_devices WHERE last_sent_at < $1")
        .bind(limits_before)
        .execute(db)
        .await?;
    Ok(a.rows_affected() + b.rows_affected() + c.rows_affected() + d.rows_affected())
}

/// The owner's address, time zone and display name, for a notice.
#[allow(clippy::type_complexity)]
pub async fn owner(
    db: &Db,
    user_id: i64,
) -> Result<Option<(String, Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT email, time_zone, display_name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Records the time zone the owner's browser reported.
pub async fn set_time_zone(db: &Db, user_id: i64, zone: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET time_zone = $2 WHERE id = $1")
        .bind(user_id)
        .bind(zone)
        .execute(db)
        .await?;
    Ok(())
}
