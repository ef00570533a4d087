//! /dev/mail: the development outbox, readable in the browser. Absent in production.
use crate::server::config::Mode;
use crate::server::delivery::templates::escape_html;
use crate::server::{store, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

fn linkify(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
                let rest = &word[trimmed.len()..];
                format!(
                    "<a href=\"{0}\">{0}</a>{1}",
                    escape_html(trimmed),
                    escape_html(rest)
                )
            } else {
                escape_html(word)
            }
        })
        .collect()
}

pub async fn page(State(state): State<AppState>) -> Response {
    if state.config.mode != Mode::Development {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    let mails = match store::outbox::latest(&state.db, 50).await {
        Ok(m) => m,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let mut body = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Outbox · Latchkey</title>\
         <link rel=\"stylesheet\" href=\"/pkg/latchkey.css\"></head><body class=\"plain\"><main class=\"outbox\">\
         <h1>Development outbox</h1><p class=\"muted\">Mail and text messages the app would have sent, newest first. \
         This page exists only in development mode.</p>",
    );
    if mails.is_empty() {
        body.push_str("<p>No mail yet.</p>");
    }
    for m in mails {
        let when = time::OffsetDateTime::from_unix_timestamp(m.created_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        // Text messages share the outbox, marked as such.
        let is_sms = m.subject == crate::server::delivery::sms::OUTBOX_SUBJECT;
        let heading = if is_sms {
            "Text message (SMS)".to_string()
        } else {
            m.subject.clone()
        };
        body.push_str(&format!(
            "<article class=\"card\"><h2>{}</h2><p class=\"muted\">To {} · {}</p><pre>{}</pre></article>",
            escape_html(&heading),
            escape_html(&m.to_addr),
            escape_html(&when),
            linkify(&m.text_body)
        ));
    }
    body.push_str("</main></body></html>");
    Html(body).into_response()
}
