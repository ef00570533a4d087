//! Settings > IP allowlist.
use crate::model::allowlist::{AddressTest, AllowEntry, AllowlistView};
use crate::model::error::ApiError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::caller,
    crate::server::{flows::allowlist as flow, now},
};

#[server(prefix = "/api", endpoint = "allowlist")]
pub async fn load_allowlist() -> Result<AllowlistView, ApiError> {
    let (state, who) = caller()?;
    flow::view(&state, &who).await.map_err(ApiError::from)
}

/// "Save configuration": the switch and the whole list. Without a recent proof of
/// identity it answers `ProofNeeded`, and the page sends it again with the password.
#[server(prefix = "/api", endpoint = "save_allowlist")]
pub async fn save_allowlist(
    enabled: bool,
    #[server(default)] entries: Vec<AllowEntry>,
    #[server(default)] understood: bool,
    password: Option<String>,
) -> Result<AllowlistView, ApiError> {
    let (state, who) = caller()?;
    flow::save(
        &state,
        &who,
        enabled,
        entries,
        understood,
        password.as_deref(),
        now(),
    )
    .await
    .map_err(ApiError::from)
}

/// "Test an address" against the saved list.
#[server(prefix = "/api", endpoint = "test_allowlist_address")]
pub async fn test_allowlist_address(address: String) -> Result<AddressTest, ApiError> {
    let (state, who) = caller()?;
    flow::test_address(&state, &who, &address)
        .await
        .map_err(ApiError::from)
}
