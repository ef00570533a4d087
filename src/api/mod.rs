//! Server functions, grouped by area. Each one is thin: it finds the caller,
//! calls a flow in `server::flows`, and sets cookies; errors carry their status.
pub mod accounts;
pub mod allowlist;
pub mod mfa;
pub mod notifications;
pub mod passkeys;
pub mod password;
pub mod profile;
pub mod security_log;
pub mod sessions;
pub mod tokens;

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

    /// Whether the request comes from a plain HTML form (script off, or pressed before
    /// the page's script ran): the browser asks for a page, not data.
    pub fn plain_form() -> bool {
        use_context::<axum::http::request::Parts>().is_some_and(|p| {
            p.headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// A plain form's success ends on the page `path` (an error goes back to the form's
    /// page, which shows it); a script's call gets the data as before.
    pub fn then_show(path: &str) {
        if plain_form() {
            leptos_axum::redirect(path);
        }
    }

    /// A sign-in completed: the half-done one's cookie goes, the session's (and a new
    /// device cookie, when the browser had none) is set.
    pub fn set_signed_in(
        state: &AppState,
        done: &crate::server::flows::second_step::SecondStepDone,
    ) {
        use crate::server::http::cookies;
        set_cookie(&cookies::clear_pending(&state.config));
        set_cookie(&cookies::set_session(&state.config, &done.session_token));
        if let Some(device) = &done.device_cookie {
            set_cookie(&cookies::set_device(&state.config, device));
        }
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
