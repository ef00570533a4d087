//! The security log, a page at a time. (Its CSV and JSON Lines exports are plain
//! downloads: `server::http::export`.)
use crate::model::error::ApiError;
use crate::model::security_log::LogPage;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::caller, crate::model::security_log::LogFilter,
    crate::server::flows::security_log as flow,
};

/// Up to 50 events of the account, newest first, under the filters, after the cursor
/// of the page before (none: the newest).
#[server(prefix = "/api", endpoint = "security_log")]
pub async fn security_log(
    category: Option<String>,
    from: Option<i64>,
    until: Option<i64>,
    after: Option<String>,
) -> Result<LogPage, ApiError> {
    let (state, who) = caller()?;
    let filter = LogFilter {
        category,
        from,
        until,
    };
    flow::page(&state, &who, &filter, after.as_deref())
        .await
        .map_err(ApiError::from)
}
