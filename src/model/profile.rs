//! Settings > Profile (display name, email address and its change) and the security
//! checklist at the top of the Security page, as the browser sees them.
use serde::{Deserialize, Serialize};

/// How far a checklist line is from done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mark {
    Done,
    /// Done, with a stronger way at hand (codes by email or SMS, not an app).
    Improve,
    Todo,
}

impl Mark {
    /// What the line says of itself, in words (not only a colour or an icon).
    pub fn label(self) -> &'static str {
        match self {
            Mark::Done => "Done",
            Mark::Improve => "Could be stronger",
            Mark::Todo => "To do",
        }
    }
}

/// One line of the checklist: its state, what it found, and the way to the fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckLine {
    /// Stable name of the line ("password", "two_step", "recovery_codes", "sessions",
    /// "email").
    pub key: String,
    pub mark: Mark,
    pub title: String,
    pub detail: String,
    /// The link to the fix: its words and where it goes (a section of the page or
    /// another page).
    pub fix: Option<(String, String)>,
}

/// The profile page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub display_name: Option<String>,
    pub email: String,
    pub email_verified: bool,
    /// A change of address waiting for its link: the new address and when the link
    /// stops working.
    pub pending: Option<PendingEmail>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEmail {
    pub new_email: String,
    pub expires_at: i64,
}

/// What the email-change link pages show and do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChangeLink {
    pub old_email: String,
    pub new_email: String,
}

pub const DISPLAY_NAME_MAX: usize = 64;

/// A display name as kept: trimmed, inner runs of white space made one space; empty
/// means none. Control and format characters (including bidi overrides) are refused,
/// and so is a name longer than [`DISPLAY_NAME_MAX`] characters.
pub fn display_name(input: &str) -> Result<Option<String>, &'static str> {
    if input
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'))
    {
        return Err("A display name cannot contain control characters.");
    }
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().count() > DISPLAY_NAME_MAX {
        return Err("Use at most 64 characters.");
    }
    Ok((!name.is_empty()).then_some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_tidied_and_bounded() {
        assert_eq!(
            display_name("  Ada   Lovelace "),
            Ok(Some("Ada Lovelace".into()))
        );
        assert_eq!(display_name("   "), Ok(None));
        assert_eq!(display_name(""), Ok(None));
        assert_eq!(display_name(&"é".repeat(64)), Ok(Some("é".repeat(64))));
        assert!(display_name(&"a".repeat(65)).is_err());
        assert!(
            display_name("Ada\u{202e}nimda").is_err(),
            "no bidi override"
        );
        assert!(display_name("Ada\u{0007}").is_err());
        assert_eq!(Mark::Improve.label(), "Could be stronger");
    }
}
