//! Settings > Profile (display name, email change), the email-change link pages, and
//! the Security page's checklist.
use crate::model::error::ApiError;
use crate::model::profile::{CheckLine, EmailChangeLink, PendingEmail, Profile};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::{caller, set_cookie, then_show},
    crate::server::{flows::profile as flow, http::cookies, now},
};

#[server(prefix = "/api", endpoint = "profile")]
pub async fn get_profile() -> Result<Profile, ApiError> {
    let (state, who) = caller()?;
    flow::profile(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

/// "Save" on the display name (empty removes it); the answer is the name as kept.
#[server(prefix = "/api", endpoint = "save_display_name")]
pub async fn save_display_name(display_name: String) -> Result<Option<String>, ApiError> {
    let (state, who) = caller()?;
    flow::set_display_name(&state, &who, &display_name, now())
        .await
        .map_err(ApiError::from)
}

/// "Send Verification Link": the password when the page was asked for it (the
/// recent-proof rule).
#[server(prefix = "/api", endpoint = "request_email_change")]
pub async fn request_email_change(
    new_email: String,
    password: Option<String>,
) -> Result<PendingEmail, ApiError> {
    let (state, who) = caller()?;
    flow::start_email_change(&state, &who, &new_email, password.as_deref(), now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "resend_email_change")]
pub async fn resend_email_change() -> Result<PendingEmail, ApiError> {
    let (state, who) = caller()?;
    flow::resend_email_change(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "cancel_email_change")]
pub async fn cancel_email_change() -> Result<(), ApiError> {
    let (state, who) = caller()?;
    flow::cancel_email_change(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

/// What the link to a new address would change (nothing changes here).
#[server(prefix = "/api", endpoint = "email_change_info")]
pub async fn email_change_info(token: String) -> Result<EmailChangeLink, ApiError> {
    let (state, _) = caller()?;
    flow::change_link(&state, &token, now())
        .await
        .map_err(ApiError::from)
}

/// "Confirm New Address": the answer is the account's new address.
#[server(prefix = "/api", endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<String, ApiError> {
    let (state, who) = caller()?;
    let done = flow::confirm_email_change(&state, &who, &token, now()).await?;
    if let Some(session) = &done.session_token {
        set_cookie(&cookies::set_session(&state.config, session));
    }
    then_show("/email-change?done=1");
    Ok(done.new_email)
}

/// What the undo link would put back (nothing changes here).
#[server(prefix = "/api", endpoint = "undo_email_change_info")]
pub async fn undo_email_change_info(token: String) -> Result<EmailChangeLink, ApiError> {
    let (state, _) = caller()?;
    flow::undo_link(&state, &token, now())
        .await
        .map_err(ApiError::from)
}

/// "Undo the Change": the answer is a fresh password-reset link's token.
#[server(prefix = "/api", endpoint = "undo_email_change")]
pub async fn undo_email_change(token: String) -> Result<String, ApiError> {
    let (state, who) = caller()?;
    let reset = flow::undo_email_change(&state, &who, &token, now()).await?;
    then_show(&format!("/undo-email-change?done={reset}"));
    Ok(reset)
}

/// The security checklist of the Security page.
#[server(prefix = "/api", endpoint = "security_checklist")]
pub async fn get_checklist() -> Result<Vec<CheckLine>, ApiError> {
    let (state, who) = caller()?;
    flow::checklist(&state, &who, now())
        .await
        .map_err(ApiError::from)
}
