//! Passkeys as a proof of who is signing in: a WebAuthn assertion judged against a
//! ceremony this server began (its state in the database, never in the browser), for
//! a passkey sign-in with no password, the second step of a password sign-in, or a
//! proof inside a session. Throttled like every secret, each ceremony finishing once,
//! a signature counter that goes back refused and logged.
use super::guard::{SecretGuard, Where};
use super::Caller;
use crate::server::audit::{log, notify};
use crate::server::domain::passkey::{ceremony_expired, judge_counter, Counter, CEREMONY_SECS};
use crate::server::domain::security_log::EventKind;
use crate::server::domain::throttle;
use crate::server::domain::tokens::Purpose;
use crate::server::error::{internal, Error, Result};
use crate::server::{store, AppState};
use serde_json::json;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PublicKeyCredential, WebauthnError,
};

/// The ceremony kinds, as stored.
pub const ADD: &str = "add";
/// An assertion with the account's own passkeys listed (second step, in-session).
pub const ASSERT: &str = "assert";
/// A passkey sign-in: the browser offers whichever passkey of this site it holds.
pub const DISCOVER: &str = "discover";

/// The largest answer from the browser taken (a few hundred bytes in practice).
pub const MAX_RESPONSE: usize = 16 * 1024;

pub fn bound_to_session(session_id: i64) -> String {
    format!("session:{session_id}")
}

pub fn bound_to_pending(pending_id: i64) -> String {
    format!("pending:{pending_id}")
}

/// A passkey sign-in's ceremony is bound to the random id the browser was given (its
/// keyed hash: the database alone cannot finish one).
pub fn bound_to_browser(state: &AppState, ceremony: &str) -> String {
    format!(
        "browser:{}",
        hex::encode(state.keys.hash(Purpose::PasskeyCeremony, ceremony))
    )
}

/// WebAuthn, or the answer that this site offers no passkeys.
pub fn relying_party(state: &AppState) -> Result<&webauthn_rs::Webauthn> {
    state
        .webauthn
        .as_deref()
        .ok_or_else(|| Error::invalid("Passkeys are not available on this site."))
}

/// The stored credentials of an account's passkeys.
pub fn credentials(rows: &[store::passkeys::PasskeyRow]) -> Result<Vec<Passkey>> {
    rows.iter()
        .map(|r| {
            serde_json::from_str::<Passkey>(&r.credential)
                .map_err(|e| internal(format!("a stored passkey does not read: {e}")))
        })
        .collect()
}

/// Counts a ceremony begun from the caller's address (each keeps a row for 5 minutes):
/// a page load or a click each, so a person never meets the limit; a script filling
/// the table does.
///
/// Passkey sign-ins (one per sign-in page load), second steps and a session's own
/// ceremonies are counted apart: one cannot use up another.
pub async fn count_ceremony(state: &AppState, caller: &Caller, what: &str, now: i64) -> Result<()> {
    let key = state.keys.hash(
        Purpose::Throttle,
        &format!("passkey-ceremonies:{what}:ip:{}", caller.ip_group()),
    );
    super::guard::take(state, &[(key, throttle::PASSKEY_CEREMONIES_IP)], now).await
}

/// Begins an assertion: for `user_id`'s passkeys (the second step, a proof in a
/// session), or, with `None`, for any passkey of this site (a passkey sign-in). Gives
/// the options for the browser (`publicKey` as JSON).
pub async fn begin(
    state: &AppState,
    caller: &Caller,
    user_id: Option<i64>,
    bound_to: &str,
    now: i64,
) -> Result<String> {
    let webauthn = relying_party(state)?;
    let what = match (user_id, caller.session()) {
        (None, _) => "sign-in",
        (Some(_), None) => "second-step",
        (Some(_), Some(_)) => "session",
    };
    count_ceremony(state, caller, what, now).await?;
    let (options, kind, stored) = match user_id {
        Some(user_id) => {
            let rows = store::passkeys::for_user(&state.db, user_id).await?;
            if rows.is_empty() {
                return Err(Error::invalid(
                    "You have no passkey. Choose another method.",
                ));
            }
            let (rcr, st) = webauthn
                .start_passkey_authentication(&credentials(&rows)?)
                .map_err(|e| internal(format!("passkey authentication: {e}")))?;
            (rcr, ASSERT, serde_json::to_string(&st)?)
        }
        None => {
            let (rcr, st) = webauthn
                .start_discoverable_authentication()
                .map_err(|e| internal(format!("passkey authentication: {e}")))?;
            (rcr, DISCOVER, serde_json::to_string(&st)?)
        }
    };
    store::passkeys::put_ceremony(
        &state.db,
        kind,
        bound_to,
        user_id,
        &stored,
        now,
        now + CEREMONY_SECS,
    )
    .await?;
    Ok(serde_json::to_string(&options.public_key)?)
}

/// Takes a ceremony once (expired ones are gone too); `None` when there is none left.
pub async fn take_ceremony(
    state: &AppState,
    kind: &str,
    bound_to: &str,
    now: i64,
) -> Result<Option<store::passkeys::Ceremony>> {
    Ok(store::passkeys::take_ceremony(&state.db, kind, bound_to)
        .await?
        .filter(|c| !ceremony_expired(c.created_at, now)))
}

pub const NOT_ACCEPTED: &str =
    "This passkey was not accepted. Try again, or choose another method.";
pub const NOT_REGISTERED: &str =
    "This passkey is not registered here (it may have been removed). Sign in with your email and password, or use another passkey.";
pub const EXPIRED: &str = "The passkey request timed out. Try again.";

/// Reads the browser's answer (`PublicKeyCredential.toJSON()`).
pub fn parse_assertion(response: &str) -> Result<PublicKeyCredential> {
    if response.len() > MAX_RESPONSE {
        return Err(Error::invalid(NOT_ACCEPTED));
    }
    serde_json::from_str(response).map_err(|_| Error::invalid(NOT_ACCEPTED))
}

/// Judges an assertion for `user_id` (known: the second step, a proof in a session)
/// against the ceremony `bound_to`; gives the passkey's id.
pub async fn verify_for(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    bound_to: &str,
    response: &str,
    at: Where,
    now: i64,
) -> Result<i64> {
    let credential = parse_assertion(response)?;
    let guard = SecretGuard::take_second_factor(state, "passkey", user_id, caller, at, now).await?;
    let Some(ceremony) = take_ceremony(state, ASSERT, bound_to, now)
        .await?
        .filter(|c| c.user_id == Some(user_id))
    else {
        guard.not_judged(state).await?;
        refused(state, caller, Some(user_id), "no_ceremony", now).await?;
        return Err(Error::invalid(EXPIRED));
    };
    let st: PasskeyAuthentication = serde_json::from_str(&ceremony.state)?;
    let judged = judge(state, caller, user_id, &credential, Judge::Listed(&st), now).await;
    finish(state, &guard, judged).await
}

/// Judges a passkey sign-in's assertion against the ceremony the browser's id names;
/// gives the account and the passkey's id. The account is the one the passkey names
/// (its user handle); the throttles count it, and the address, before it is judged.
pub async fn verify_discovered(
    state: &AppState,
    caller: &Caller,
    ceremony_id: &str,
    response: &str,
    now: i64,
) -> Result<(i64, i64)> {
    let webauthn = relying_party(state)?;
    let credential = parse_assertion(response)?;
    let handle = webauthn
        .identify_discoverable_authentication(&credential)
        .map(|(uuid, _)| uuid.to_string())
        .unwrap_or_default();
    let guard = SecretGuard::take(state, "passkey-sign-in", &handle, caller, now).await?;
    let Some(ceremony) =
        take_ceremony(state, DISCOVER, &bound_to_browser(state, ceremony_id), now).await?
    else {
        guard.not_judged(state).await?;
        refused(state, caller, None, "no_ceremony", now).await?;
        return Err(Error::invalid(EXPIRED));
    };
    let st: DiscoverableAuthentication = serde_json::from_str(&ceremony.state)?;
    let Some(user_id) = store::passkeys::user_by_handle(&state.db, &handle).await? else {
        // A passkey this site no longer knows (removed, or its account deleted).
        refused(state, caller, None, "unknown_passkey", now).await?;
        return Err(Error::unauthorized(NOT_REGISTERED));
    };
    let judged = judge(
        state,
        caller,
        user_id,
        &credential,
        Judge::Discovered(st),
        now,
    )
    .await;
    finish(state, &guard, judged).await.map(|id| (user_id, id))
}

/// Logs a passkey refused before its signature was looked at (no ceremony: expired,
/// used, or never begun for this session or browser).
pub async fn refused(
    state: &AppState,
    caller: &Caller,
    user_id: Option<i64>,
    reason: &str,
    now: i64,
) -> Result<()> {
    refused_with(state, caller, user_id, reason, None, now).await
}

/// The log entry of a refused passkey: why, and which of the account's passkeys it was
/// when known.
async fn refused_with(
    state: &AppState,
    caller: &Caller,
    user_id: Option<i64>,
    reason: &str,
    passkey: Option<String>,
    now: i64,
) -> Result<()> {
    let mut detail = json!({ "reason": reason });
    if let Some(name) = passkey {
        detail["passkey"] = name.into();
    }
    log(
        state,
        caller,
        user_id,
        EventKind::PasskeyRefused,
        now,
        detail,
    )
    .await
}

async fn finish(state: &AppState, guard: &SecretGuard, judged: Result<i64>) -> Result<i64> {
    if judged.is_ok() {
        guard.succeeded(state).await?;
    }
    judged
}

enum Judge<'a> {
    Listed(&'a PasskeyAuthentication),
    Discovered(DiscoverableAuthentication),
}

/// The assertion's signature, user verification, challenge, origin and counter, against
/// the account's passkeys; on success the passkey's counter, backup state and last use
/// are stored (only if no other assertion moved them meanwhile).
async fn judge(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    credential: &PublicKeyCredential,
    how: Judge<'_>,
    now: i64,
) -> Result<i64> {
    let webauthn = relying_party(state)?;
    let rows = store::passkeys::for_user(&state.db, user_id).await?;
    let keys = credentials(&rows)?;
    let result = match how {
        Judge::Listed(st) => webauthn.finish_passkey_authentication(credential, st),
        Judge::Discovered(st) => {
            let discoverable: Vec<DiscoverableKey> =
                keys.iter().map(DiscoverableKey::from).collect();
            webauthn.finish_discoverable_authentication(credential, st, &discoverable)
        }
    };
    let used = credential.get_credential_id();
    let found = rows
        .iter()
        .zip(keys)
        .find(|(_, key)| key.cred_id().as_slice() == used);
    // The counter against the one stored now: webauthn-rs compares it with the
    // credential as it was when the ceremony began, and another sign-in may have moved
    // it since.
    let result = result.and_then(|r| match found {
        Some((row, _))
            if judge_counter(
                u32::try_from(row.sign_count).unwrap_or(u32::MAX),
                r.counter(),
            ) == Counter::WentBack =>
        {
            Err(WebauthnError::CredentialPossibleCompromise)
        }
        _ => Ok(r),
    });
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            let went_back = matches!(e, WebauthnError::CredentialPossibleCompromise);
            let unknown = found.is_none();
            let reason = if went_back {
                "counter_went_back"
            } else if unknown {
                "unknown_passkey"
            } else {
                "not_verified"
            };
            let name = found.map(|(r, _)| r.name.clone());
            refused_with(state, caller, Some(user_id), reason, name, now).await?;
            if went_back {
                if let Some(user) = store::users::by_id(&state.db, user_id).await? {
                    notify(
                        state,
                        caller,
                        &user.email,
                        "A copy of your passkey may exist",
                        "someone signed in with one of your passkeys, but its signature counter went back, which can mean the passkey was copied. The sign-in was refused. If this keeps happening, remove that passkey and add a new one",
                        now,
                    )
                    .await?;
                }
            }
            return Err(Error::wrong(
                "passkey",
                if unknown {
                    NOT_REGISTERED
                } else {
                    NOT_ACCEPTED
                },
            ));
        }
    };
    let Some((row, mut key)) = found else {
        return Err(Error::wrong("passkey", NOT_ACCEPTED));
    };
    key.update_credential(&result);
    if !store::passkeys::record_use(
        &state.db,
        row.id,
        row.sign_count,
        &serde_json::to_string(&key)?,
        result.counter(),
        result.backup_state(),
        now,
    )
    .await?
    {
        // Another assertion of this passkey was stored meanwhile.
        return Err(Error::wrong("passkey", NOT_ACCEPTED));
    }
    Ok(row.id)
}
