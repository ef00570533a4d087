//! Authentication in one place: who is calling ([`Caller`], its [`Principal`]), what
//! proves it (a session; a password; a [`factor::SecondFactor`]), how checks of secrets
//! are throttled ([`guard`]), and what every change of credentials does ([`change`]).
//! The HTTP layer only reads the cookie and the client address and hands them to
//! [`session::resolve`]; use cases take the `Caller` and never see HTTP types.
pub mod allowlist;
pub mod change;
pub mod device;
pub mod factor;
pub mod guard;
pub mod identity;
pub mod passkey;
pub mod session;
pub mod token;

use crate::model::tokens::Scope;
use crate::server::error::Error;

/// Who is asking: the client address (as throttles, the log and sessions see it), the
/// browser's user agent, and the principal proved by the request, if any.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub ip: String,
    pub user_agent: String,
    pub principal: Option<Principal>,
    /// The browser's device cookie as sent (checked where it is used).
    pub device_cookie: Option<String>,
}

/// What a request proves it is: a browser session (it opens the pages and the server
/// functions), or a personal access token (it opens the REST API, nothing else).
#[derive(Clone, Debug)]
pub enum Principal {
    Session(Session),
    Token(token::TokenCaller),
}

/// A live session of an account, as found from the request's cookie.
#[derive(Clone, Debug)]
pub struct Session {
    pub session_id: i64,
    pub user_id: i64,
    pub email: String,
    pub email_verified: bool,
    pub user_created_at: i64,
    /// When this sign-in happened (the absolute session limit counts from it).
    pub signed_in_at: i64,
    /// Read with the session (one query per request serves the Password section too).
    pub password_changed_at: Option<i64>,
    /// The IANA time zone the owner's browser last reported.
    pub time_zone: Option<String>,
    /// The name the owner gave in Settings > Profile.
    pub display_name: Option<String>,
}

impl From<crate::server::store::sessions::SessionRow> for Session {
    fn from(row: crate::server::store::sessions::SessionRow) -> Self {
        Session {
            session_id: row.id,
            user_id: row.user_id,
            email: row.email,
            email_verified: row.email_verified_at.is_some(),
            user_created_at: row.user_created_at,
            signed_in_at: row.created_at,
            time_zone: row.time_zone,
            display_name: row.display_name,
            password_changed_at: row.password_changed_at,
        }
    }
}

impl Caller {
    /// A caller signed in with `session` (or signed out), from `ip`.
    pub fn new(ip: &str, user_agent: &str, session: Option<Session>) -> Caller {
        Caller {
            ip: ip.to_string(),
            user_agent: user_agent.to_string(),
            principal: session.map(Principal::Session),
            device_cookie: None,
        }
    }

    /// The browser session this request came with, if any.
    pub fn session(&self) -> Option<&Session> {
        match &self.principal {
            Some(Principal::Session(s)) => Some(s),
            _ => None,
        }
    }

    /// The account a read is for, when the caller may do `scope` on it: any signed-in
    /// session, or a token that holds the permission. Every use case that a token may
    /// call asks here, so the permission rule is in one place.
    pub fn account_for(&self, scope: Scope) -> Result<i64, Error> {
        match &self.principal {
            Some(Principal::Session(s)) => Ok(s.user_id),
            Some(Principal::Token(t)) if t.scopes.contains(&scope) => Ok(t.user_id),
            Some(Principal::Token(_)) => Err(Error::MissingScope(scope)),
            None => Err(not_signed_in()),
        }
    }

    /// The access token this request came with, if any.
    pub fn token(&self) -> Option<&token::TokenCaller> {
        match &self.principal {
            Some(Principal::Token(t)) => Some(t),
            _ => None,
        }
    }

    /// The browser session, or "your session has ended".
    pub fn signed_in(&self) -> Result<&Session, Error> {
        self.session().ok_or_else(not_signed_in)
    }

    /// The address as throttles count it: IPv6 by its /64.
    pub fn ip_group(&self) -> String {
        match self.ip.parse::<std::net::IpAddr>() {
            Ok(ip) => crate::server::domain::client_address::throttle_group(ip),
            Err(_) => self.ip.clone(),
        }
    }
}

pub fn not_signed_in() -> Error {
    Error::unauthorized("Your session has ended. Sign in again.")
}

/// Multi-factor methods need a verified address: otherwise someone who signs up with
/// another person's address could add an authenticator before the owner ever claims
/// the account, and keep it after the owner resets the password.
pub fn require_verified_email(s: &Session) -> Result<(), Error> {
    if s.email_verified {
        Ok(())
    } else {
        Err(Error::forbidden(
            "Verify your email address first: follow the link we sent you, or send a new one from the banner at the top of this page.",
        ))
    }
}
