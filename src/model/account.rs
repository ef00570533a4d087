//! What the server tells the browser about the signed-in account.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub email_verified: bool,
    /// Unix seconds, UTC.
    pub created_at: i64,
    /// The IANA time zone the server knows for the account (the browser's, as last
    /// reported by a settings page).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The name given in Settings > Profile (the header shows it).
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Where the browser goes after a successful sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub redirect_to: String,
}

/// The one answer sign-up gives, whether or not the email already had an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUpAccepted {
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerifyOutcome {
    Verified,
    AlreadyVerified,
}

/// Only a local path is accepted as a place to return to after sign-in.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.len() <= 512 =>
        {
            n.to_string()
        }
        _ => "/settings/security".to_string(),
    }
}

/// The token of an emailed link, from the URL fragment (`#token=…`). Links carry it
/// there because browsers never send a fragment to any server, so it stays out of
/// proxy and server logs and `Referer` headers.
pub fn token_from_fragment(hash: &str) -> Option<String> {
    hash.trim_start_matches('#')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The token a person gives by pasting the whole emailed link (what a page without
/// script asks for, since only script can read a fragment), or the bare token.
pub fn token_from_pasted(input: &str) -> String {
    let input = input.trim();
    match input.split_once('#').or_else(|| input.split_once('?')) {
        Some((_, rest)) => token_from_fragment(rest).unwrap_or_default(),
        None => input.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{safe_next, token_from_fragment, token_from_pasted};

    #[test]
    fn a_pasted_link_gives_its_token() {
        let link = "https://portal.example/verify-email#token=abc_-9";
        assert_eq!(token_from_pasted(link), "abc_-9");
        assert_eq!(token_from_pasted(&format!("  {link}\n")), "abc_-9");
        assert_eq!(
            token_from_pasted("https://p.example/reset-password?token=xyz"),
            "xyz"
        );
        assert_eq!(token_from_pasted("abc_-9"), "abc_-9");
        assert_eq!(
            token_from_pasted("https://p.example/verify-email#other=1"),
            ""
        );
    }

    #[test]
    fn the_token_is_read_from_the_fragment() {
        assert_eq!(
            token_from_fragment("#token=abc_-9").as_deref(),
            Some("abc_-9")
        );
        assert_eq!(
            token_from_fragment("#x=1&token=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(token_from_fragment("#token="), None);
        assert_eq!(token_from_fragment(""), None);
        assert_eq!(token_from_fragment("#tokens=abc"), None);
        assert_eq!(
            token_from_fragment(&format!("#token={}", "a".repeat(200))),
            None
        );
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/settings/security")), "/settings/security");
        assert_eq!(safe_next(Some("//evil.example/x")), "/settings/security");
        assert_eq!(
            safe_next(Some("https://evil.example")),
            "/settings/security"
        );
        assert_eq!(safe_next(Some("/\\evil.example")), "/settings/security");
        assert_eq!(safe_next(None), "/settings/security");
    }
}

/// The Password section of the Security page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordOverview {
    /// Unix seconds of the last change; `None` when never changed.
    pub changed_at: Option<i64>,
    /// The rotation reminder applies (see `model::password::rotation_due`).
    pub rotation_due: bool,
    pub reminder_days: i64,
}

/// The one answer "Send Reset Link" gives, whether or not the account exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRequested {
    pub email: String,
    pub valid_minutes: i64,
}
