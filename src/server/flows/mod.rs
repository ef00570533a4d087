//! Use cases: each one checks input, applies the domain rules, writes through the
//! store (one transaction per multi-row change), logs and sends mail. Server
//! functions call these; tests call them too. All take `now`.
pub mod accounts;

use crate::model::error::ApiError;
use crate::server::domain::tokens::new_reference;

/// Who is asking: taken from the request by the HTTP layer.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub ip: String,
    pub user_agent: String,
    pub session: Option<crate::server::http::AuthSession>,
}

/// An unexpected failure: logged with a reference the user sees, never with secrets.
pub fn internal(e: impl std::fmt::Display) -> ApiError {
    let reference = new_reference();
    tracing::error!(%reference, error = %e, "internal error");
    ApiError::Internal { reference }
}
