//! Passkeys: adding, renaming and removing them on the Security page, and signing in
//! with one (with no password, or as the second step).
use crate::model::account::SignedIn;
use crate::model::error::ApiError;
use crate::model::mfa::RecoveryCodes;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::{caller, pending_token, set_cookie, set_signed_in},
    crate::server::{flows::passkeys as flow, flows::second_step, http::cookies, now},
};

/// "Add a passkey": the recent-proof rule (the password once asked), then the options
/// for the browser's prompt.
#[server(prefix = "/api", endpoint = "start_add_passkey")]
pub async fn start_add_passkey(password: Option<String>) -> Result<String, ApiError> {
    let (state, who) = caller()?;
    flow::begin_add(&state, &who, password.as_deref(), now())
        .await
        .map_err(ApiError::from)
}

/// "Add a passkey": the browser's answer; the recovery codes when it is the account's
/// first method.
#[server(prefix = "/api", endpoint = "finish_add_passkey")]
pub async fn finish_add_passkey(response: String) -> Result<Option<RecoveryCodes>, ApiError> {
    let (state, who) = caller()?;
    let added = flow::finish_add(&state, &who, &response, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &added.session_token));
    Ok(added.codes)
}

#[server(prefix = "/api", endpoint = "rename_passkey")]
pub async fn rename_passkey(id: i64, name: String) -> Result<String, ApiError> {
    let (state, who) = caller()?;
    flow::rename(&state, &who, id, &name, now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "remove_passkey")]
pub async fn remove_passkey(id: i64, password: String) -> Result<(), ApiError> {
    let (state, who) = caller()?;
    let token = flow::remove(&state, &who, id, &password, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &token));
    Ok(())
}

/// "Sign in with a passkey" (and the sign-in page's autofill): the options; the
/// ceremony's id goes into a cookie, so that only this browser can finish it.
#[server(prefix = "/api", endpoint = "passkey_sign_in_options")]
pub async fn passkey_sign_in_options() -> Result<String, ApiError> {
    let (state, who) = caller()?;
    let (options, ceremony) = flow::begin_sign_in(&state, &who, now()).await?;
    set_cookie(&cookies::set_passkey_ceremony(&state.config, &ceremony));
    Ok(options)
}

/// A passkey sign-in: no password, no second step.
#[server(prefix = "/api", endpoint = "passkey_sign_in")]
pub async fn passkey_sign_in(response: String, next: Option<String>) -> Result<SignedIn, ApiError> {
    let (state, who) = caller()?;
    let ceremony = use_context::<axum::http::request::Parts>()
        .and_then(|p| cookies::passkey_ceremony(&state.config, &p.headers))
        .unwrap_or_default();
    set_cookie(&cookies::clear_passkey_ceremony(&state.config));
    let done =
        flow::finish_sign_in(&state, &who, &ceremony, &response, next.as_deref(), now()).await?;
    set_signed_in(&state, &done);
    Ok(done.signed_in)
}

/// The second step with a passkey: the options for this half-done sign-in (the answer
/// goes to `verify_sign_in` with the method "passkey").
#[server(prefix = "/api", endpoint = "passkey_second_step_options")]
pub async fn passkey_second_step_options() -> Result<String, ApiError> {
    let (state, who) = caller()?;
    let pending = pending_token(&state);
    second_step::passkey_options(&state, &who, pending.as_deref(), now())
        .await
        .map_err(ApiError::from)
}

/// A proof with a passkey inside the session (viewing recovery codes, adding a method).
#[server(prefix = "/api", endpoint = "passkey_identity_options")]
pub async fn passkey_identity_options() -> Result<String, ApiError> {
    let (state, who) = caller()?;
    flow::begin_identity(&state, &who, now())
        .await
        .map_err(ApiError::from)
}
