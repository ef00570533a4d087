//! Settings > API tokens: personal access tokens, what each may do, and how long it
//! lives (seed 002: "Generate Token", name, expiration, permissions; "Revoke").
use serde::{Deserialize, Serialize};

/// What a token may do on the REST API. A browser session may do all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    AccountRead,
    SessionsRead,
    SessionsWrite,
    SecurityLogRead,
    TokensRead,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::AccountRead,
        Scope::SessionsRead,
        Scope::SessionsWrite,
        Scope::SecurityLogRead,
        Scope::TokensRead,
    ];

    /// The name on the wire and in the list: `sessions:write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AccountRead => "account:read",
            Scope::SessionsRead => "sessions:read",
            Scope::SessionsWrite => "sessions:write",
            Scope::SecurityLogRead => "security_log:read",
            Scope::TokensRead => "tokens:read",
        }
    }

    /// The one line beside its checkbox.
    pub fn allows(self) -> &'static str {
        match self {
            Scope::AccountRead => {
                "Read your account: email address, verification, sign-in methods on."
            }
            Scope::SessionsRead => "List your signed-in sessions.",
            Scope::SessionsWrite => "Revoke your sessions (sign a browser out).",
            Scope::SecurityLogRead => "Read and export your security log.",
            Scope::TokensRead => "List your API tokens (names and dates, never the tokens).",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Scopes as stored and shown: their names, in the order of [`Scope::ALL`],
    /// separated by spaces (as OAuth's `scope` is).
    pub fn join(scopes: &[Scope]) -> String {
        let mut sorted = scopes.to_vec();
        sorted.sort();
        sorted.dedup();
        sorted
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The scopes of a stored list; unknown names (from a newer version) are skipped.
    pub fn split(text: &str) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = text.split_whitespace().filter_map(Scope::parse).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }
}

/// The expirations offered, in days; 30 is chosen first.
pub const EXPIRY_DAYS: [u32; 4] = [7, 30, 60, 90];
pub const DEFAULT_EXPIRY_DAYS: u32 = 30;
/// Tokens one account may hold (live or expired, until deleted).
pub const MAX_TOKENS: usize = 50;
pub const NAME_MAX: usize = 64;

/// One token in the list: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Unix seconds.
    pub created_at: i64,
    /// `None`: never expires.
    pub expires_at: Option<i64>,
    pub expired: bool,
    pub last_used: Option<LastUsed>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastUsed {
    pub at: i64,
    pub ip: String,
    /// "City, Country", "Local network" or "Unknown location".
    pub location: String,
}

/// What the page needs to offer the form: the operator's limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSettings {
    /// The latest custom expiry, in days from now.
    pub max_days: u32,
    pub allow_no_expiry: bool,
}

/// The tokens of the account, and the limits of the form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
    /// The server's time (Unix seconds), for "last used 5 minutes ago".
    pub now: i64,
    pub settings: TokenSettings,
}

/// A token just made: its secret, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub info: TokenInfo,
    pub secret: String,
}

/// Never the secret, whatever prints it.
impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("info", &self.info)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// What "Expiration" holds: a number of days, a date (`YYYY-MM-DD`, the end of that
/// day in UTC), or "never".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expiry {
    Days(u32),
    Date(String),
    Never,
}

impl Expiry {
    /// The form's value back: "30", "never", or the date picked for "custom".
    pub fn from_form(choice: &str, date: &str) -> Option<Expiry> {
        match choice {
            "never" => Some(Expiry::Never),
            "custom" => Some(Expiry::Date(date.trim().to_string())),
            days => days.parse().ok().map(Expiry::Days),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_names_in_one_order() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("admin"), None);
        let joined = Scope::join(&[Scope::TokensRead, Scope::AccountRead, Scope::TokensRead]);
        assert_eq!(joined, "account:read tokens:read");
        assert_eq!(
            Scope::split("tokens:read  account:read future:thing"),
            vec![Scope::AccountRead, Scope::TokensRead]
        );
    }

    #[test]
    fn the_form_expiry_reads_days_a_date_or_never() {
        assert_eq!(Expiry::from_form("30", ""), Some(Expiry::Days(30)));
        assert_eq!(Expiry::from_form("never", ""), Some(Expiry::Never));
        assert_eq!(
            Expiry::from_form("custom", " 2027-01-31 "),
            Some(Expiry::Date("2027-01-31".into()))
        );
        assert_eq!(Expiry::from_form("soon", ""), None);
    }
}
