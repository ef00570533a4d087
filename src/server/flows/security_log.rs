//! Settings > Security log: the account's events, a page at a time, and the exports.
use crate::model::security_log::{
    cursor_text, parse_cursor, Category, LogEntry, LogFilter, LogPage, Outcome,
};
use crate::model::tokens::Scope;
use crate::server::auth::guard::take;
use crate::server::auth::Caller;
use crate::server::domain::throttle;
use crate::server::domain::tokens::Purpose;
use crate::server::domain::{device, export, security_log};
use crate::server::error::{Error, Result};
use crate::server::store;
use crate::server::store::events::{self, Cursor, Event, Filter};
use crate::server::AppState;

/// Events on one page of the Security log.
pub const PAGE_SIZE: i64 = 50;
/// Events read from the database at a time by an export.
pub const EXPORT_BATCH: i64 = 1000;

/// The store's filter for the page's: an unknown category is bad input.
fn store_filter(filter: &LogFilter) -> Result<Filter<'static>, Error> {
    let kinds = match filter.category.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(slug) => Some(security_log::kinds(
            Category::from_slug(slug)
                .ok_or_else(|| Error::field("category", "There is no such category."))?,
        )),
    };
    if let (Some(from), Some(until)) = (filter.from, filter.until) {
        if until <= from {
            return Err(Error::field(
                "until",
                "The end date must be after the start date.",
            ));
        }
    }
    Ok(Filter {
        kinds,
        from: filter.from,
        until: filter.until,
    })
}

/// An event as the page and the exports show it.
pub fn entry(state: &AppState, e: &Event) -> LogEntry {
    entry_with(state, e, device::describe(&e.user_agent))
}

fn entry_with(state: &AppState, e: &Event, device: String) -> LogEntry {
    let detail = serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null);
    let (event, outcome) = security_log::describe(&e.kind, &detail);
    LogEntry {
        id: e.id,
        at: e.at,
        event,
        outcome,
        ip: e.ip.clone(),
        location: state.geo.locate(&e.ip),
        device,
    }
}

/// Device names of the user agents an export has met: an account's log holds few
/// browsers many times, and parsing a user agent costs more than the rest of a row.
#[derive(Default)]
struct Devices(std::collections::HashMap<String, String>);

impl Devices {
    const MAX: usize = 256;

    fn describe(&mut self, user_agent: &str) -> String {
        if let Some(d) = self.0.get(user_agent) {
            return d.clone();
        }
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        let d = device::describe(user_agent);
        self.0.insert(user_agent.to_string(), d.clone());
        d
    }
}

/// One page of the caller's log, newest first, after the cursor `after`.
pub async fn page(
    state: &AppState,
    caller: &Caller,
    filter: &LogFilter,
    after: Option<&str>,
) -> Result<LogPage, Error> {
    let user_id = caller.account_for(Scope::SecurityLogRead)?;
    let store_filter = store_filter(filter)?;
    let after = match after.filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => {
            let (at, id) = parse_cursor(text)
                .ok_or_else(|| Error::invalid("That page of the log does not exist."))?;
            Some(Cursor { at, id })
        }
    };
    // One more than a page tells whether there is a next one.
    let mut rows = events::page(&state.db, user_id, &store_filter, after, PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next = more
        .then(|| rows.last().map(|e| cursor_text(e.at, e.id)))
        .flatten();
    Ok(LogPage {
        entries: rows.iter().map(|e| entry(state, e)).collect(),
        next,
    })
}

/// The formats of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLines => "application/jsonl; charset=utf-8",
        }
    }
}

/// The CSV's first line.
pub const CSV_HEADER: [&str; 8] = [
    "Time (UTC)",
    "Event",
    "Outcome",
    "IP address",
    "Location",
    "Device",
    "User agent",
    "Unix time",
];

/// One event as a line of the export.
pub fn export_line(format: Format, e: &Event, entry: &LogEntry) -> String {
    let time = crate::model::time::format_iso(e.at);
    let outcome = match entry.outcome {
        Outcome::Success => "success",
        Outcome::Refused => "refused",
    };
    match format {
        Format::Csv => export::csv_line([
            time.as_str(),
            &entry.event,
            outcome,
            &entry.ip,
            &entry.location,
            &entry.device,
            &e.user_agent,
            &e.at.to_string(),
        ]),
        Format::JsonLines => {
            let mut line = serde_json::json!({
                "time": time,
                "unix_time": e.at,
                "event": entry.event,
                "kind": e.kind,
                "outcome": outcome,
                "ip": entry.ip,
                "location": entry.location,
                "device": entry.device,
                "user_agent": e.user_agent,
            })
            .to_string()
            // Markup stays inert even in a viewer that sniffs: `<`, `>` and `&` can
            // only be inside JSON strings, where their \u escapes mean the same.
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
            line.push('\n');
            line
        }
    }
}

/// An export about to be sent: its file name and where its lines come from.
pub struct Export {
    pub file_name: String,
    pub format: Format,
    user_id: i64,
    /// The session or token that asked: the export stops if it ends meanwhile.
    asker: Asker,
    filter: Filter<'static>,
}

#[derive(Clone, Copy)]
enum Asker {
    Session(i64),
    Token(i64),
}

/// Checks the caller and the filter before anything is sent, so that a bad request
/// gets a 4xx, not half a file. Exports are counted per account: each reads the whole
/// log, so nobody can keep the database busy with them.
pub async fn start_export(
    state: &AppState,
    caller: &Caller,
    filter: LogFilter,
    format: Format,
    now: i64,
) -> Result<Export, Error> {
    let user_id = caller.account_for(Scope::SecurityLogRead)?;
    let asker = match (caller.session(), caller.token()) {
        (Some(s), _) => Asker::Session(s.session_id),
        (None, Some(t)) => Asker::Token(t.token_id),
        (None, None) => return Err(crate::server::auth::not_signed_in()),
    };
    let filter = store_filter(&filter)?;
    let key = state
        .keys
        .hash(Purpose::Throttle, &format!("export:account:{user_id}"));
    take(state, &[(key, throttle::EXPORTS_ACCOUNT)], now).await?;
    let email = store::users::by_id(&state.db, user_id)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let day = crate::model::time::format_iso(now);
    Ok(Export {
        file_name: export::file_name(&email, &day[..10], format.extension()),
        format,
        user_id,
        asker,
        filter,
    })
}

impl Export {
    /// Sends the export's text, a batch of events at a time (newest first), to `out`;
    /// stops early when the receiver is gone (the download was cancelled). Memory
    /// holds one batch, however long the log.
    pub async fn run(
        self,
        state: AppState,
        out: tokio::sync::mpsc::Sender<Result<String, std::io::Error>>,
    ) {
        if self.format == Format::Csv && out.send(Ok(export::csv_line(CSV_HEADER))).await.is_err() {
            return;
        }
        let mut after = None;
        let mut devices = Devices::default();
        loop {
            // Signed out or revoked meanwhile: the rest of the log is not sent.
            let live = match self.asker {
                Asker::Session(id) => store::sessions::exists(&state.db, id).await,
                Asker::Token(id) => {
                    store::tokens::is_live(&state.db, id, crate::server::now()).await
                }
            };
            match live {
                Ok(true) => {}
                Ok(false) => {
                    let _ = out
                        .send(Err(std::io::Error::other("the session has ended")))
                        .await;
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "security log export failed");
                    let _ = out.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            }
            let rows = match events::page(
                &state.db,
                self.user_id,
                &self.filter,
                after,
                EXPORT_BATCH,
            )
            .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "security log export failed");
                    let _ = out.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            let mut text = String::with_capacity(rows.len() * 200);
            for e in &rows {
                let entry = entry_with(&state, e, devices.describe(&e.user_agent));
                text.push_str(&export_line(self.format, e, &entry));
            }
            if !text.is_empty() && out.send(Ok(text)).await.is_err() {
                return;
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == EXPORT_BATCH => {
                    after = Some(Cursor {
                        at: last.at,
                        id: last.id,
                    })
                }
                _ => return,
            }
        }
    }
}
