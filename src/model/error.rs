//! The one error type every server function returns. The server maps each kind
//! to its HTTP status (see `server::http::api_status`); the browser shows the message.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// Bad input; `field` names the form field it belongs to, if any.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// Not signed in, or credentials that do not match.
    #[error("{0}")]
    Unauthorized(String),
    /// Refused (for example a cross-site request).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A sensitive action whose owner has not proved who they are recently: the page
    /// asks for the password and sends the action again with it.
    #[error("{0}")]
    ProofNeeded(String),
    #[error("Too many attempts. Try again in {retry_after} seconds.")]
    TooManyRequests { retry_after: u64 },
    /// A service we depend on (the SMS provider) failed; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
    /// Our fault; the reference is in the server log.
    #[error("Something went wrong on our side. Please try again. (Reference {reference})")]
    Internal { reference: String },
    /// The browser could not reach the server or read its answer.
    #[error("{0}")]
    Transport(String),
    /// Bad input in several fields at once, in the form's order: (field, message).
    #[error("{}", .0.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" "))]
    Fields(Vec<(String, String)>),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// Every field's problem at once (in the form's order); one problem is a plain
    /// field error.
    pub fn fields(mut problems: Vec<(&str, String)>) -> Self {
        if problems.len() == 1 {
            let (field, message) = problems.remove(0);
            return ApiError::field(field, message);
        }
        ApiError::Fields(
            problems
                .into_iter()
                .map(|(f, m)| (f.to_string(), m))
                .collect(),
        )
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: None,
            message: message.into(),
        }
    }

    /// The message for a given form field, if this error belongs to it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            ApiError::Invalid {
                field: Some(f),
                message,
            } if f == name => Some(message.clone()),
            ApiError::Fields(all) => all.iter().find(|(f, _)| f == name).map(|(_, m)| m.clone()),
            _ => None,
        }
    }

    /// The message for the form as a whole (errors not tied to one field).
    pub fn general(&self) -> Option<String> {
        match self {
            ApiError::Invalid { field: Some(_), .. } | ApiError::Fields(_) => None,
            other => Some(other.to_string()),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Invalid { .. } | ApiError::Fields(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) | ApiError::ProofNeeded(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Unavailable(_) => 503,
            ApiError::Internal { .. } | ApiError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                ApiError::invalid("The request was incomplete or malformed.")
            }
            ServerFnErrorErr::Request(_) => ApiError::Transport(
                "Could not reach the server. Check your connection and try again.".into(),
            ),
            other => ApiError::Transport(format!("Unexpected answer from the server: {other}")),
        }
    }

    /// Reads an error sent by the server. In the browser, on a settings page, "your
    /// session has ended" (revoked from another device, expired) sends the visitor to
    /// sign-in and back here after it, whatever server function found it out.
    fn de(data: leptos::server_fn::Bytes) -> Self {
        use leptos::server_fn::Decodes;
        let error = <JsonEncoding as Decodes<ApiError>>::decode(data).unwrap_or_else(|e| {
            ApiError::from_server_fn_error(ServerFnErrorErr::Deserialization(e.to_string()))
        });
        #[cfg(feature = "hydrate")]
        if matches!(error, ApiError::Unauthorized(_)) {
            session_ended();
        }
        error
    }
}

#[cfg(feature = "hydrate")]
fn session_ended() {
    let Some(location) = leptos::web_sys::window().map(|w| w.location()) else {
        return;
    };
    let path = location.pathname().unwrap_or_default();
    if path == "/settings" || path.starts_with("/settings/") {
        let here = format!("{path}{}", location.search().unwrap_or_default());
        let next = String::from(leptos::web_sys::js_sys::encode_uri_component(&here));
        let _ = location.set_href(&format!("/signin?next={next}"));
    }
}
