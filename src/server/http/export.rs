//! The security log's downloads: `GET /api/security-log/export?format=csv|jsonl` with
//! the page's filters (`category`, `from`, `until`), streamed a batch at a time.
use super::middleware::{api_error_response, RequestCtx};
use crate::model::error::ApiError;
use crate::model::security_log::LogFilter;
use crate::server::flows::security_log::{start_export, Format};
use crate::server::{now, AppState};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;

/// The query string. (Not `#[serde(flatten)]` of a `LogFilter`: flattened fields
/// reach the URL decoder as text, and the numbers would never parse.)
#[derive(serde::Deserialize)]
pub struct ExportQuery {
    format: String,
    category: Option<String>,
    from: Option<i64>,
    until: Option<i64>,
}

pub async fn security_log(
    State(state): State<AppState>,
    ctx: Option<Extension<RequestCtx>>,
    headers: axum::http::HeaderMap,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // A download is a GET, which the cross-site guard lets through; another site must
    // not be able to start one (and make the server read the whole log) for a
    // signed-in visitor. Browsers say where a request comes from; other clients
    // (curl, scripts with the cookie) send nothing and are let through.
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return api_error_response(&ApiError::Forbidden(
                "An export can only be asked for from Latchkey's own pages.".into(),
            ));
        }
    }
    let Ok(Query(query)) = query else {
        return api_error_response(&ApiError::invalid(
            "The export was asked for with a filter that is not valid.",
        ));
    };
    let format = match query.format.as_str() {
        "csv" => Format::Csv,
        "jsonl" => Format::JsonLines,
        _ => return api_error_response(&ApiError::field("format", "Choose CSV or JSON Lines.")),
    };
    let caller = ctx.map(|c| c.0 .0.clone()).unwrap_or_default();
    let filter = LogFilter {
        category: query.category,
        from: query.from,
        until: query.until,
    };
    let export = match start_export(&state, &caller, filter, format, now()).await {
        Ok(e) => e,
        Err(e) => return api_error_response(&ApiError::from(e)),
    };
    stream(state, export)
}

/// Sends an export as it is read: a few batches in flight at most, so the database is
/// read as fast as the client takes the file, no faster.
pub fn stream(state: AppState, export: crate::server::flows::security_log::Export) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", export.file_name);
    let format = export.format;
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(export.run(state, tx));
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
