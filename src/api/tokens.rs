//! Settings > API tokens: personal access tokens of the signed-in account.
use crate::model::error::ApiError;
use crate::model::tokens::{NewToken, TokenList};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::caller,
    crate::model::tokens::Expiry,
    crate::server::{flows::tokens as flow, now},
};

/// The account's tokens (never their secrets) and the form's limits.
#[server(prefix = "/api", endpoint = "tokens")]
pub async fn list_tokens() -> Result<TokenList, ApiError> {
    let (state, who) = caller()?;
    // A page's call comes with the session; a token never reaches a server function.
    who.signed_in()?;
    flow::list(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

/// "Generate Token": `expiration` is a number of days, "custom" (with `date`,
/// YYYY-MM-DD) or "never"; `scopes` the permissions' names. Without a recent proof of
/// identity it answers `ProofNeeded`, and the page sends it again with the password.
#[server(prefix = "/api", endpoint = "create_token")]
pub async fn create_token(
    name: String,
    expiration: String,
    date: String,
    // None ticked is sent as no field at all.
    #[server(default)] scopes: Vec<String>,
    password: Option<String>,
) -> Result<NewToken, ApiError> {
    let (state, who) = caller()?;
    let expiry = Expiry::from_form(&expiration, &date)
        .ok_or_else(|| ApiError::field("expiration", "Choose an expiration."))?;
    let req = flow::Request {
        name: &name,
        expiry,
        scopes: &scopes,
        password: password.as_deref(),
    };
    flow::create(&state, &who, req, now())
        .await
        .map_err(ApiError::from)
}

/// "Regenerate": a new secret for the token, the old one refused at once.
#[server(prefix = "/api", endpoint = "regenerate_token")]
pub async fn regenerate_token(id: i64, password: Option<String>) -> Result<NewToken, ApiError> {
    let (state, who) = caller()?;
    flow::regenerate(&state, &who, id, password.as_deref(), now())
        .await
        .map_err(ApiError::from)
}

/// "Revoke": the token's next request is refused.
#[server(prefix = "/api", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), ApiError> {
    let (state, who) = caller()?;
    flow::revoke(&state, &who, id, now())
        .await
        .map_err(ApiError::from)
}
