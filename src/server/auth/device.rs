//! Which browser is calling: its device cookie, a random id the server set, signed
//! (a forged or altered one is refused before any database read), HttpOnly; never a
//! fingerprint. The sign-in notices compare it with the devices an account has seen.
use super::Caller;
use crate::server::domain::sign_in_notice as rules;
use crate::server::domain::tokens::{new_token, Purpose};
use crate::server::error::Result;
use crate::server::{store, AppState};

fn sign(state: &AppState) -> impl Fn(&str) -> Vec<u8> + '_ {
    move |id: &str| state.keys.hash(Purpose::Device, &format!("signature:{id}"))
}

/// The device id in the caller's device cookie, when its signature holds.
pub fn presented(state: &AppState, caller: &Caller) -> Option<String> {
    caller
        .device_cookie
        .as_deref()
        .and_then(|c| rules::device_id(c, sign(state)))
}

/// The caller's device id, and the cookie to set when the browser has none (or a
/// forged one): a new id.
pub fn id_or_new(state: &AppState, caller: &Caller) -> (String, Option<String>) {
    match presented(state, caller) {
        Some(id) => (id, None),
        None => {
            let id = new_token();
            let cookie = rules::device_cookie(&id, sign(state));
            (id, Some(cookie))
        }
    }
}

/// A device id as the database keeps it (a keyed hash).
pub fn stored(state: &AppState, id: &str) -> Vec<u8> {
    state.keys.hash(Purpose::Device, id)
}

/// Gives the caller a device cookie when the browser has no valid one: the new cookie
/// (to set on the answer), now also the caller's.
pub fn ensure(state: &AppState, caller: &mut Caller) -> Option<String> {
    let (_, cookie) = id_or_new(state, caller);
    if let Some(c) = &cookie {
        caller.device_cookie = Some(c.clone());
    }
    cookie
}

/// Marks the caller's browser as a device of the account (a new password was set from
/// a reset link there): the sign-in that follows from it is no news.
pub async fn remember(state: &AppState, caller: &Caller, user_id: i64, now: i64) -> Result<()> {
    let (id, _) = id_or_new(state, caller);
    let mut tx = state.db.begin().await?;
    // A write first: on SQLite the transaction holds the write lock from the start.
    store::notices::lock_switches(&mut tx, user_id).await?;
    store::notices::see_device(&mut tx, user_id, &stored(state, &id), now).await?;
    tx.commit().await?;
    Ok(())
}
