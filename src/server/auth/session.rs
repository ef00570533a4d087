//! Sessions: the one a request's cookie names (its idle and absolute limits), a new
//! one at sign-in, and a new id for the same sign-in at every change of credentials.
use super::{not_signed_in, Caller, Session};
use crate::server::domain::session::{liveness, needs_touch, Liveness};
use crate::server::domain::tokens::{looks_like_token, new_token, Purpose};
use crate::server::error::{Error, Result};
use crate::server::store::{self, sessions::NewSession};
use crate::server::AppState;

/// What a request's session cookie names.
#[derive(Debug)]
pub enum Found {
    Live(Session),
    /// No session (unknown, or past its idle or absolute limit: ended now).
    Gone,
    /// The account's IP allowlist leaves out the address this request comes from: the
    /// session is ended now, and the browser is told why.
    OutsideAllowlist,
}

/// The session a cookie's token names, for a request from `caller` (no principal
/// yet). A session past its idle or absolute limit is ended here, and so is one used
/// from an address the account's IP allowlist leaves out; a live one has its activity
/// recorded (at most once a minute). The HTTP layer reads the cookie and clears it
/// when this finds nothing.
pub async fn resolve(state: &AppState, token: &str, caller: &Caller, now: i64) -> Result<Found> {
    if !looks_like_token(token) {
        return Ok(Found::Gone);
    }
    let hash = state.keys.hash(Purpose::Session, token);
    let Some(row) = store::sessions::by_token_hash(&state.db, &hash).await? else {
        return Ok(Found::Gone);
    };
    let cfg = &state.config;
    match liveness(
        row.created_at,
        row.last_seen_at,
        now,
        cfg.session.idle_secs,
        cfg.session.absolute_secs,
    ) {
        Liveness::Live => {
            let enabled = Some(row.allowlist_enabled != 0);
            if !super::allowlist::permits(state, row.user_id, enabled, caller).await? {
                // Ended (so refused and logged once).
                store::sessions::delete(&state.db, row.id).await?;
                let at = super::allowlist::At::Session;
                super::allowlist::refused(state, caller, row.user_id, at, now).await?;
                return Ok(Found::OutsideAllowlist);
            }
            if needs_touch(row.last_seen_at, now) {
                if let Err(e) = store::sessions::touch(&state.db, row.id, now).await {
                    tracing::warn!(error = %e, "could not record session activity");
                }
            }
            Ok(Found::Live(Session::from(row)))
        }
        Liveness::IdleExpired | Liveness::AbsoluteExpired => {
            store::sessions::delete(&state.db, row.id).await?;
            Ok(Found::Gone)
        }
    }
}

/// At a change of credentials or factors: ends every other session of the caller's
/// account and continues the caller's sign-in under a fresh session id, inside the
/// given transaction. The sign-in time is kept, so the absolute limit still counts
/// from the sign-in. Gives the new token and how many other sessions ended. When the
/// caller's own session has ended meanwhile (revoked from another device while this
/// request was on its way), nothing happens: "your session has ended", and the
/// transaction is not to be committed.
pub async fn rotate_session(
    tx: &mut store::Tx<'_>,
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<(String, u64)> {
    let session = caller.signed_in()?;
    // Checked first: once the others are gone, a new row could take the old one's id.
    still_signed_in(tx, session.user_id, session.session_id).await?;
    let others =
        store::sessions::delete_for_user(tx, session.user_id, Some(session.session_id)).await?;
    // The new row is added while the old one still holds its id, so the id changes too.
    let (token, _) = start_session(
        &mut **tx,
        state,
        session.user_id,
        caller,
        session.signed_in_at,
        now,
    )
    .await?;
    store::sessions::delete(&mut **tx, session.session_id).await?;
    Ok((token, others))
}

pub fn new_session<'a>(
    state: &AppState,
    token_hash: &'a [u8],
    user_id: i64,
    caller: &'a Caller,
    signed_in_at: i64,
    now: i64,
) -> NewSession<'a> {
    NewSession {
        token_hash,
        user_id,
        signed_in_at,
        now,
        expires_at: signed_in_at + state.config.session.absolute_secs,
        ip: &caller.ip,
        user_agent: &caller.user_agent,
    }
}

/// Creates a session for a user and gives its token (for the cookie) and id; only the
/// keyed hash of the token is stored. `signed_in_at` is when the person signed in: `now` for
/// a new sign-in, earlier when a sign-in continues under a new id.
pub async fn start_session<'e, E>(
    exec: E,
    state: &AppState,
    user_id: i64,
    caller: &Caller,
    signed_in_at: i64,
    now: i64,
) -> Result<(String, i64), Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let token = new_token();
    let hash = state.keys.hash(Purpose::Session, &token);
    let id = store::sessions::insert(
        exec,
        new_session(state, &hash, user_id, caller, signed_in_at, now),
    )
    .await?;
    Ok((token, id))
}

/// Under the lock on the account's sessions: is the caller's session still there? A
/// session revoked by another device while its own request was on the way must not
/// go on to sign that device out.
pub async fn still_signed_in(tx: &mut store::Tx<'_>, user_id: i64, session_id: i64) -> Result<()> {
    let live = store::sessions::lock_for_user(tx, user_id).await?;
    if live.contains(&session_id) {
        Ok(())
    } else {
        Err(not_signed_in())
    }
}
