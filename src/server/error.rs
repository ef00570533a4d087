//! What a use case fails with, on the server. It becomes the wire's [`ApiError`] only
//! at the edge (a server function's `?`, an HTTP handler), where an unexpected failure
//! is logged with a reference and the caller sees that reference, never the cause.
use crate::model::error::ApiError;
use crate::server::domain::tokens::new_reference;
use crate::server::password_hash::HashError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Told to the caller as it is: bad input, a refusal, a step that must start again.
    #[error(transparent)]
    Refused(ApiError),
    /// A secret (a password, a code) was judged and is wrong. Told to the caller as it
    /// is; a flow that counts wrong tries (the second step) counts these, and only these.
    #[error(transparent)]
    WrongSecret(ApiError),
    /// An access token without the permission the use case needs (a 403 naming it).
    #[error("the token lacks the permission {}", .0.as_str())]
    MissingScope(crate::model::tokens::Scope),
    /// Too many attempts, or too soon: try again after this many seconds.
    #[error("too many attempts; retry after {retry_after} s")]
    TooMany { retry_after: u64 },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("password hashing: {0}")]
    Hashing(#[from] HashError),
    #[error("QR code: {0}")]
    QrCode(#[from] qrcode::types::QrError),
    /// A value this server wrote (a ceremony's state, a passkey) did not (de)serialise.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("background task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Anything else that should not happen (a secret that does not open, a context
    /// missing): a bug or a broken deployment.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Error::Refused(ApiError::field(field, message))
    }
    pub fn fields(problems: Vec<(&str, String)>) -> Self {
        Error::Refused(ApiError::fields(problems))
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Refused(ApiError::invalid(message))
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Error::Refused(ApiError::Unauthorized(message.into()))
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Refused(ApiError::Forbidden(message.into()))
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::Refused(ApiError::NotFound(message.into()))
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Refused(ApiError::Unavailable(message.into()))
    }
    pub fn too_many(retry_after: u64) -> Self {
        Error::TooMany { retry_after }
    }
    /// A wrong secret, told as an error of the form field it was typed into.
    pub fn wrong(field: &str, message: impl Into<String>) -> Self {
        Error::WrongSecret(ApiError::field(field, message))
    }
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Error::Internal(what.to_string())
    }
}

/// An unexpected failure with a message of its own (`ok_or_else(|| internal(..))`).
pub fn internal(what: impl std::fmt::Display) -> Error {
    Error::internal(what)
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::TooManyRequests { retry_after } => Error::TooMany { retry_after },
            other => Error::Refused(other),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Refused(e) | Error::WrongSecret(e) => e,
            Error::TooMany { retry_after } => ApiError::TooManyRequests { retry_after },
            Error::MissingScope(scope) => ApiError::Forbidden(format!(
                "This token does not have the permission {}.",
                scope.as_str()
            )),
            unexpected => {
                let reference = new_reference();
                tracing::error!(%reference, error = %unexpected, "internal error");
                ApiError::Internal { reference }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_reach_the_caller_as_they_are() {
        let e: ApiError = Error::field("code", "Invalid code").into();
        assert_eq!(e, ApiError::field("code", "Invalid code"));
        let e: ApiError = Error::wrong("code", "Invalid code").into();
        assert_eq!(e, ApiError::field("code", "Invalid code"));
        let e: ApiError = Error::too_many(7).into();
        assert_eq!(e, ApiError::TooManyRequests { retry_after: 7 });
        assert!(matches!(
            Error::from(ApiError::TooManyRequests { retry_after: 3 }),
            Error::TooMany { retry_after: 3 }
        ));
    }

    #[test]
    fn an_unexpected_failure_shows_a_reference_and_never_its_cause() {
        let e: ApiError = Error::internal("secret sauce at row 12").into();
        match &e {
            ApiError::Internal { reference } => assert!(!reference.is_empty()),
            other => panic!("{other:?}"),
        }
        assert!(!e.to_string().contains("secret sauce"));
        let e: ApiError = Error::from(sqlx::Error::RowNotFound).into();
        assert!(matches!(e, ApiError::Internal { .. }));
    }
}
