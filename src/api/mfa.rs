//! Multi-factor authentication: the authenticator app, recovery codes, Email Code and
//! the second step of sign-in.
use crate::model::account::SignedIn;
use crate::model::error::ApiError;
use crate::model::mfa::{CodeSent, MfaStatus, RecoveryCodes, SignInOptions, TotpSetup};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::{caller, pending_token, set_cookie, set_signed_in, then_show},
    crate::model::mfa::Method,
    crate::server::domain::sent_code::{Channel, CodePurpose},
    crate::server::{flows::codes, flows::mfa as flow, flows::second_step, http::cookies, now},
};

#[cfg(feature = "ssr")]
fn channel_of(channel: &str) -> Result<Channel, ApiError> {
    Channel::parse(channel).ok_or_else(|| ApiError::invalid("Unknown channel."))
}

#[server(prefix = "/api", endpoint = "mfa_status")]
pub async fn get_mfa_status() -> Result<MfaStatus, ApiError> {
    let (state, who) = caller()?;
    flow::status(&state, &who).await.map_err(ApiError::from)
}

/// Enabling, steps 1 and 2: the password (or an email code when Email Code is on),
/// then the secret and its QR code.
#[server(prefix = "/api", endpoint = "start_totp")]
pub async fn start_totp(password: String, code: Option<String>) -> Result<TotpSetup, ApiError> {
    let (state, who) = caller()?;
    flow::start_totp(
        &state,
        &who,
        &password,
        code.as_deref().unwrap_or(""),
        now(),
    )
    .await
    .map_err(ApiError::from)
}

/// Enabling, step 3: a code from the app; gives the recovery codes of step 4.
#[server(prefix = "/api", endpoint = "confirm_totp")]
pub async fn confirm_totp(code: String) -> Result<Option<RecoveryCodes>, ApiError> {
    let (state, who) = caller()?;
    let enabled = flow::confirm_totp(&state, &who, &code, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &enabled.session_token));
    Ok(enabled.codes)
}

/// "Request Code" of "View Recovery Codes" when the account's strongest method sends
/// codes (email, SMS): the code vouches for showing the recovery codes only.
#[server(prefix = "/api", endpoint = "request_recovery_codes_code")]
pub async fn request_recovery_codes_code() -> Result<CodeSent, ApiError> {
    let (state, who) = caller()?;
    codes::request_codes_code(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "view_recovery_codes")]
pub async fn view_recovery_codes(code: String) -> Result<RecoveryCodes, ApiError> {
    let (state, who) = caller()?;
    flow::view_codes(&state, &who, &code, now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes() -> Result<RecoveryCodes, ApiError> {
    let (state, who) = caller()?;
    flow::regenerate_codes(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "disable_totp")]
pub async fn disable_totp(code: String) -> Result<(), ApiError> {
    let (state, who) = caller()?;
    let token = flow::disable_totp(&state, &who, &code, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &token));
    Ok(())
}

/// "Enable" on Email Code, step 1: the password (or an authenticator code when the app
/// is on); sends the first code.
#[server(prefix = "/api", endpoint = "start_email_code")]
pub async fn start_email_code(password: String, code: String) -> Result<CodeSent, ApiError> {
    let (state, who) = caller()?;
    codes::start_email_code(&state, &who, &password, &code, now())
        .await
        .map_err(ApiError::from)
}

/// "Enable" on Email Code, step 2: the emailed code turns it on; the recovery codes
/// when it was the account's first method.
#[server(prefix = "/api", endpoint = "confirm_email_code")]
pub async fn confirm_email_code(code: String) -> Result<Option<RecoveryCodes>, ApiError> {
    let (state, who) = caller()?;
    let enabled = codes::confirm_email_code(&state, &who, &code, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &enabled.session_token));
    Ok(enabled.codes)
}

/// "Request Code" for the identity step of adding a method (`adding` is "totp" or
/// "sms") while Email Code is on: the code emailed vouches for adding that method only.
#[server(prefix = "/api", endpoint = "request_identity_code")]
pub async fn request_identity_code(adding: String) -> Result<CodeSent, ApiError> {
    let (state, who) = caller()?;
    let adding = Method::parse(&adding)
        .filter(|m| matches!(m, Method::Totp | Method::Sms))
        .ok_or_else(|| ApiError::invalid("Unknown method."))?;
    codes::request_identity_code(&state, &who, adding, now())
        .await
        .map_err(ApiError::from)
}

/// "Request Code" (and the code sent as a dialog opens) for the signed-in owner:
/// `purpose` is "enable" or "disable"; `channel` is "email" or "sms".
#[server(prefix = "/api", endpoint = "request_code")]
pub async fn request_code(purpose: String, channel: String) -> Result<CodeSent, ApiError> {
    let (state, who) = caller()?;
    let purpose =
        CodePurpose::parse(&purpose).ok_or_else(|| ApiError::invalid("Unknown purpose."))?;
    codes::request_code(&state, &who, purpose, channel_of(&channel)?, now())
        .await
        .map_err(ApiError::from)
}

/// "Enable" on SMS Code, step 1: the password (or an authenticator or email code when
/// one is on) and the phone number, with the country as a hint; sends the first code.
#[server(prefix = "/api", endpoint = "start_sms_code")]
pub async fn start_sms_code(
    password: String,
    code: String,
    phone: String,
    country: String,
) -> Result<CodeSent, ApiError> {
    let (state, who) = caller()?;
    codes::start_sms_code(&state, &who, &password, &code, &phone, &country, now())
        .await
        .map_err(ApiError::from)
}

/// "Enable" on SMS Code, step 2: the texted code turns it on; the recovery codes when
/// it was the account's first method.
#[server(prefix = "/api", endpoint = "confirm_sms_code")]
pub async fn confirm_sms_code(code: String) -> Result<Option<RecoveryCodes>, ApiError> {
    let (state, who) = caller()?;
    let enabled = codes::confirm_sms_code(&state, &who, &code, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &enabled.session_token));
    Ok(enabled.codes)
}

/// "Disable" on SMS Code: the code texted as the dialog opened turns it off.
#[server(prefix = "/api", endpoint = "disable_sms_code")]
pub async fn disable_sms_code(code: String) -> Result<(), ApiError> {
    let (state, who) = caller()?;
    let token = codes::disable_sms_code(&state, &who, &code, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &token));
    Ok(())
}

/// "Disable" on Email Code: the code sent as the dialog opened turns it off.
#[server(prefix = "/api", endpoint = "disable_email_code")]
pub async fn disable_email_code(code: String) -> Result<(), ApiError> {
    let (state, who) = caller()?;
    let token = codes::disable_email_code(&state, &who, &code, now()).await?;
    set_cookie(&cookies::set_session(&state.config, &token));
    Ok(())
}

/// The second step of sign-in: which methods it offers.
#[server(prefix = "/api", endpoint = "sign_in_options")]
pub async fn get_sign_in_options() -> Result<SignInOptions, ApiError> {
    let (state, _) = caller()?;
    let pending = pending_token(&state);
    second_step::sign_in_options(&state, pending.as_deref(), now())
        .await
        .map_err(ApiError::from)
}

/// The second step of sign-in: sends a code by the chosen channel ("email", "sms").
#[server(prefix = "/api", endpoint = "send_sign_in_code")]
pub async fn send_sign_in_code(channel: String) -> Result<CodeSent, ApiError> {
    let channel = channel_of(&channel)?;
    let (state, who) = caller()?;
    let pending = pending_token(&state);
    let sent = second_step::send_sign_in_code(&state, &who, pending.as_deref(), channel, now())
        .await
        .map_err(ApiError::from)?;
    // A plain form ("Request Code" pressed before the script ran, or without it) ends
    // on the second step with that method chosen, which shows the code as sent.
    then_show(&format!("/signin/verify?method={}", channel.as_str()));
    Ok(sent)
}

/// The second step of sign-in: a code from the chosen method ("totp", "email",
/// "recovery"), or, without a method, an authenticator code or a recovery code.
#[server(prefix = "/api", endpoint = "verify_sign_in")]
pub async fn verify_sign_in(
    code: String,
    recovery_code: String,
    method: Option<String>,
) -> Result<SignedIn, ApiError> {
    let (state, who) = caller()?;
    let pending = pending_token(&state);
    let result = match method.as_deref().filter(|m| !m.is_empty()) {
        None => second_step::finish_second_step(
            &state,
            &who,
            pending.as_deref(),
            &code,
            &recovery_code,
            now(),
        )
        .await
        .map_err(ApiError::from),
        Some(m) => {
            let method = Method::parse(m).ok_or_else(|| ApiError::invalid("Unknown method."))?;
            let code = if method == Method::Recovery {
                &recovery_code
            } else {
                &code
            };
            second_step::finish_second_step_with(
                &state,
                &who,
                pending.as_deref(),
                method,
                code,
                now(),
            )
            .await
            .map_err(ApiError::from)
        }
    };
    match result {
        Ok(done) => {
            set_signed_in(&state, &done);
            then_show(&done.signed_in.redirect_to);
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
