//! Server functions, grouped by area. Each one is thin: it finds the caller,
//! calls a flow in `server::flows`, and sets cookies; errors carry their status.
pub mod accounts;
pub mod mfa;
pub mod password;
pub mod security_log;
pub mod sessions;

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    use crate::model::error::ApiError;
    use crate::server::auth::Caller;
    use crate::server::error::internal;
    use crate::server::http::RequestCtx;
    use crate::server::AppState;
    use leptos::prelude::*;

    /// The app state and who is calling.
    pub fn caller() -> Result<(AppState, Caller), ApiError> {
        let state =
            use_context::<AppState>().ok_or_else(|| internal("AppState missing from context"))?;
        let parts = use_context::<axum::http::request::Parts>()
            .ok_or_else(|| internal("request parts missing from context"))?;
        let caller = parts
            .extensions
            .get::<RequestCtx>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        Ok((state, caller))
    }

    /// The half-done sign-in's token from the request's cookies.
    pub fn pending_token(state: &AppState) -> Option<String> {
        let parts = use_context::<axum::http::request::Parts>()?;
        crate::server::http::cookies::pending_token(&state.config, &parts.headers)
    }

    pub fn set_cookie(value: &str) {
        if let (Some(res), Ok(v)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            axum::http::HeaderValue::from_str(value),
        ) {
            res.append_header(axum::http::header::SET_COOKIE, v);
        }
    }
}
