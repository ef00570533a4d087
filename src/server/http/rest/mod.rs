//! The REST API at `/api/v1`: JSON for programs, opened only by a personal access
//! token (`Authorization: Bearer`). It reads no cookie, so a browser session never
//! opens it and it needs no cross-site guard; the pages and server functions read no
//! `Authorization` header, so a token never opens them. Handlers are thin: the caller
//! from [`bearer`], one use case, its error as a problem (RFC 9457).
//! The OpenAPI 3.1 description is generated from the handlers (`utoipa`).
mod handlers;
pub mod introspect;
pub mod problem;

use crate::server::auth::token::{self, Refused};
use crate::server::auth::{Caller, Principal};
use crate::server::domain::access_token::from_authorization;
use crate::server::{now, AppState};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use problem::Problem;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The caller of a REST request, made by [`bearer`].
#[derive(Clone)]
pub struct ApiCaller(pub Caller);

/// The client's address and user agent, before any token is looked at.
#[derive(Clone)]
pub struct Client(pub Caller);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Latchkey API",
        version = "1",
        description = "Your account's security data, opened by a personal access token \
            (Settings > API tokens). Send it as `Authorization: Bearer lk_pat_...`. \
            Every error is `application/problem+json`."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem)),
    tags(
        (name = "account", description = "The account the token belongs to"),
        (name = "sessions", description = "Signed-in browsers"),
        (name = "events", description = "The security log"),
        (name = "tokens", description = "Personal access tokens (never their secrets)"),
        (name = "introspection", description = "For the operator's other services (RFC 7662)")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lk_pat_")
                    .build(),
            ),
        );
        c.add_security_scheme(
            "introspection_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A key from the setting api.introspection_keys"))
                    .build(),
            ),
        );
    }
}

/// The routes that a token opens, and the description of all of them.
fn split() -> (Router<AppState>, Router<AppState>, utoipa::openapi::OpenApi) {
    let (with_token, mut api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(handlers::account))
        .routes(routes!(handlers::sessions))
        .routes(routes!(handlers::revoke_session))
        .routes(routes!(handlers::events))
        .routes(routes!(handlers::export_events))
        .routes(routes!(handlers::tokens))
        .split_for_parts();
    let (open, open_api) = OpenApiRouter::new()
        .routes(routes!(introspect::introspect))
        .split_for_parts();
    api.merge(open_api);
    api.info.version = "1".into();
    (with_token, open, api)
}

/// The description served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = split().2;
    api.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    api
}

/// `/api/v1`: its own stack of middleware (no cookies, no cross-site guard), CORS
/// only for the origins in `api.cors_origins`.
pub fn router(state: &AppState) -> Router<AppState> {
    let (with_token, open, _) = split();
    let spec = serde_json::to_string(&openapi()).unwrap_or_default();
    let rest = with_token
        .layer(axum::middleware::from_fn_with_state(state.clone(), bearer))
        .merge(open)
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let spec = spec.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], spec) }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), client));
    let origins: Vec<HeaderValue> = state
        .config
        .api
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let rest = if origins.is_empty() {
        rest
    } else {
        rest.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(std::time::Duration::from_secs(600)),
        )
    };
    Router::new().nest("/api/v1", rest)
}

/// The reference page at `/api/docs` (Swagger UI, served from the binary), reading
/// `/api/v1/openapi.json`. Its own Content-Security-Policy: scripts and styles from
/// this server only (no inline script), images also as `data:` (the stylesheet's
/// icons), and `connect-src 'self'` for the description and "Try it out"; nothing of
/// the pages' policy is loosened.
pub fn docs() -> Router<AppState> {
    use tower_http::set_header::SetResponseHeaderLayer;
    use utoipa_swagger_ui::{Config, SwaggerUi};
    const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
        img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    Router::from(
        SwaggerUi::new("/api/docs").config(
            Config::new(["/api/v1/openapi.json"])
                .use_base_layout()
                .validator_url("none"),
        ),
    )
    .layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    ))
}

async fn not_found() -> Response {
    Problem::new(axum::http::StatusCode::NOT_FOUND, "not-found", "Not found")
        .detail("There is no such endpoint. See /api/v1/openapi.json.")
        .into_response()
}

async fn method_not_allowed() -> Response {
    Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
    )
    .into_response()
}

/// The client's address (as the pages work it out: trusted proxies) and user agent.
async fn client(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let (ip, user_agent) = super::middleware::client_of(&state, &req);
    req.extensions_mut().insert(Client(Caller {
        ip,
        user_agent,
        principal: None,
        device_cookie: None,
    }));
    next.run(req).await
}

/// Who is calling, from the `Authorization` header alone.
async fn bearer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut caller = req
        .extensions()
        .get::<Client>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(from_authorization)
        .map(str::to_string);
    let Some(presented) = presented else {
        return Problem::invalid_token(true);
    };
    match token::resolve(&state, &caller, &presented, now()).await {
        Ok(t) => {
            caller.principal = Some(Principal::Token(t));
            req.extensions_mut().insert(ApiCaller(caller));
            next.run(req).await
        }
        Err(Refused::Invalid) => Problem::invalid_token(false),
        Err(Refused::IpNotAllowed { ip }) => Problem::ip_not_allowed(&ip),
        Err(Refused::TooMany { retry_after }) => Problem::too_many(retry_after),
        Err(Refused::Failed(e)) => problem::RestError(e).into_response(),
    }
}
