//! The Security log page's data: one event of the account, in words, and the filters.
use serde::{Deserialize, Serialize};

/// What the log can be narrowed to (seed 002's categories). In the URL by its slug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    SignIn,
    Password,
    Mfa,
    Sessions,
    Tokens,
    Settings,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::SignIn,
        Category::Password,
        Category::Mfa,
        Category::Sessions,
        Category::Tokens,
        Category::Settings,
    ];

    /// How the URL and the export name it: `?category=sign-in`.
    pub fn slug(self) -> &'static str {
        match self {
            Category::SignIn => "sign-in",
            Category::Password => "password",
            Category::Mfa => "mfa",
            Category::Sessions => "sessions",
            Category::Tokens => "tokens",
            Category::Settings => "settings",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::SignIn => "Sign-in",
            Category::Password => "Password",
            Category::Mfa => "Two-factor authentication",
            Category::Sessions => "Sessions",
            Category::Tokens => "Access tokens",
            Category::Settings => "Account settings",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.slug() == slug)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Success,
    Refused,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Refused => "Refused",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// "Signed in", "Wrong password", "Authenticator app turned on", ...
    pub event: String,
    pub outcome: Outcome,
    pub ip: String,
    /// "City, Country", "Local network" or "Unknown location".
    pub location: String,
    /// "Chrome on Linux".
    pub device: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    /// Where the next page starts ("Load more"), if there is one.
    pub next: Option<String>,
}

/// The log's filters, as the URL and the export links carry them: a category slug
/// and a time range in Unix seconds (`from` inclusive, `until` exclusive), which the
/// browser works out from the dates picked in its own time zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFilter {
    pub category: Option<String>,
    pub from: Option<i64>,
    pub until: Option<i64>,
}

impl LogFilter {
    /// The filter as a query string (without `?`), for the export links.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.category.as_deref().and_then(Category::from_slug) {
            parts.push(format!("category={}", c.slug()));
        }
        if let Some(f) = self.from {
            parts.push(format!("from={f}"));
        }
        if let Some(u) = self.until {
            parts.push(format!("until={u}"));
        }
        parts.join("&")
    }
}

/// A page's cursor as text: the last event's time and number.
pub fn cursor_text(at: i64, id: i64) -> String {
    format!("{at}.{id}")
}

/// The cursor back from text; `None` if it is not one.
pub fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let (at, id) = text.split_once('.')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip_through_their_slugs() {
        for c in Category::ALL {
            assert_eq!(Category::from_slug(c.slug()), Some(c));
        }
        assert_eq!(Category::from_slug("everything"), None);
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        assert_eq!(
            parse_cursor(&cursor_text(1_795_305_600, 42)),
            Some((1_795_305_600, 42))
        );
        assert_eq!(parse_cursor("12"), None);
        assert_eq!(parse_cursor("a.b"), None);
        assert_eq!(parse_cursor("1.2.3"), None);
    }

    #[test]
    fn the_filter_query_keeps_only_what_is_set() {
        assert_eq!(LogFilter::default().query(), "");
        let f = LogFilter {
            category: Some("mfa".into()),
            from: Some(10),
            until: None,
        };
        assert_eq!(f.query(), "category=mfa&from=10");
        let junk = LogFilter {
            category: Some("<x>".into()),
            ..Default::default()
        };
        assert_eq!(junk.query(), "");
    }
}
