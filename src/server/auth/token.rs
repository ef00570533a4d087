//! The second kind of caller: a personal access token in `Authorization: Bearer`.
//! Resolved here, once per REST request, into a [`TokenCaller`]: its shape and
//! checksum first (no database read for a typo), then one statement that finds the
//! token by its keyed hash and counts the request in the token's minute (and, when it
//! is accepted, as its last use); a miss is counted against the address.
use super::guard::take;
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
    let hash = state.keys.hash(Purpose::AccessToken, token);
    // Looked up first: a real token (238 random bits, no guess) is never held back by
    // its address's misses, so nobody sharing the address can lock its owner's
    // scripts out. A miss is counted (atomically, so parallel misses each count) and
    // answers a wait once the address has missed too often.
    let found = store::tokens::use_token(
        &state.db,
        &store::tokens::Use {
            token_hash: &hash,
            now,
            window: rate_window(now),
            ip: &caller.ip,
            last_used_every: LAST_USED_EVERY_SECS,
            per_minute: i64::from(state.config.tokens.rate_per_minute),
        },
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
        // address (a client with a stale token gets 401s, not waits). It is logged
        // once a minute per token at most, so a client that keeps trying a dead token
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
    // The address differs from the last accepted use's (only accepted uses move it):
    // recorded, and logged in the same transaction when no use came from it before.
    if t.prev_ip.is_some() {
        let mut tx = state.db.begin().await?;
        if store::tokens::add_address(&mut *tx, t.id, &caller.ip, now).await? {
            crate::server::audit::log_within(
                &mut tx,
                caller,
                Some(t.user_id),
                EventKind::AccessTokenNewAddress,
                now,
                json!({"token": t.id}),
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(TokenCaller {
        token_id: t.id,
        user_id: t.user_id,
        scopes: Scope::split(&t.scopes),
    })
}
