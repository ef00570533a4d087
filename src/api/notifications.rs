//! Settings > Notifications (which new sign-ins are told by email) and the notice's
//! "This wasn't me" link.
use crate::model::error::ApiError;
use crate::model::notifications::{NotMeInfo, NotificationSwitches};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::{caller, then_show},
    crate::server::{flows::notices as flow, now},
};

#[server(prefix = "/api", endpoint = "notification_switches")]
pub async fn load_notification_switches() -> Result<NotificationSwitches, ApiError> {
    let (state, who) = caller()?;
    flow::switches(&state, &who).await.map_err(ApiError::from)
}

/// Saves all three switches (the page sends them at each flip).
#[server(prefix = "/api", endpoint = "set_notification_switches")]
pub async fn set_notification_switches(
    new_device: bool,
    new_location: bool,
    new_browser: bool,
) -> Result<NotificationSwitches, ApiError> {
    let (state, who) = caller()?;
    flow::set_switches(
        &state,
        &who,
        NotificationSwitches {
            new_device,
            new_location,
            new_browser,
        },
        now(),
    )
    .await
    .map_err(ApiError::from)
}

/// The browser's IANA time zone, which notices then give times in.
#[server(prefix = "/api", endpoint = "remember_time_zone")]
pub async fn remember_time_zone(zone: String) -> Result<(), ApiError> {
    let (state, who) = caller()?;
    flow::remember_zone(&state, &who, &zone)
        .await
        .map_err(ApiError::from)
}

/// What the link's notice said about the sign-in (nothing changes).
#[server(prefix = "/api", endpoint = "not_me_info")]
pub async fn load_not_me(token: String) -> Result<NotMeInfo, ApiError> {
    let (state, _) = caller()?;
    flow::not_me_info(&state, &token, now())
        .await
        .map_err(ApiError::from)
}

/// "Sign out that session": the answer is a fresh password-reset link's token.
#[server(prefix = "/api", endpoint = "not_me")]
pub async fn not_me(token: String) -> Result<String, ApiError> {
    let (state, who) = caller()?;
    let reset = flow::not_me(&state, &who, &token, now()).await?;
    then_show(&format!("/not-me?done={reset}"));
    Ok(reset)
}

/// "Sign out all other sessions", with the reset link's token that "This wasn't me"
/// gave: every session of the account but the caller's own ends.
#[server(prefix = "/api", endpoint = "not_me_sign_out_all")]
pub async fn not_me_sign_out_all(reset: String) -> Result<u64, ApiError> {
    let (state, who) = caller()?;
    let ended = flow::sign_out_all(&state, &who, &reset, now()).await?;
    then_show(&format!("/not-me?done={reset}&signed_out={ended}"));
    Ok(ended)
}
