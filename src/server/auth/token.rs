//! The second kind of caller: a personal access token in `Authorization: Bearer`.
//! Resolved here, once per REST request, into a [`TokenCaller`]: its shape and
//! checksum first (no database read for a typo), then the address's throttle of
//! refused tokens, then one statement that finds the token by its keyed hash and counts
//! the request in the token's minute and as its last use.
use super::guard::{owed, take};
use super::Caller;
use crate::model::tokens::Scope;
use crate::server::audit::log;
use crate::server::domain::access_token::{self, rate_window, LAST_USED_EVERY_SECS};
use crate::server::domain::security_log::EventKind;
use crate::server::domain::throttle::{self, Policy};
use crate::server::domain::tokens::Purpose;
use crate::server::error::Error;
use crate::server::{store, AppState};
use serde_json::json;

/// A live token with the permissions it holds.
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub token_id: i64,
    pub user_id: i64,
    pub scopes: Vec<Scope>,
}

/// Why a token does not open the API.
#[derive(Debug)]
pub enum Refused {
    /// Unknown, malformed, revoked or expired: all the same to the client.
    Invalid,
    /// This token's requests this minute are used up, or this address sent too many
    /// refused tokens: try again after this many seconds.
    TooMany {
        retry_after: u64,
    },
    Failed(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        match e {
            Error::TooMany { retry_after } => Refused::TooMany { retry_after },
            other => Refused::Failed(other),
        }
    }
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Refused::Failed(e.into())
    }
}

fn address_key(state: &AppState, caller: &Caller) -> Vec<(Vec<u8>, Policy)> {
    vec![(
        state.keys.hash(
            Purpose::Throttle,
            &format!("access-token:ip:{}", caller.ip_group()),
        ),
        throttle::TOKEN_CHECKS_IP,
    )]
}

/// Who the bearer `token` is, for a request from `caller` (no principal yet).
pub async fn resolve(
    state: &AppState,
    caller: &Caller,
    token: &str,
    now: i64,
) -> Result<TokenCaller, Refused> {
    if !access_token::well_formed(token) {
        return Err(Refused::Invalid);
    }
    let keys = address_key(state, caller);
    if let Some(wait) = owed(state, &keys, now).await? {
        return Err(Refused::TooMany {
            retry_after: wait.max(1) as u64,
        });
    }
    let hash = state.keys.hash(Purpose::AccessToken, token);
    let found = store::tokens::use_token(
        &state.db,
        &hash,
        now,
        rate_window(now),
        &caller.ip,
        LAST_USED_EVERY_SECS,
    )
    .await?;
    let Some(t) = found else {
        take(state, &keys, now).await?;
        return Err(Refused::Invalid);
    };
    let refused = if t.revoked_at.is_some() {
        Some("revoked")
    } else if access_token::expired(t.expires_at, now) {
        Some("expired")
    } else {
        None
    };
    if let Some(reason) = refused {
        // A real token past its life is no guess: it is not counted against the
        // address (a client with a stale token gets 401s, not waits). Once a minute per token at most: a client that keeps trying a dead token
        // does not fill its owner's log.
        if t.rate_count == 1 {
            log(
                state,
                caller,
                Some(t.user_id),
                EventKind::AccessTokenRefused,
                now,
                json!({"token": t.id, "reason": reason}),
            )
            .await?;
        }
        return Err(Refused::Invalid);
    }
    if t.rate_count > i64::from(state.config.tokens.rate_per_minute) {
        return Err(Refused::TooMany {
            retry_after: (rate_window(now) + 60 - now).max(1) as u64,
        });
    }
    // The address differs from the last use's: log it when no use came from it before.
    if t.prev_ip.is_some() && store::tokens::add_address(&state.db, t.id, &caller.ip, now).await? {
        log(
            state,
            caller,
            Some(t.user_id),
            EventKind::AccessTokenNewAddress,
            now,
            json!({"token": t.id}),
        )
        .await?;
    }
    Ok(TokenCaller {
        token_id: t.id,
        user_id: t.user_id,
        scopes: Scope::split(&t.scopes),
    })
}
