//! The endpoints a token opens. Each takes the caller, calls one use case (which checks
//! the token's permission), and answers JSON or a problem.
use super::problem::{Problem, RestError};
use super::ApiCaller;
use crate::model::security_log::LogFilter;
use crate::server::flows::{accounts, security_log, sessions, tokens};
use crate::server::{now, AppState};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The account the token belongs to.
#[derive(Serialize, ToSchema)]
pub struct Account {
    pub id: i64,
    pub email: String,
    /// Whether the email address is verified.
    pub verified: bool,
    /// When the account was created (Unix seconds).
    pub created_at: i64,
    /// The sign-in methods on besides the password: `totp`, `email`, `sms`, `passkey`.
    pub methods: Vec<String>,
}

/// A signed-in browser.
#[derive(Serialize, ToSchema)]
pub struct Session {
    pub id: i64,
    /// "Chrome on Linux".
    pub device: String,
    pub ip: String,
    /// "City, Country", "Local network" or "Unknown location".
    pub location: String,
    /// Unix seconds.
    pub signed_in_at: i64,
    pub last_active_at: i64,
}

/// One security-log event.
#[derive(Serialize, ToSchema)]
pub struct Event {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// What happened, in words: "Signed in", "Wrong password", ...
    pub event: String,
    /// `success` or `refused`.
    pub outcome: String,
    pub ip: String,
    pub location: String,
    pub device: String,
}

/// A page of events, newest first.
#[derive(Serialize, ToSchema)]
pub struct Events {
    pub events: Vec<Event>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A personal access token (never its secret).
#[derive(Serialize, ToSchema)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; absent when it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub expired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
}

/// The log's categories, as on the Security log page.
#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CategoryParam {
    SignIn,
    Password,
    Mfa,
    Sessions,
    Tokens,
    Settings,
}

impl CategoryParam {
    fn slug(self) -> String {
        match self {
            CategoryParam::SignIn => "sign-in",
            CategoryParam::Password => "password",
            CategoryParam::Mfa => "mfa",
            CategoryParam::Sessions => "sessions",
            CategoryParam::Tokens => "tokens",
            CategoryParam::Settings => "settings",
        }
        .to_string()
    }
}

/// The export's file formats.
#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FormatParam {
    /// Comma-separated values, with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// The log's filters, as on the Security log page. A range whose end is not after
/// its start holds no event.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    #[param(inline)]
    category: Option<CategoryParam>,
    /// From this time (Unix seconds, inclusive).
    from: Option<i64>,
    /// Until this time (Unix seconds, exclusive).
    until: Option<i64>,
    /// Where the page starts: a previous page's `next_cursor` (empty: the first page).
    #[param(pattern = r"^(-?[0-9]{1,18}\.[0-9]{1,18})?$")]
    cursor: Option<String>,
}

/// The export's format and the log's filters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    #[param(inline)]
    format: FormatParam,
    #[param(inline)]
    category: Option<CategoryParam>,
    from: Option<i64>,
    until: Option<i64>,
}

/// Whether a range can hold no event (its end not after its start).
fn empty_range(from: Option<i64>, until: Option<i64>) -> bool {
    matches!((from, until), (Some(f), Some(u)) if u <= f)
}

/// A query that did not parse: a 400 naming the parameter, in words of our own (never
/// the value sent back). serde says which parameter as "from: invalid digit ..." (a
/// value) or "unknown field `colour`" (a name).
fn bad_query(e: QueryRejection) -> Response {
    let text = e.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    let ident = |n: &&str| {
        !n.is_empty() && n.len() <= 32 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let unknown = detail.starts_with("unknown field");
    let name = if unknown || detail.starts_with("missing field") {
        detail.split('`').nth(1).filter(ident)
    } else {
        detail.split_once(": ").map(|(p, _)| p).filter(ident)
    };
    match (name, unknown) {
        (Some(n), true) => Problem::bad_parameter(n, "There is no such parameter."),
        (Some(n), false) => {
            Problem::bad_parameter(n, "Not a valid value (see the API description).")
        }
        (None, _) => {
            Problem::bad_parameter("query", "The query is not valid (see the API description).")
        }
    }
}

#[utoipa::path(
    get, path = "/account", tag = "account",
    description = "Needs `account:read`.",
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `account:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn account(
    State(state): State<AppState>,
    Extension(ApiCaller(caller)): Extension<ApiCaller>,
) -> Result<Json<Account>, RestError> {
    let a = accounts::overview(&state, &caller).await?;
    Ok(Json(Account {
        id: a.id,
        email: a.email,
        verified: a.verified,
        created_at: a.created_at,
        methods: a.methods.iter().map(|m| m.as_str().to_string()).collect(),
    }))
}

#[utoipa::path(
    get, path = "/sessions", tag = "sessions",
    description = "Needs `sessions:read`. Most recently active first.",
    responses(
        (status = 200, description = "The account's live sessions", body = Vec<Session>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `sessions:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn sessions(
    State(state): State<AppState>,
    Extension(ApiCaller(caller)): Extension<ApiCaller>,
) -> Result<Json<Vec<Session>>, RestError> {
    let list = sessions::list(&state, &caller, now()).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| Session {
                id: s.id,
                device: s.device,
                ip: s.ip,
                location: s.location,
                signed_in_at: s.signed_in_at,
                last_active_at: s.last_active_at,
            })
            .collect(),
    ))
}

#[utoipa::path(
    delete, path = "/sessions/{id}", tag = "sessions",
    description = "Needs `sessions:write`. The browser is signed out at its next request.",
    params(("id" = i64, Path, description = "The session's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Not a session id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `sessions:write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of this account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn revoke_session(
    State(state): State<AppState>,
    Extension(ApiCaller(caller)): Extension<ApiCaller>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Response, RestError> {
    let Ok(Path(id)) = id else {
        return Ok(Problem::bad_parameter(
            "id",
            "A session id is a whole number.",
        ));
    };
    sessions::revoke(&state, &caller, id, None, now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    get, path = "/events", tag = "events",
    description = "Needs `security_log:read`. Newest first, 50 a page.",
    params(EventQuery),
    responses(
        (status = 200, description = "A page of the security log", body = Events),
        (status = 400, description = "A filter or cursor that is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `security_log:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn events(
    State(state): State<AppState>,
    Extension(ApiCaller(caller)): Extension<ApiCaller>,
    query: Result<Query<EventQuery>, QueryRejection>,
) -> Result<Response, RestError> {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return Ok(bad_query(e)),
    };
    // The cursor is judged whatever the range (a bad one is a 400 even where the
    // range holds nothing).
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        if crate::model::security_log::parse_cursor(c).is_none() {
            return Ok(Problem::bad_parameter(
                "cursor",
                "That page of the log does not exist.",
            ));
        }
    }
    if empty_range(q.from, q.until) {
        return Ok(Json(Events {
            events: Vec::new(),
            next_cursor: None,
        })
        .into_response());
    }
    let filter = LogFilter {
        category: q.category.map(CategoryParam::slug),
        from: q.from,
        until: q.until,
    };
    let page = match security_log::page(&state, &caller, &filter, q.cursor.as_deref()).await {
        Ok(p) => p,
        // The use case says the page does not exist; here it is the cursor's fault.
        Err(crate::server::error::Error::Refused(crate::model::error::ApiError::Invalid {
            field: None,
            message,
        })) => return Ok(Problem::bad_parameter("cursor", message)),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(Events {
        events: page
            .entries
            .into_iter()
            .map(|e| Event {
                id: e.id,
                at: e.at,
                event: e.event,
                outcome: e.outcome.label().to_lowercase(),
                ip: e.ip,
                location: e.location,
                device: e.device,
            })
            .collect(),
        next_cursor: page.next,
    })
    .into_response())
}

#[utoipa::path(
    get, path = "/events/export", tag = "events",
    description = "Needs `security_log:read`. The whole log (with the filters) as one \
        streamed file, as the Security log page's export.",
    params(ExportQuery),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/csv"),
            (String = "application/jsonl")
        )),
        (status = 400, description = "A format or filter that is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `security_log:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many exports", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn export_events(
    State(state): State<AppState>,
    Extension(ApiCaller(caller)): Extension<ApiCaller>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, RestError> {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return Ok(bad_query(e)),
    };
    let format = match q.format {
        FormatParam::Csv => security_log::Format::Csv,
        FormatParam::Jsonl => security_log::Format::JsonLines,
    };
    // An empty range: the file with no event (its header only).
    let (from, until) = if empty_range(q.from, q.until) {
        (Some(0), Some(1))
    } else {
        (q.from, q.until)
    };
    let filter = LogFilter {
        category: q.category.map(CategoryParam::slug),
        from,
        until,
    };
    let export = security_log::start_export(&state, &caller, filter, format, now()).await?;
    Ok(crate::server::http::export::stream(state, export))
}

#[utoipa::path(
    get, path = "/tokens", tag = "tokens",
    description = "Needs `tokens:read`. Names, permissions and dates; never a secret.",
    responses(
        (status = 200, description = "The account's tokens", body = Vec<Token>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `tokens:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn tokens(
    State(state): State<AppState>,
    Extension(ApiCaller(caller)): Extension<ApiCaller>,
) -> Result<Json<Vec<Token>>, RestError> {
    let list = tokens::list(&state, &caller, now()).await?;
    Ok(Json(
        list.tokens
            .into_iter()
            .map(|t| Token {
                id: t.id,
                name: t.name,
                scopes: t.scopes.iter().map(|s| s.as_str().to_string()).collect(),
                created_at: t.created_at,
                expires_at: t.expires_at,
                expired: t.expired,
                last_used_at: t.last_used.map(|l| l.at),
            })
            .collect(),
    ))
}
