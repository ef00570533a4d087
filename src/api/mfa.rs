//! Multi-factor authentication: the authenticator app and recovery codes.
use crate::model::account::SignedIn;
use crate::model::error::ApiError;
use crate::model::mfa::{MfaStatus, RecoveryCodes, TotpSetup};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::{caller, pending_token, set_cookie},
    crate::server::{flows::mfa as flow, http::cookies, now},
};

#[server(prefix = "/api", endpoint = "mfa_status")]
pub async fn get_mfa_status() -> Result<MfaStatus, ApiError> {
    let (state, who) = caller()?;
    flow::status(&state, &who).await
}

/// Enabling, steps 1 and 2: the password, then the secret and its QR code.
#[server(prefix = "/api", endpoint = "start_totp")]
pub async fn start_totp(password: String) -> Result<TotpSetup, ApiError> {
    let (state, who) = caller()?;
    flow::start_totp(&state, &who, &password, now()).await
}

/// Enabling, step 3: a code from the app; gives the recovery codes of step 4.
#[server(prefix = "/api", endpoint = "confirm_totp")]
pub async fn confirm_totp(code: String) -> Result<RecoveryCodes, ApiError> {
    let (state, who) = caller()?;
    let enabled = flow::confirm_totp(&state, &who, &code, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &enabled.session_token));
    Ok(enabled.codes)
}

#[server(prefix = "/api", endpoint = "view_recovery_codes")]
pub async fn view_recovery_codes(code: String) -> Result<RecoveryCodes, ApiError> {
    let (state, who) = caller()?;
    flow::view_codes(&state, &who, &code, now()).await
}

#[server(prefix = "/api", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes() -> Result<RecoveryCodes, ApiError> {
    let (state, who) = caller()?;
    flow::regenerate_codes(&state, &who, now()).await
}

#[server(prefix = "/api", endpoint = "disable_totp")]
pub async fn disable_totp(code: String) -> Result<(), ApiError> {
    let (state, who) = caller()?;
    let token = flow::disable_totp(&state, &who, &code, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &token));
    Ok(())
}

/// The second step of sign-in: an authenticator code, or a recovery code.
#[server(prefix = "/api", endpoint = "verify_sign_in")]
pub async fn verify_sign_in(code: String, recovery_code: String) -> Result<SignedIn, ApiError> {
    let (state, who) = caller()?;
    let pending = pending_token(&state);
    let result = flow::finish_second_step(
        &state,
        &who,
        pending.as_deref(),
        &code,
        &recovery_code,
        now(),
    )
    .await;
    match result {
        Ok(done) => {
            set_cookie(&cookies::clear_pending(&state.config));
            set_cookie(&cookies::set_session(&state.config, &done.session_token));
            Ok(done.signed_in)
        }
        Err(e) => {
            if matches!(e, ApiError::Unauthorized(_)) {
                set_cookie(&cookies::clear_pending(&state.config));
            }
            Err(e)
        }
    }
}
