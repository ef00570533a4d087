//! Password: the Security page's section, change, strength, forgot and reset.
use crate::model::account::{PasswordOverview, ResetRequested};
use crate::model::error::ApiError;
use crate::model::password::PasswordEstimate;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::{caller, set_cookie, then_show},
    crate::server::{flows::password as flow, http::cookies, now},
};

#[server(prefix = "/api", endpoint = "password_overview")]
pub async fn get_password_overview() -> Result<PasswordOverview, ApiError> {
    let (state, who) = caller()?;
    flow::overview(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

/// A strength estimate for the meter under "New Password", and whether the password is
/// a common one for the checklist (called after typing pauses).
#[server(prefix = "/api", endpoint = "password_strength")]
pub async fn password_strength(password: String) -> Result<PasswordEstimate, ApiError> {
    let (state, who) = caller()?;
    flow::estimate(&state, &who, &password, now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    new_password_repeat: String,
) -> Result<i64, ApiError> {
    let (state, who) = caller()?;
    let changed = flow::change(
        &state,
        &who,
        &current_password,
        &new_password,
        &new_password_repeat,
        now(),
    )
    .await?;
    set_cookie(&cookies::set_session(&state.config, &changed.session_token));
    Ok(changed.changed_at)
}

#[server(prefix = "/api", endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<ResetRequested, ApiError> {
    let (state, who) = caller()?;
    let requested = flow::request_reset(&state, &who, &email, now()).await?;
    then_show(&format!(
        "/forgot-password?sent={}",
        requested.valid_minutes
    ));
    Ok(requested)
}

#[server(prefix = "/api", endpoint = "check_reset_link")]
pub async fn check_reset_link(token: String) -> Result<(), ApiError> {
    let (state, _) = caller()?;
    flow::check_reset_link(&state, &token, now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(
    token: String,
    new_password: String,
    new_password_repeat: String,
) -> Result<bool, ApiError> {
    let (state, mut who) = caller()?;
    // The link's token, or (from a page without script) the whole pasted link.
    let token = crate::model::account::token_from_pasted(&token);
    // This browser becomes a device the account knows: the sign-in that follows the
    // reset from it is no news.
    let new_device = crate::server::auth::device::ensure(&state, &mut who);
    let allowlist_off = flow::reset(
        &state,
        &who,
        &token,
        &new_password,
        &new_password_repeat,
        now(),
    )
    .await?;
    if let Some(cookie) = new_device {
        set_cookie(&cookies::set_device(&state.config, &cookie));
    }
    then_show(if allowlist_off {
        "/reset-password?done&allowlist_off"
    } else {
        "/reset-password?done"
    });
    Ok(allowlist_off)
}
