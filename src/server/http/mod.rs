//! The HTTP edge: router, middleware and the few plain handlers.
pub mod assets;
pub mod cookies;
pub mod dev_mail;
pub mod export;
pub mod middleware;
pub mod page_head;
pub mod rest;

use crate::app::{shell, App};
use crate::server::AppState;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::{CompressionLayer, CompressionLevel};

pub use middleware::RequestCtx;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    // Registers the pages and every server function (under /api/), each with the
    // AppState in its context.
    // The pages and server functions: the session cookie, the cross-site guard.
    let pages = Router::new()
        .route("/dev/mail", get(dev_mail::page))
        .route("/api/security-log/export", get(export::security_log))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(static_or_not_found)
        .layer(axum::middleware::from_fn(middleware::api_status))
        .layer(axum::middleware::from_fn(middleware::page_access))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::cross_site_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ));
    // The REST API: a token, never the cookie (see `rest`).
    Router::new()
        .merge(rest::router(&state))
        .merge(rest::docs())
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::host_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        // Pages and API answers are gzipped as they are sent (brotli on the fly cost
        // more than half the page rate: its encoder sets up megabytes per response);
        // the site's files come precompressed with brotli and are left alone.
        .layer(
            CompressionLayer::new()
                .br(false)
                .gzip(true)
                .quality(CompressionLevel::Fastest),
        )
        .with_state(state)
}

/// A file of the built site from memory, else leptos's handler: the file from disk
/// (while `cargo leptos watch` rebuilds it) or the "Page not found" page with a 404.
async fn static_or_not_found(State(state): State<AppState>, req: Request) -> Response {
    if let Some(res) = state
        .assets
        .respond(req.method(), req.uri().path(), req.headers())
    {
        return res;
    }
    let uri = req.uri().clone();
    leptos_axum::file_and_error_handler::<AppState, _>(shell)(uri, State(state), req).await
}
