//! The HTTP edge: router, middleware and the few plain handlers.
pub mod cookies;
pub mod dev_mail;
pub mod middleware;

use crate::app::{shell, App};
use crate::server::AppState;
use axum::routing::get;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub use middleware::{AuthSession, RequestCtx};

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    // Registers the pages and every server function (under /api/), each with the
    // AppState in its context.
    Router::new()
        .route("/dev/mail", get(dev_mail::page))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(middleware::api_status))
        .layer(axum::middleware::from_fn(middleware::page_access))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::cross_site_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        .with_state(state)
}
