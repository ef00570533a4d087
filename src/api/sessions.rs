//! Sessions: the account's signed-in browsers, and ending them.
use crate::model::error::ApiError;
use crate::model::sessions::ActiveSession;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::caller,
    crate::server::{flows::sessions as flow, now},
};

/// The account's live sessions, most recently active first.
#[server(prefix = "/api", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<ActiveSession>, ApiError> {
    let (state, who) = caller()?;
    flow::list(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

/// Ends one other session of the account. Without a recent proof of identity it
/// answers `ProofNeeded`, and the page sends it again with the password.
#[server(prefix = "/api", endpoint = "revoke_session")]
pub async fn revoke_session(id: i64, password: Option<String>) -> Result<(), ApiError> {
    let (state, who) = caller()?;
    flow::revoke(&state, &who, id, password.as_deref(), now())
        .await
        .map_err(ApiError::from)
}

/// Ends every session of the account but this one; how many ended. Asks for a proof
/// of identity like `revoke_session`.
#[server(prefix = "/api", endpoint = "revoke_other_sessions")]
pub async fn revoke_other_sessions(password: Option<String>) -> Result<u64, ApiError> {
    let (state, who) = caller()?;
    flow::revoke_others(&state, &who, password.as_deref(), now())
        .await
        .map_err(ApiError::from)
}
