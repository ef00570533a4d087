//! Settings > API tokens: generating, listing, regenerating and revoking personal
//! access tokens. Making one needs a browser session and a recent proof of identity;
//! listing is also open to a token with `tokens:read`.
use crate::model::tokens::{
    Expiry, LastUsed, NewToken, Scope, TokenInfo, TokenList, TokenSettings, MAX_TOKENS,
};
use crate::server::audit::{log_within, notify};
use crate::server::auth::identity::require_recent_proof;
use crate::server::auth::session::still_signed_in;
use crate::server::auth::Caller;
use crate::server::domain::access_token::{self, REMIND_BEFORE_SECS};
use crate::server::domain::security_log::EventKind;
use crate::server::domain::tokens::Purpose;
use crate::server::error::{Error, Result};
use crate::server::store::tokens::TokenRow;
use crate::server::{store, AppState};
use serde_json::json;

fn info(state: &AppState, row: &TokenRow, now: i64) -> TokenInfo {
    TokenInfo {
        id: row.id,
        name: row.name.clone(),
        scopes: Scope::split(&row.scopes),
        created_at: row.created_at,
        expires_at: row.expires_at,
        expired: access_token::expired(row.expires_at, now),
        last_used: row.last_used_at.map(|at| {
            let ip = row.last_used_ip.clone().unwrap_or_default();
            LastUsed {
                at,
                location: state.geo.locate(&ip),
                ip,
            }
        }),
    }
}

/// A token made just now, as the list shows it (never used yet).
fn made_now(id: i64, name: &str, scopes: &str, expires_at: Option<i64>, now: i64) -> TokenInfo {
    TokenInfo {
        id,
        name: name.to_string(),
        scopes: Scope::split(scopes),
        created_at: now,
        expires_at,
        expired: false,
        last_used: None,
    }
}

fn settings(state: &AppState) -> TokenSettings {
    TokenSettings {
        max_days: state.config.tokens.max_days,
        allow_no_expiry: state.config.tokens.allow_no_expiry,
    }
}

/// The account's tokens (expired ones too, until revoked), newest first.
pub async fn list(state: &AppState, caller: &Caller, now: i64) -> Result<TokenList> {
    let user_id = caller.account_for(Scope::TokensRead)?;
    let rows = store::tokens::live_of_user(&state.db, user_id).await?;
    Ok(TokenList {
        tokens: rows.iter().map(|r| info(state, r, now)).collect(),
        now,
        settings: settings(state),
    })
}

/// What "Generate Token" sends.
pub struct Request<'a> {
    pub name: &'a str,
    pub expiry: Expiry,
    pub scopes: &'a [String],
    /// The password, when the page sent it after being asked for a proof.
    pub password: Option<&'a str>,
}

/// Makes a token; its secret is in the answer and nowhere else.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: Request<'_>,
    now: i64,
) -> Result<NewToken> {
    let me = caller.signed_in()?;
    let name = access_token::check_name(req.name);
    let scopes = access_token::check_scopes(req.scopes);
    let expires = access_token::expires_at(
        &req.expiry,
        now,
        state.config.tokens.max_days,
        state.config.tokens.allow_no_expiry,
    );
    let mut problems = Vec::new();
    if let Err(m) = &name {
        problems.push(("name", m.to_string()));
    }
    if let Err(m) = &expires {
        problems.push(("expiration", m.to_string()));
    }
    if let Err(m) = &scopes {
        problems.push(("scopes", m.to_string()));
    }
    let (Ok(name), Ok(scopes), Ok(expires_at)) = (name, scopes, expires) else {
        return Err(Error::fields(problems));
    };
    require_recent_proof(state, caller, req.password, now).await?;
    let secret = access_token::generate();
    let scopes_text = Scope::join(&scopes);
    let mut tx = state.db.begin().await?;
    still_signed_in(&mut tx, me.user_id, me.session_id).await?;
    if store::tokens::count_live(&mut *tx, me.user_id).await? >= MAX_TOKENS as i64 {
        return Err(Error::invalid(format!(
            "You have {MAX_TOKENS} tokens, the most an account may hold. Revoke one you no longer use first."
        )));
    }
    let Some(id) = store::tokens::insert(
        &mut *tx,
        &store::tokens::NewToken {
            user_id: me.user_id,
            name: &name,
            token_hash: &state.keys.hash(Purpose::AccessToken, &secret),
            scopes: &scopes_text,
            now,
            expires_at,
        },
    )
    .await?
    else {
        return Err(Error::field(
            "name",
            "You already have a token with this name. Choose another.",
        ));
    };
    log_within(
        &mut tx,
        caller,
        Some(me.user_id),
        EventKind::AccessTokenCreated,
        now,
        json!({"token": id, "name": name, "scopes": scopes_text}),
    )
    .await?;
    tx.commit().await?;
    let made = NewToken {
        info: made_now(id, &name, &scopes_text, expires_at, now),
        secret,
    };
    tell_owner(
        state,
        caller,
        &me.email,
        "A new API token was created",
        &format!("an API token named \"{name}\" was created with the permissions {scopes_text}"),
        now,
    )
    .await;
    Ok(made)
}

/// The owner's notice, best effort: the token exists and its secret is in the answer,
/// so a mail that cannot go out now is logged, not turned into an error.
async fn tell_owner(
    state: &AppState,
    caller: &Caller,
    email: &str,
    subject: &str,
    what: &str,
    now: i64,
) {
    if let Err(e) = notify(state, caller, email, subject, what, now).await {
        tracing::warn!(error = %e, "the notice about an API token could not be sent");
    }
}

/// A new secret for a token: the same name and permissions, as long a life as it was
/// given (from now), and the old secret dead at once.
pub async fn regenerate(
    state: &AppState,
    caller: &Caller,
    id: i64,
    password: Option<&str>,
    now: i64,
) -> Result<NewToken> {
    let me = caller.signed_in()?;
    require_recent_proof(state, caller, password, now).await?;
    let secret = access_token::generate();
    let mut tx = state.db.begin().await?;
    still_signed_in(&mut tx, me.user_id, me.session_id).await?;
    let gone = || Error::not_found("That token has already been revoked.");
    let old = store::tokens::revoke(&mut *tx, me.user_id, id, now)
        .await?
        .ok_or_else(gone)?;
    // As long a life as it was given, within today's settings: a lifetime past
    // `tokens.max_days` is shortened to it, and "never" holds only while allowed.
    let max_life = i64::from(state.config.tokens.max_days) * 86_400;
    let expires_at = match old.expires_at {
        Some(e) => Some(now + (e - old.created_at).clamp(86_400, max_life)),
        None if state.config.tokens.allow_no_expiry => None,
        None => Some(now + max_life),
    };
    let new_id = store::tokens::insert(
        &mut *tx,
        &store::tokens::NewToken {
            user_id: me.user_id,
            name: &old.name,
            token_hash: &state.keys.hash(Purpose::AccessToken, &secret),
            scopes: &old.scopes,
            now,
            expires_at,
        },
    )
    .await?
    .ok_or_else(gone)?;
    log_within(
        &mut tx,
        caller,
        Some(me.user_id),
        EventKind::AccessTokenRegenerated,
        now,
        json!({"token": new_id, "replaces": id, "name": old.name}),
    )
    .await?;
    tx.commit().await?;
    let made = NewToken {
        info: made_now(new_id, &old.name, &old.scopes, expires_at, now),
        secret,
    };
    tell_owner(
        state,
        caller,
        &me.email,
        "An API token was regenerated",
        &format!(
            "the API token named \"{}\" was given a new secret (the old one no longer works)",
            old.name
        ),
        now,
    )
    .await;
    Ok(made)
}

/// Revokes a token: its next request is refused. Taking access away needs no proof.
pub async fn revoke(state: &AppState, caller: &Caller, id: i64, now: i64) -> Result<()> {
    let me = caller.signed_in()?;
    let mut tx = state.db.begin().await?;
    still_signed_in(&mut tx, me.user_id, me.session_id).await?;
    let Some(old) = store::tokens::revoke(&mut *tx, me.user_id, id, now).await? else {
        return Err(Error::not_found("That token has already been revoked."));
    };
    log_within(
        &mut tx,
        caller,
        Some(me.user_id),
        EventKind::AccessTokenRevoked,
        now,
        json!({"token": id, "name": old.name}),
    )
    .await?;
    Ok(tx.commit().await?)
}

/// Housekeeping: tells owners of tokens that expire within a week, once per token.
pub async fn remind_expiring(state: &AppState, now: i64) -> Result<usize> {
    let due = store::tokens::take_due_reminders(&state.db, now, REMIND_BEFORE_SECS).await?;
    for t in &due {
        // One failure does not lose the other reminders.
        let user = match store::users::by_id(&state.db, t.user_id).await {
            Ok(Some(u)) => u,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "a token expiry reminder could not be prepared");
                continue;
            }
        };
        let when = t
            .expires_at
            .map(crate::model::time::format_datetime)
            .unwrap_or_default();
        if let Err(e) = crate::server::audit::deliver(
            state,
            crate::server::delivery::templates::token_expiring(
                &user.email,
                &t.name,
                &when,
                &state.config.link("/settings/tokens"),
            ),
            now,
        )
        .await
        {
            tracing::warn!(error = %e, "a token expiry reminder could not be sent");
        }
    }
    Ok(due.len())
}
