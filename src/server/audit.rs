//! What use cases leave behind: security-log entries (inside the transaction of the
//! change they record, where there is one) and mail to the account's owner.
use crate::server::auth::guard::take;
use crate::server::auth::Caller;
use crate::server::domain::security_log::EventKind;
use crate::server::domain::throttle;
use crate::server::domain::tokens::Purpose;
use crate::server::error::{Error, Result};
use crate::server::{store, AppState};

/// A security-log entry for what `caller` did (or tried) to account `user_id`.
pub fn event<'a>(
    caller: &'a Caller,
    user_id: Option<i64>,
    kind: EventKind,
    now: i64,
    detail: serde_json::Value,
) -> store::events::NewEvent<'a> {
    store::events::NewEvent {
        user_id,
        kind: kind.as_str(),
        at: now,
        ip: &caller.ip,
        user_agent: &caller.user_agent,
        detail,
    }
}

/// How the log names an email address typed for an unknown account: a keyed hash
/// (16 bytes, hex), never the address itself.
pub fn logged_email(state: &AppState, email: &str) -> String {
    let hash = state.keys.hash(Purpose::LoggedEmail, email);
    hash[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a security-log entry.
pub async fn log(
    state: &AppState,
    caller: &Caller,
    user_id: Option<i64>,
    kind: EventKind,
    now: i64,
    detail: serde_json::Value,
) -> Result<(), Error> {
    store::events::insert(&state.db, event(caller, user_id, kind, now, detail)).await?;
    Ok(())
}

/// Writes a security-log entry inside the transaction of the change it records, so
/// that both are kept or neither.
pub async fn log_within(
    tx: &mut store::Tx<'_>,
    caller: &Caller,
    user_id: Option<i64>,
    kind: EventKind,
    now: i64,
    detail: serde_json::Value,
) -> Result<(), Error> {
    store::events::insert(&mut **tx, event(caller, user_id, kind, now, detail)).await?;
    Ok(())
}

/// Sends a mail in the background, unless its recipient already got
/// [`throttle::MAILS_PER_RECIPIENT`]'s share: nobody can use Latchkey to flood an inbox.
/// A mail held back is noted in the server log (without the address).
pub async fn deliver(
    state: &AppState,
    mail: crate::server::delivery::Mail,
    now: i64,
) -> Result<(), Error> {
    deliver_or_hold(state, mail, now).await.map(|_| ())
}

/// [`deliver`], telling whether the mail went out (`Ok(None)`) or was held back, with
/// the seconds until its recipient may get mail again.
pub async fn deliver_or_hold(
    state: &AppState,
    mail: crate::server::delivery::Mail,
    now: i64,
) -> Result<Option<u64>, Error> {
    let key = state.keys.hash(
        Purpose::Throttle,
        &format!("mail-to:{}", mail.to.to_lowercase()),
    );
    match take(state, &[(key, throttle::MAILS_PER_RECIPIENT)], now).await {
        Ok(()) => {
            crate::server::delivery::send_later(state.mailer.clone(), mail);
            Ok(None)
        }
        Err(Error::TooMany { retry_after }) => {
            tracing::warn!(subject = %mail.subject, "mail held back: its recipient got too many this hour");
            Ok(Some(retry_after))
        }
        Err(e) => Err(e),
    }
}

/// Tells the owner, by email, what happened to their account, when and from where.
pub async fn notify(
    state: &AppState,
    caller: &Caller,
    email: &str,
    subject: &str,
    what: &str,
    now: i64,
) -> Result<(), Error> {
    use crate::server::delivery::templates;
    let when = crate::model::time::format_datetime(now);
    let device = crate::server::domain::device::describe(&caller.user_agent);
    let origin = templates::Origin {
        when: &when,
        ip: &caller.ip,
        device: &device,
    };
    let reset_link = state.config.link("/forgot-password");
    let name = store::profile::display_name_of(&state.db, email).await?;
    deliver(
        state,
        templates::security_notice(email, name.as_deref(), subject, what, &origin, &reset_link),
        now,
    )
    .await
}
