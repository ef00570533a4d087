//! Passkeys: adding one (the recent-proof rule, then the browser's own prompt),
//! renaming and removing, and signing in with one and no password. The assertion
//! itself is judged in `auth::passkey` (it is also the second step of a password
//! sign-in and a proof inside a session).
use super::mfa::{issue_codes_if_due, Enabled};
use super::second_step::SecondStepDone;
use crate::model::account::{safe_next, SignedIn};
use crate::model::mfa::{PasskeyInfo, PASSKEYS_FULL};
use crate::server::audit::log;
use crate::server::audit::log_within;
use crate::server::auth::change::{Change, Notice, Sessions};
use crate::server::auth::identity::require_recent_proof;
use crate::server::auth::passkey::{
    self as proof, bound_to_browser, bound_to_session, relying_party, ADD, EXPIRED, MAX_RESPONSE,
};
use crate::server::auth::session::start_session;
use crate::server::auth::{not_signed_in, require_verified_email, Caller};
use crate::server::domain::passkey::{
    check_passkey_name, default_name, may_add, read_auth_data, CEREMONY_SECS,
};
use crate::server::domain::security_log::EventKind;
use crate::server::domain::tokens::new_token;
use crate::server::error::{internal, Error, Result};
use crate::server::{store, AppState};
use serde_json::json;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential, Url, Uuid};

/// The relying party for a site at `public_base_url`: its host is the RP ID, its origin
/// the one origin accepted. `None` for an IP address (WebAuthn takes domain names only)
/// or a host WebAuthn refuses.
pub fn relying_party_for(public_base_url: &Url) -> Option<webauthn_rs::Webauthn> {
    let host = public_base_url.host_str()?;
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    webauthn_rs::WebauthnBuilder::new(host, public_base_url)
        .ok()?
        .rp_name("Latchkey")
        .timeout(std::time::Duration::from_secs(CEREMONY_SECS as u64))
        .build()
        .ok()
}

/// The passkeys as the Security page lists them.
pub async fn list(state: &AppState, user_id: i64) -> Result<Vec<PasskeyInfo>> {
    Ok(store::passkeys::for_user(&state.db, user_id)
        .await?
        .into_iter()
        .map(|r| PasskeyInfo {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            synced: r.backed_up != 0,
        })
        .collect())
}

/// "Add a passkey", first half: the recent-proof rule (the password when asked), then
/// the options for `navigator.credentials.create` (a discoverable credential, user
/// verification required, the account's passkeys excluded).
pub async fn begin_add(
    state: &AppState,
    caller: &Caller,
    password: Option<&str>,
    now: i64,
) -> Result<String> {
    let s = caller.signed_in()?;
    require_verified_email(s)?;
    let webauthn = relying_party(state)?;
    require_recent_proof(state, caller, password, now).await?;
    proof::count_ceremony(state, caller, "session", now).await?;
    let rows = store::passkeys::for_user(&state.db, s.user_id).await?;
    if !may_add(rows.len() as i64) {
        return Err(Error::invalid(PASSKEYS_FULL));
    }
    let fresh = Uuid::from_bytes(rand::random::<[u8; 16]>()).to_string();
    let handle = store::passkeys::user_handle(&state.db, s.user_id, &fresh).await?;
    let handle = Uuid::parse_str(&handle).map_err(|e| internal(format!("user handle: {e}")))?;
    let exclude = proof::credentials(&rows)?
        .iter()
        .map(|k| k.cred_id().clone())
        .collect();
    let shown = s.display_name.clone().unwrap_or_else(|| s.email.clone());
    let (ccr, registration) = webauthn
        .start_passkey_registration(handle, &s.email, &shown, Some(exclude))
        .map_err(|e| internal(format!("passkey registration: {e}")))?;
    // A discoverable credential (a resident key): it signs in with no address typed.
    // (webauthn-rs's passkey options leave it "discouraged"; registration does not
    // depend on it, and `credProps.rk` in the answer says what the authenticator did.)
    let mut options = serde_json::to_value(&ccr.public_key)?;
    options["authenticatorSelection"]["residentKey"] = "required".into();
    options["authenticatorSelection"]["requireResidentKey"] = true.into();
    store::passkeys::put_ceremony(
        &state.db,
        ADD,
        &bound_to_session(s.session_id),
        Some(s.user_id),
        &serde_json::to_string(&registration)?,
        now,
        now + CEREMONY_SECS,
    )
    .await?;
    Ok(options.to_string())
}

/// "Add a passkey", second half: the browser's answer checked against the ceremony
/// (once), the passkey stored (at most ten), recovery codes when it is the account's
/// first method, a new session id, the log and the owner's notice.
pub async fn finish_add(
    state: &AppState,
    caller: &Caller,
    response: &str,
    now: i64,
) -> Result<Enabled> {
    let s = caller.signed_in()?;
    let webauthn = relying_party(state)?;
    if response.len() > MAX_RESPONSE {
        return Err(Error::invalid(NOT_ADDED));
    }
    let credential: RegisterPublicKeyCredential =
        serde_json::from_str(response).map_err(|_| Error::invalid(NOT_ADDED))?;
    let Some(ceremony) = proof::take_ceremony(state, ADD, &bound_to_session(s.session_id), now)
        .await?
        .filter(|c| c.user_id == Some(s.user_id))
    else {
        proof::refused(state, caller, Some(s.user_id), "no_ceremony", now).await?;
        return Err(Error::invalid(EXPIRED));
    };
    let registration: PasskeyRegistration = serde_json::from_str(&ceremony.state)?;
    let passkey = match webauthn.finish_passkey_registration(&credential, &registration) {
        Ok(p) => p,
        Err(e) => {
            log(
                state,
                caller,
                Some(s.user_id),
                EventKind::PasskeyRefused,
                now,
                json!({"reason": "registration", "error": e.to_string()}),
            )
            .await?;
            return Err(Error::invalid(NOT_ADDED));
        }
    };
    let auth_data = serde_cbor_2::from_slice::<serde_cbor_2::Value>(
        credential.response.attestation_object.as_ref(),
    )
    .ok()
    .and_then(|v| match v {
        serde_cbor_2::Value::Map(m) => m
            .into_iter()
            .find(|(k, _)| *k == serde_cbor_2::Value::Text("authData".into()))
            .and_then(|(_, v)| match v {
                serde_cbor_2::Value::Bytes(b) => read_auth_data(&b),
                _ => None,
            }),
        _ => None,
    })
    .ok_or_else(|| Error::invalid(NOT_ADDED))?;
    let aaguid = auth_data.aaguid.unwrap_or_default();
    let name = default_name(&aaguid);
    let resident_key = credential
        .extensions
        .cred_props
        .as_ref()
        .and_then(|c| c.rk)
        .unwrap_or(false);
    let mut change = Change::of_caller(state, caller, now).await?;
    if !may_add(store::passkeys::lock_count(change.tx(), s.user_id).await?) {
        return Err(Error::invalid(PASSKEYS_FULL));
    }
    let stored = store::passkeys::insert(
        change.tx(),
        &store::passkeys::NewPasskey {
            user_id: s.user_id,
            credential_id: passkey.cred_id().as_slice(),
            credential: &serde_json::to_string(&passkey)?,
            name,
            aaguid: &aaguid,
            resident_key,
            backup_eligible: auth_data.backup_eligible,
            backed_up: auth_data.backed_up,
            sign_count: 0,
            now,
        },
    )
    .await?;
    if stored.is_none() {
        return Err(Error::invalid("This passkey is already registered."));
    }
    let codes = issue_codes_if_due(state, change.tx(), s.user_id, &s.email, now).await?;
    let done = change
        .commit(
            Sessions::ContinueCaller,
            EventKind::MfaEnabled,
            json!({
                "method": "passkey",
                "name": name,
                "resident_key": resident_key,
                "recovery_codes_issued": codes.is_some(),
            }),
            Notice::new(
                "Passkey added",
                format!("a passkey (“{name}”) was added to your account"),
            ),
        )
        .await?;
    Ok(Enabled {
        codes,
        session_token: done.session_token.ok_or_else(not_signed_in)?,
    })
}

const NOT_ADDED: &str =
    "The passkey could not be added: your browser's answer did not check out. Try again.";

/// Renames one of the caller's passkeys.
pub async fn rename(
    state: &AppState,
    caller: &Caller,
    id: i64,
    name: &str,
    now: i64,
) -> Result<String> {
    let s = caller.signed_in()?;
    let name = check_passkey_name(name).map_err(|m| Error::field("name", m))?;
    if !store::passkeys::rename(&state.db, s.user_id, id, &name).await? {
        return Err(Error::invalid("This passkey was removed meanwhile."));
    }
    log(
        state,
        caller,
        Some(s.user_id),
        EventKind::PasskeyRenamed,
        now,
        json!({"name": name}),
    )
    .await?;
    Ok(name)
}

/// Removes one of the caller's passkeys, confirmed by the password (always: like
/// turning off any other method, it is never done on a recent sign-in alone); the
/// recovery codes go with the account's last method. Gives the new session token.
pub async fn remove(
    state: &AppState,
    caller: &Caller,
    id: i64,
    password: &str,
    now: i64,
) -> Result<String> {
    caller.signed_in()?;
    crate::server::auth::identity::confirm_password(state, caller, password, now).await?;
    let user_id = caller.signed_in()?.user_id;
    let mut change = Change::of_caller(state, caller, now).await?;
    let Some(name) = store::passkeys::delete(change.tx(), user_id, id).await? else {
        return Err(Error::invalid("This passkey was removed meanwhile."));
    };
    let codes_gone = store::mfa::delete_recovery_codes_if_no_method(change.tx(), user_id).await?;
    let done = change
        .commit(
            Sessions::ContinueCaller,
            EventKind::MfaDisabled,
            json!({"method": "passkey", "name": name, "recovery_codes_removed": codes_gone}),
            Notice::telling_sign_in(
                "Passkey removed",
                format!("the passkey “{name}” was removed from your account"),
            ),
        )
        .await?;
    done.session_token.ok_or_else(not_signed_in)
}

/// A passkey sign-in, first half: a ceremony for any passkey of this site, bound to a
/// random id that only this browser gets (in a cookie). Gives the options and that id.
/// Counted per address (each keeps a row).
pub async fn begin_sign_in(
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<(String, String)> {
    let ceremony = new_token();
    let options = proof::begin(
        state,
        caller,
        None,
        &bound_to_browser(state, &ceremony),
        now,
    )
    .await?;
    Ok((options, ceremony))
}

/// A passkey sign-in, second half: the assertion judged (user verification makes it
/// two factors: no password, no second step), the IP allowlist, the session.
pub async fn finish_sign_in(
    state: &AppState,
    caller: &Caller,
    ceremony: &str,
    response: &str,
    next: Option<&str>,
    now: i64,
) -> Result<SecondStepDone> {
    let (user_id, passkey) =
        proof::verify_discovered(state, caller, ceremony, response, now).await?;
    if !crate::server::auth::allowlist::permits(state, user_id, None, caller).await? {
        crate::server::auth::allowlist::refused(
            state,
            caller,
            user_id,
            crate::server::auth::allowlist::At::SignIn,
            now,
        )
        .await?;
        return Err(Error::unauthorized(proof::NOT_ACCEPTED));
    }
    // Writes first (on SQLite the transaction then holds the write lock, so what it
    // reads next cannot be overtaken by another writer).
    let mut tx = state.db.begin().await?;
    if let Some(old) = caller.session() {
        store::sessions::delete(&mut *tx, old.session_id).await?;
    }
    let (session_token, session_id) =
        start_session(&mut *tx, state, user_id, caller, now, now).await?;
    if !store::passkeys::still_there(&mut *tx, passkey).await? {
        // Removed while its assertion was being judged: the session is not kept.
        return Err(Error::unauthorized(proof::NOT_REGISTERED));
    }
    store::codes::set_last_second_factor(&mut *tx, user_id, "passkey").await?;
    // Not the mailbox: email codes count again after a reset by link.
    store::users::clear_reset_by_link(&mut *tx, user_id).await?;
    log_within(
        &mut tx,
        caller,
        Some(user_id),
        EventKind::SignInSucceeded,
        now,
        json!({"second_factor": "passkey", "passwordless": true}),
    )
    .await?;
    tx.commit().await?;
    let device_cookie =
        crate::server::flows::notices::signed_in_now(state, caller, user_id, session_id, now).await;
    Ok(SecondStepDone {
        session_token,
        signed_in: SignedIn {
            redirect_to: safe_next(next),
        },
        device_cookie,
    })
}

/// A proof inside the session with one of the caller's passkeys (viewing recovery
/// codes, adding another method): the options; the answer goes to `factor::check`.
pub async fn begin_identity(state: &AppState, caller: &Caller, now: i64) -> Result<String> {
    let s = caller.signed_in()?;
    proof::begin(
        state,
        caller,
        Some(s.user_id),
        &bound_to_session(s.session_id),
        now,
    )
    .await
}
