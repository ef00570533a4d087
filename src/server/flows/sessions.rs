//! Settings > Sessions: the account's signed-in browsers, and ending them.
use crate::model::sessions::ActiveSession;
use crate::model::tokens::Scope;
use crate::server::audit::log_within;
use crate::server::auth::identity::require_recent_proof;
use crate::server::auth::session::still_signed_in;
use crate::server::auth::Caller;
use crate::server::domain::device;
use crate::server::domain::security_log::EventKind;
use crate::server::error::{Error, Result};
use crate::server::{store, AppState};
use serde_json::json;

/// Every live session of the caller's account, most recently active first; the
/// caller's own is marked `current`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<Vec<ActiveSession>, Error> {
    let user_id = caller.account_for(Scope::SessionsRead)?;
    let mine = caller.session().map(|s| s.session_id);
    super::profile::sessions_reviewed(state, caller, now).await?;
    let rows = store::sessions::list_for_user(
        &state.db,
        user_id,
        now,
        now - state.config.session.absolute_secs,
        now - state.config.session.idle_secs,
    )
    .await?;
    let mut sessions: Vec<ActiveSession> = rows
        .into_iter()
        .map(|r| ActiveSession {
            id: r.id,
            device: device::describe(&r.user_agent),
            kind: device::kind(&r.user_agent),
            location: state.geo.locate(&r.ip),
            ip: r.ip,
            signed_in_at: r.created_at,
            // The caller is active now, whatever the once-a-minute record says.
            last_active_at: if Some(r.id) == mine {
                now
            } else {
                r.last_seen_at
            },
            current: Some(r.id) == mine,
        })
        .collect();
    // Most recent first; this device (active now) before others of the same second.
    sessions.sort_by_key(|s| std::cmp::Reverse((s.last_active_at, s.current, s.id)));
    Ok(sessions)
}

/// Ends one other session of the caller's account: at once (its next request,
/// server functions included, finds no session) and logged. The caller's own session
/// is ended by signing out, not here; another account's session is "not found".
/// Asks for a proof of identity unless one is recent (`password`, when the page sent
/// it after being asked).
pub async fn revoke(
    state: &AppState,
    caller: &Caller,
    id: i64,
    password: Option<&str>,
    now: i64,
) -> Result<(), Error> {
    let user_id = caller.account_for(Scope::SessionsWrite)?;
    // A browser session proves itself again for this; a token holds the permission.
    let me = caller.session();
    if let Some(me) = me {
        if id == me.session_id {
            return Err(Error::invalid(
                "This is the session you are using. To end it, sign out.",
            ));
        }
        require_recent_proof(state, caller, password, now).await?;
    }
    let mut tx = state.db.begin().await?;
    if let Some(me) = me {
        still_signed_in(&mut tx, me.user_id, me.session_id).await?;
    }
    if !store::sessions::delete_of_user(&mut *tx, user_id, id).await? {
        return Err(Error::not_found("That session has already ended."));
    }
    log_within(
        &mut tx,
        caller,
        Some(user_id),
        EventKind::SessionRevoked,
        now,
        // Revoked by an API token: which one.
        match caller.token() {
            Some(t) => json!({"session": id, "token": t.token_id}),
            None => json!({"session": id}),
        },
    )
    .await?;
    Ok(tx.commit().await?)
}

/// Ends every session of the caller's account but the caller's own; how many ended.
/// Asks for a proof of identity unless one is recent, like [`revoke`].
pub async fn revoke_others(
    state: &AppState,
    caller: &Caller,
    password: Option<&str>,
    now: i64,
) -> Result<u64, Error> {
    let me = caller.signed_in()?;
    require_recent_proof(state, caller, password, now).await?;
    let mut tx = state.db.begin().await?;
    still_signed_in(&mut tx, me.user_id, me.session_id).await?;
    let ended = store::sessions::delete_for_user(&mut tx, me.user_id, Some(me.session_id)).await?;
    log_within(
        &mut tx,
        caller,
        Some(me.user_id),
        EventKind::OtherSessionsRevoked,
        now,
        json!({"ended": ended}),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}
