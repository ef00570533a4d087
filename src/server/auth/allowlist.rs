//! The IP allowlist, enforced in one place for every kind of caller: at sign-in after
//! the password check, on every request of a session and on every access-token call.
//! A refusal is logged with the address; the owner is told by email at most once an
//! hour.
use super::Caller;
use crate::server::audit::{log, notify};
use crate::server::domain::allowlist::{self, TELL_EVERY_SECS};
use crate::server::domain::security_log::EventKind;
use crate::server::error::Result;
use crate::server::{store, AppState};
use serde_json::json;

/// Where a refused address tried to come in.
#[derive(Clone, Copy, Debug)]
pub enum At {
    SignIn,
    Session,
    Token,
}

impl At {
    fn as_str(self) -> &'static str {
        match self {
            At::SignIn => "sign_in",
            At::Session => "session",
            At::Token => "token",
        }
    }
}

/// Whether the account's list lets the caller's address in. `enabled`: whether the
/// list is on, when the caller's query already read it with the session or token
/// (the entries are then read only when it is); `None` reads it here.
pub async fn permits(
    state: &AppState,
    user_id: i64,
    enabled: Option<bool>,
    caller: &Caller,
) -> Result<bool> {
    let (enabled, entries) = match enabled {
        Some(false) => return Ok(true),
        Some(true) => (true, store::allowlist::entries(&state.db, user_id).await?),
        None => store::allowlist::get(&state.db, user_id).await?,
    };
    if !enabled {
        return Ok(true);
    }
    let nets: Vec<ipnet::IpNet> = entries.iter().filter_map(|e| e.cidr.parse().ok()).collect();
    Ok(allowlist::allows(&nets, &caller.ip))
}

/// Logs a refused address and tells the owner (once an hour at most).
pub async fn refused(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    at: At,
    now: i64,
) -> Result<()> {
    log(
        state,
        caller,
        Some(user_id),
        EventKind::AllowlistRefused,
        now,
        json!({"at": at.as_str()}),
    )
    .await?;
    if store::allowlist::claim_tell(&state.db, user_id, now, TELL_EVERY_SECS).await? {
        if let Some(user) = store::users::by_id(&state.db, user_id).await? {
            let what = match at {
                At::SignIn => "someone signed in to your account with the right password from an address your IP allowlist leaves out, and was refused",
                At::Session => "a session of your account was used from an address your IP allowlist leaves out, and was signed out",
                At::Token => "an API token of your account was used from an address your IP allowlist leaves out, and was refused",
            };
            notify(
                state,
                caller,
                &user.email,
                "An address outside your IP allowlist was refused",
                what,
                now,
            )
            .await?;
        }
    }
    Ok(())
}
