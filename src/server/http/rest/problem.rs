//! Every REST error as `application/problem+json` (RFC 9457) with a stable `type`,
//! and the `WWW-Authenticate` header of RFC 6750 where a token is at fault.
use crate::model::error::ApiError;
use crate::server::error::Error;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem: what went wrong, for people (`title`, `detail`) and programs (`type`,
/// `status`, and `parameter` when one input is at fault).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable identifier of the kind of problem, such as
    /// `urn:latchkey:problem:invalid-token`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The query or path parameter (or form field) that was not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Seconds to wait before trying again (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// A reference to quote to the operator when the server failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

pub const CONTENT_TYPE: &str = "application/problem+json";

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Problem {
        Problem {
            kind: format!("urn:latchkey:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: None,
            parameter: None,
            retry_after: None,
            reference: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    pub fn parameter(mut self, name: impl Into<String>) -> Problem {
        self.parameter = Some(name.into());
        self
    }

    /// No token, or one that is unknown, malformed, revoked or expired.
    pub fn invalid_token(missing: bool) -> Response {
        let p = Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "Invalid access token",
        )
        .detail(if missing {
            "Send a personal access token: Authorization: Bearer lk_pat_..."
        } else {
            "The access token is unknown, revoked or expired."
        });
        let challenge = if missing {
            "Bearer realm=\"latchkey\""
        } else {
            "Bearer realm=\"latchkey\", error=\"invalid_token\""
        };
        with_header(p.into_response(), header::WWW_AUTHENTICATE, challenge)
    }

    /// A 400 naming the parameter that was not valid.
    pub fn bad_parameter(name: &str, detail: impl Into<String>) -> Response {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "Invalid parameter",
        )
        .parameter(name)
        .detail(detail)
        .into_response()
    }

    /// The account's IP allowlist leaves out the address the call comes from.
    pub fn ip_not_allowed(ip: &str) -> Response {
        Problem::new(
            StatusCode::FORBIDDEN,
            "ip_not_allowed",
            "Address not in the IP allowlist",
        )
        .detail(format!(
            "The account's IP allowlist does not hold {ip}, the address this call comes from."
        ))
        .into_response()
    }

    pub fn too_many(retry_after: u64) -> Response {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
        )
        .detail(format!("Try again in {retry_after} seconds."));
        p.retry_after = Some(retry_after);
        with_header(
            p.into_response(),
            header::RETRY_AFTER,
            &retry_after.to_string(),
        )
    }
}

fn with_header(mut res: Response, name: header::HeaderName, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(name, v);
    }
    res
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        res
    }
}

/// A use case's error at the REST edge.
pub struct RestError(pub Error);

impl From<Error> for RestError {
    fn from(e: Error) -> Self {
        RestError(e)
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        if let Error::MissingScope(scope) = &self.0 {
            let p = Problem::new(
                StatusCode::FORBIDDEN,
                "insufficient-scope",
                "Insufficient scope",
            )
            .detail(format!(
                "This token does not have the permission {}.",
                scope.as_str()
            ));
            let challenge = format!(
                "Bearer realm=\"latchkey\", error=\"insufficient_scope\", scope=\"{}\"",
                scope.as_str()
            );
            return with_header(p.into_response(), header::WWW_AUTHENTICATE, &challenge);
        }
        match ApiError::from(self.0) {
            ApiError::Invalid { field, message } => {
                let p = Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-parameter",
                    "Invalid parameter",
                )
                .detail(message);
                match field {
                    Some(f) => p.parameter(f),
                    None => p,
                }
                .into_response()
            }
            ApiError::Fields(problems) => {
                let first = problems.first().cloned().unwrap_or_default();
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-parameter",
                    "Invalid parameter",
                )
                .parameter(first.0)
                .detail(first.1)
                .into_response()
            }
            ApiError::Unauthorized(_) => Problem::invalid_token(false),
            ApiError::Forbidden(m) => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
                .detail(m)
                .into_response(),
            ApiError::NotFound(m) => Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
                .detail(m)
                .into_response(),
            ApiError::TooManyRequests { retry_after } => Problem::too_many(retry_after),
            ApiError::Unavailable(m) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            )
            .detail(m)
            .into_response(),
            ApiError::Internal { reference } => {
                let mut p = Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal server error",
                )
                .detail(format!(
                    "Something went wrong on our side (reference {reference})."
                ));
                p.reference = Some(reference);
                p.into_response()
            }
            // Neither can come from a use case called by a token.
            other => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-request",
                "Invalid request",
            )
            .detail(other.to_string())
            .into_response(),
        }
    }
}
