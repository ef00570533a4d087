//! `POST /api/v1/introspect` (RFC 7662): the operator's other services ask whether a
//! token is live, authenticated by a key from `api.introspection_keys`. The answer for
//! anything but a live token is only `{"active": false}`. Asking does not count as a
//! use of the token.
use super::problem::Problem;
use crate::model::tokens::Scope;
use crate::server::auth::guard::take;
use crate::server::domain::access_token::{self, from_authorization};
use crate::server::domain::throttle;
use crate::server::domain::tokens::Purpose;
use crate::server::{now, store, AppState};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct IntrospectRequest {
    /// The token to look at.
    token: String,
    /// Ignored (there is one kind of token).
    #[serde(default)]
    #[allow(dead_code)]
    token_type_hint: Option<String>,
}

/// RFC 7662's answer: for a live token, what it may do, whose it is and its times.
#[derive(Serialize, ToSchema)]
pub struct Introspection {
    pub active: bool,
    /// The token's permissions, separated by spaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The account's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry (Unix seconds); absent when it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

impl Introspection {
    fn inactive() -> Introspection {
        Introspection {
            active: false,
            scope: None,
            sub: None,
            exp: None,
            iat: None,
            token_type: None,
        }
    }
}

/// Whether `presented` is one of the keys: every key is compared, each as a digest of
/// equal length in constant time, so neither the match nor its length shows in time.
pub fn key_matches(keys: &[String], presented: &str) -> bool {
    let p = Sha256::digest(presented.as_bytes());
    keys.iter().fold(false, |found, k| {
        let d = Sha256::digest(k.as_bytes());
        found | bool::from(d.ct_eq(&p))
    })
}

#[utoipa::path(
    post, path = "/introspect", tag = "introspection",
    description = "For the operator's services: `Authorization: Bearer <key from api.introspection_keys>`, \
        form body `token=...`.",
    security(("introspection_key" = [])),
    request_body(content = IntrospectRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Whether the token is live, and if so what it may do", body = Introspection),
        (status = 400, description = "No token in the body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid introspection key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many refused keys from this address", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn introspect(
    State(state): State<AppState>,
    Extension(super::Client(caller)): Extension<super::Client>,
    headers: HeaderMap,
    form: Result<Form<IntrospectRequest>, FormRejection>,
) -> Response {
    let when = now();
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(from_authorization)
        .unwrap_or("");
    let keys = &state.config.api.introspection_keys;
    let throttle_key = vec![(
        state.keys.hash(
            Purpose::Throttle,
            &format!("introspection:ip:{}", caller.ip_group()),
        ),
        throttle::TOKEN_CHECKS_IP,
    )];
    // Counted before the key is judged (parallel guesses each count), given back when
    // it is right.
    if let Err(e) = take(&state, &throttle_key, when).await {
        return super::problem::RestError(e).into_response();
    }
    if keys.is_empty() || presented.is_empty() || !key_matches(keys, presented) {
        tracing::warn!(address = %caller.ip_group(), "introspection refused: not an introspection key");
        let mut res = Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid-client",
            "Invalid introspection key",
        )
        .detail("Send a key from the setting api.introspection_keys as a bearer token.")
        .into_response();
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static(
                "Bearer realm=\"latchkey-introspection\", error=\"invalid_token\"",
            ),
        );
        return res;
    }
    for (key, _) in &throttle_key {
        if let Err(e) = store::throttles::refund(&state.db, key).await {
            return super::problem::RestError(e.into()).into_response();
        }
    }
    let Ok(Form(req)) = form else {
        return Problem::bad_parameter("token", "Send the token as a form field: token=...");
    };
    let token = req.token.trim();
    if !access_token::well_formed(token) {
        return Json(Introspection::inactive()).into_response();
    }
    let hash = state.keys.hash(Purpose::AccessToken, token);
    match store::tokens::by_hash(&state.db, &hash).await {
        Ok(Some(t)) if t.revoked_at.is_none() && !access_token::expired(t.expires_at, when) => {
            Json(Introspection {
                active: true,
                scope: Some(Scope::join(&Scope::split(&t.scopes))),
                sub: Some(t.user_id.to_string()),
                exp: t.expires_at,
                iat: Some(t.created_at),
                token_type: Some("Bearer".into()),
            })
            .into_response()
        }
        Ok(_) => Json(Introspection::inactive()).into_response(),
        Err(e) => super::problem::RestError(e.into()).into_response(),
    }
}
