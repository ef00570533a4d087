use super::cookies;
use crate::model::account::safe_next;
use crate::model::error::ApiError;
use crate::server::auth::{self, Caller};
use crate::server::domain::client_address::client_address;
use crate::server::{now, AppState};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;

/// Put into every request's extensions by [`request_context`].
#[derive(Clone, Debug, Default)]
pub struct RequestCtx(pub Caller);

fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path.starts_with("/favicon.") || path.ends_with(".css")
}

/// The client address and user agent of a request: the one place the address is
/// worked out (trusted proxies); throttles, the log, sessions and mail all take it
/// from the caller made from it.
pub fn client_of(state: &AppState, req: &Request) -> (String, String) {
    let ext = req.extensions();
    let ip = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| ext.get::<MockConnectInfo<SocketAddr>>().map(|c| c.0))
        .map(|addr| {
            client_address(
                addr.ip(),
                req.headers(),
                &state.config.server.trusted_proxies,
                state.config.server.forwarded_header,
            )
            .to_string()
        })
        .unwrap_or_else(|| "unknown".into());
    let user_agent: String = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(512)
        .collect();
    (ip, user_agent)
}

/// Works out who is calling: client address, user agent and a live session, if any.
/// Ends sessions past their idle or absolute limit.
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if is_static(req.uri().path()) {
        return next.run(req).await;
    }
    let (ip, user_agent) = client_of(&state, &req);
    let mut caller = Caller::new(&ip, &user_agent, None);
    caller.device_cookie = cookies::device_cookie_value(&state.config, req.headers());
    let mut clear_cookie = false;
    let mut outside_allowlist = false;
    if let Some(token) = cookies::session_token(&state.config, req.headers()) {
        match auth::session::resolve(&state, &token, &caller, now()).await {
            Ok(auth::session::Found::Live(session)) => {
                caller.principal = Some(auth::Principal::Session(session));
            }
            Ok(auth::session::Found::Gone) => clear_cookie = true,
            Ok(auth::session::Found::OutsideAllowlist) => {
                clear_cookie = true;
                outside_allowlist = true;
            }
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "Service unavailable").into_response();
            }
        }
    }
    // A page asked for by a session the allowlist just ended: the sign-in page, saying
    // why (a server function's call simply finds nobody signed in).
    let page_request = req.method() == Method::GET && !req.uri().path().starts_with("/api/");
    req.extensions_mut().insert(RequestCtx(caller));
    let mut res = if outside_allowlist && page_request {
        axum::response::Redirect::to("/signin?signed_out=allowlist").into_response()
    } else {
        next.run(req).await
    };
    if clear_cookie && !res.headers().contains_key(header::SET_COOKIE) {
        if let Ok(v) = HeaderValue::from_str(&cookies::clear_session(&state.config)) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Refuses state-changing requests that a browser marks as coming from another site,
/// or that carry neither Sec-Fetch-Site nor a matching Origin.
pub async fn cross_site_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let allowed = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin",
        None => match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) => {
                let host = headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let scheme = state.config.server.public_base_url.scheme();
                origin == state.config.public_origin() || origin == format!("{scheme}://{host}")
            }
            None => false,
        },
    };
    if allowed {
        next.run(req).await
    } else {
        api_error_response(&ApiError::Forbidden(
            "This request came from another site and was refused.".into(),
        ))
    }
}

pub fn api_error_response(err: &ApiError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(err).unwrap_or_else(|_| "{}".into());
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut()
        .insert("serverfnerror", HeaderValue::from_static("/api"));
    res
}

/// Sends signed-out visitors of settings pages to sign-in (and back after it), and
/// signed-in visitors of the sign-in and sign-up pages to their settings.
pub async fn page_access(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let signed_in = req
        .extensions()
        .get::<RequestCtx>()
        .map(|c| c.0.session().is_some())
        .unwrap_or(false);
    let path = req.uri().path();
    if !signed_in && (path == "/settings" || path.starts_with("/settings/")) {
        let here = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(path);
        let next_param: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        return Redirect::to(&format!("/signin?next={next_param}")).into_response();
    }
    if signed_in && (path == "/signin" || path == "/signup" || path == "/") {
        let target = req.uri().query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "next")
                .map(|(_, v)| v.into_owned())
        });
        return Redirect::to(&safe_next(target.as_deref())).into_response();
    }
    if signed_in && path == "/settings" {
        return Redirect::to("/settings/security").into_response();
    }
    if !signed_in && path == "/" {
        return Redirect::to("/signin").into_response();
    }
    next.run(req).await
}

/// How long a "too many attempts" answer is held back (at most its Retry-After): a
/// client that retries at once, as a storm of sign-ins does, then sends one request a
/// second per connection instead of keeping the server busy refusing it. A held-back
/// answer costs a timer, not a thread.
pub const REFUSAL_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Gives each server-function error its HTTP status (400 bad input, 401, 403, 429, ...).
/// A plain form's error (script off or not yet running) is a redirect back to its page
/// with the error in the query, which the page shows: that stays a redirect (a "too
/// many" one held back all the same).
pub async fn api_status(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let res = next.run(req).await;
    if !res.headers().contains_key("serverfnerror") {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response(),
    };
    if parts.status.is_redirection() {
        parts.headers.remove("serverfnerror");
    }
    if let Ok(err) = serde_json::from_slice::<ApiError>(&bytes) {
        if !parts.status.is_redirection() {
            parts.status =
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        }
        if let ApiError::TooManyRequests { retry_after } = err {
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                parts.headers.insert(header::RETRY_AFTER, v);
            }
            tokio::time::sleep(REFUSAL_DELAY.min(std::time::Duration::from_secs(retry_after)))
                .await;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Headers on every answer. Pages bring their own Content-Security-Policy (with the
/// nonce of their scripts, see `app::shell`); everything else gets one that allows
/// nothing. Under https, browsers are told to use nothing else for two years.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let static_asset = is_static(req.uri().path());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        );
    }
    if state.config.is_https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    if !static_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Answers only under the name in `server.public_base_url`: a page fetched under any
/// other name (DNS rebinding: an attacker's name pointing at this server) is refused,
/// so no other site's script can read it.
pub async fn host_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    match host {
        Some(host) if !state.config.is_public_host(host) => (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "This server answers only as {}.",
                state.config.public_origin()
            ),
        )
            .into_response(),
        _ => next.run(req).await,
    }
}
