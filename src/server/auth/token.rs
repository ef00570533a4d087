//! The second kind of caller: a personal access token in `Authorization: Bearer`.
//! Resolved here, once per REST request, into a [`TokenCaller`]: its shape and
//! checksum first (no database read for a typo), then one read that finds the token by
//! its keyed hash (a miss is counted against the address), then the token's allowance
//! for the minute, counted in memory against a share reserved from the database
//! ([`Leases`]). A request writes only to reserve a share or, at most once a minute,
//! to record its last use: most API requests only read.
use super::guard::take;
use super::Caller;
use crate::model::tokens::Scope;
use crate::server::domain::access_token::{self, rate_window, Lease, Take, LAST_USED_EVERY_SECS};
use crate::server::domain::security_log::EventKind;
use crate::server::domain::throttle::{self, Policy};
use crate::server::domain::tokens::Purpose;
use crate::server::error::Error;
use crate::server::{store, AppState};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// This instance's shares of tokens' minutes, by token id.
#[derive(Default)]
pub struct Leases {
    shares: Mutex<HashMap<i64, Arc<Share>>>,
}

#[derive(Default)]
struct Share {
    lease: Mutex<Lease>,
    /// One reservation at a time per token and instance: the requests that find the
    /// share empty meanwhile wait for it and then take from what it got, so that one
    /// instance alone answers exactly the allowance.
    reserving: tokio::sync::Mutex<()>,
}

/// Shares kept before the ones of past minutes are dropped.
const SHARES_KEPT: usize = 10_000;

impl Leases {
    fn share(&self, token_id: i64, window: i64) -> Arc<Share> {
        let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
        if shares.len() >= SHARES_KEPT && !shares.contains_key(&token_id) {
            shares.retain(|_, s| {
                let l = s.lease.lock().unwrap_or_else(|e| e.into_inner());
                l.is_of(window) || Arc::strong_count(s) > 1
            });
        }
        shares.entry(token_id).or_default().clone()
    }

    /// Counts one request of the token in the minute `window`: whether it is within
    /// the allowance, reserving more of the minute from the database when this
    /// instance's share is used.
    async fn admit(
        &self,
        state: &AppState,
        token_id: i64,
        window: i64,
        per_minute: i64,
    ) -> Result<Admit, sqlx::Error> {
        let share = self.share(token_id, window);
        // The share answers, unless it is empty (`None`).
        let from_share = |share: &Share| match share
            .lease
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(window)
        {
            Take::Took => Some(Admit::Yes),
            Take::UsedUp => Some(Admit::No),
            Take::Empty => None,
        };
        if let Some(answer) = from_share(&share) {
            return Ok(answer);
        }
        let _one = share.reserving.lock().await;
        if let Some(answer) = from_share(&share) {
            return Ok(answer);
        }
        let want = share
            .lease
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .want(window, per_minute);
        let Some(got) =
            store::tokens::reserve(&state.db, token_id, window, want, per_minute).await?
        else {
            return Ok(Admit::Revoked);
        };
        let mut lease = share.lease.lock().unwrap_or_else(|e| e.into_inner());
        lease.granted(window, got);
        Ok(match lease.take(window) {
            Take::Took => Admit::Yes,
            _ => Admit::No,
        })
    }
}

enum Admit {
    Yes,
    No,
    Revoked,
}

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
    /// The owner's IP allowlist leaves out the caller's address.
    IpNotAllowed {
        ip: String,
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
    let Some(t) = store::tokens::find(&state.db, &hash).await? else {
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
        let mut tx = state.db.begin().await?;
        if store::tokens::refusal_to_log(&mut *tx, t.id, now, LAST_USED_EVERY_SECS).await? {
            crate::server::audit::log_within(
                &mut tx,
                caller,
                Some(t.user_id),
                EventKind::AccessTokenRefused,
                now,
                json!({"token": t.id, "reason": reason}),
            )
            .await?;
        }
        tx.commit().await?;
        return Err(Refused::Invalid);
    }
    let enabled = Some(t.allowlist_enabled != 0);
    if !super::allowlist::permits(state, t.user_id, enabled, caller).await? {
        // Logged (and told) once a minute per token at most, like a dead token's use:
        // a script calling from outside the list does not fill its owner's log.
        if store::tokens::refusal_to_log(&state.db, t.id, now, LAST_USED_EVERY_SECS).await? {
            let at = super::allowlist::At::Token;
            super::allowlist::refused(state, caller, t.user_id, at, now).await?;
        }
        return Err(Refused::IpNotAllowed {
            ip: caller.ip.clone(),
        });
    }
    let window = rate_window(now);
    let per_minute = i64::from(state.config.tokens.rate_per_minute);
    match state
        .token_leases
        .admit(state, t.id, window, per_minute)
        .await?
    {
        Admit::Yes => {}
        Admit::No => {
            return Err(Refused::TooMany {
                retry_after: (window + 60 - now).max(1) as u64,
            })
        }
        Admit::Revoked => return Err(Refused::Invalid),
    }
    // "Last used" is written at most once a minute. A use from an address this token
    // was never used from is recorded, written as the last use and logged at once, in
    // one transaction (a known address is only read).
    let other_address = t.last_used_ip.as_deref() != Some(caller.ip.as_str());
    if other_address && !store::tokens::address_known(&state.db, t.id, &caller.ip).await? {
        let mut tx = state.db.begin().await?;
        if store::tokens::add_address(&mut *tx, t.id, &caller.ip, now).await? {
            store::tokens::touch(&mut *tx, t.id, now, &caller.ip, LAST_USED_EVERY_SECS, true)
                .await?;
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
    } else if access_token::last_used_due(t.last_used_at, now) {
        store::tokens::touch(
            &state.db,
            t.id,
            now,
            &caller.ip,
            LAST_USED_EVERY_SECS,
            false,
        )
        .await?;
    }
    Ok(TokenCaller {
        token_id: t.id,
        user_id: t.user_id,
        scopes: Scope::split(&t.scopes),
    })
}
