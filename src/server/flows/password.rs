//! Changing the password (signed in), and resetting it by an emailed link.
use super::answer_after;
use crate::model::account::{PasswordOverview, ResetRequested};
use crate::model::password::{
    rotation_due, PasswordEstimate, PasswordProblem, Strength, MAX_PASSWORD_BYTES,
};
use crate::server::audit::{deliver, log, log_within, logged_email};
use crate::server::auth::change::{Change, Notice, Sessions};
use crate::server::auth::guard::take;
use crate::server::auth::identity::{confirm_own_password, PasswordProof};
use crate::server::auth::{not_signed_in, Caller};
use crate::server::delivery::templates;
use crate::server::domain::common_passwords::is_common_password;
use crate::server::domain::security_log::EventKind;
use crate::server::domain::throttle;
use crate::server::domain::tokens::{looks_like_token, new_token, Purpose};
use crate::server::domain::{email, strength};
use crate::server::error::{Error, Result};
use crate::server::store;
use crate::server::AppState;
use serde_json::json;
use std::time::{Duration, Instant};

/// Changing the password asks for the current one.
const CURRENT_PASSWORD: PasswordProof = PasswordProof {
    scope: "change-password",
    field: "current_password",
    wrong: "The current password is not correct.",
    failed_kind: EventKind::PasswordChangeFailed,
};

/// The least time "Send Reset Link" takes to answer, whether or not the account exists.
const RESET_ANSWER_FLOOR: Duration = Duration::from_millis(400);

/// What is wrong with a new password and its repetition, as (field, message) pairs in
/// the form's order, so that every problem shows at once.
async fn new_password_problems(
    state: &AppState,
    new: &str,
    repeat: &str,
    email: &str,
) -> Result<Vec<(&'static str, String)>, Error> {
    let mut problems = Vec::new();
    if new.len() > MAX_PASSWORD_BYTES {
        problems.push(("new_password", PasswordProblem::TooLarge.to_string()));
    } else if let Some(message) = new_password_problem(state, new, email).await? {
        problems.push(("new_password", message));
    }
    if new != repeat {
        problems.push((
            "new_password_repeat",
            "The two new passwords do not match.".to_string(),
        ));
    }
    Ok(problems)
}

/// The strength of a candidate (the account's address and its parts count as known
/// words), estimated off the async runtime.
pub(crate) async fn strength_of(password: &str, email: &str) -> Result<Strength, Error> {
    let candidate: String = password.chars().take(ESTIMATE_MAX_CHARS).collect();
    let email = email.to_string();
    Ok(tokio::task::spawn_blocking(move || {
        let mut known: Vec<&str> = vec![email.as_str()];
        known.extend(
            email
                .split('@')
                .next()
                .unwrap_or("")
                .split(['.', '_', '-', '+'])
                .filter(|w| w.len() > 2),
        );
        strength::estimate(&candidate, &known, ESTIMATE_MAX_CHARS)
    })
    .await?)
}

/// Every rule a new password must meet (sign-up, change, reset): the policy, the
/// common-password list, the least strength and, when turned on, the breach check.
/// Gives every broken rule in one message, or `None` when the password is fine.
pub async fn new_password_problem(
    state: &AppState,
    password: &str,
    email: &str,
) -> Result<Option<String>, Error> {
    let estimate = PasswordEstimate {
        strength: strength_of(password, email).await?,
        common: is_common_password(password),
    };
    let problems = state.config.password.policy.problems(password, estimate);
    if !problems.is_empty() {
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Ok(Some(all.join(" ")));
    }
    if let Some(api) = &state.config.password.pwned_api {
        match crate::server::pwned::breach_count(api, password).await {
            Ok(0) => {}
            Ok(n) => {
                return Ok(Some(format!(
                    "This password has appeared {n} time{} in data breaches, so attackers try it first; choose another.",
                    if n == 1 { "" } else { "s" }
                )))
            }
            Err(e) => {
                tracing::warn!(error = %e, "breached-password check unavailable; the password was accepted");
            }
        }
    }
    Ok(None)
}

/// With a new password, what the old one started stops working, in the same
/// transaction: emailed reset links, and sign-ins waiting for their second step.
async fn end_password_uses(tx: &mut store::Tx<'_>, user_id: i64, now: i64) -> Result<(), Error> {
    store::email_links::retire_all(tx, user_id, store::email_links::RESET_PASSWORD, now).await?;
    store::mfa::delete_pending_for_user(tx, user_id).await?;
    Ok(())
}

pub async fn overview(
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<PasswordOverview, Error> {
    let session = caller.signed_in()?;
    let reference = session
        .password_changed_at
        .unwrap_or(session.user_created_at);
    Ok(PasswordOverview {
        changed_at: session.password_changed_at,
        rotation_due: rotation_due(reference, now, state.config.password.rotation_reminder_days),
        reminder_days: state.config.password.rotation_reminder_days,
    })
}

/// Only this much of a candidate is estimated: zxcvbn's cost grows with the length, and
/// a longer password is judged on its first 64 characters (the policy's own length
/// rules still apply to the whole).
pub const ESTIMATE_MAX_CHARS: usize = 64;

/// Counts one strength estimate for the caller's address, or refuses it: anyone may
/// ask for one (the strength meter, a sign-up), and each costs.
pub async fn strength_check_allowed(state: &AppState, caller: &Caller, now: i64) -> Result<()> {
    let key = state.keys.hash(
        Purpose::Throttle,
        &format!("password-strength:ip:{}", caller.ip_group()),
    );
    take(state, &[(key, throttle::PASSWORD_STRENGTH_IP)], now).await
}

/// Strength of a candidate password (the signed-in account's email counts as a known
/// word), and whether it is a common one, for the checklist. Throttled per address and
/// run off the async runtime, since anyone may ask.
pub async fn estimate(
    state: &AppState,
    caller: &Caller,
    password: &str,
    now: i64,
) -> Result<PasswordEstimate, Error> {
    strength_check_allowed(state, caller, now).await?;
    let email = caller
        .session()
        .map(|s| s.email.clone())
        .unwrap_or_default();
    let common = is_common_password(password);
    let strength = strength_of(password, &email).await?;
    Ok(PasswordEstimate { strength, common })
}

pub struct Changed {
    pub session_token: String,
    pub changed_at: i64,
}

/// Changes the password of the signed-in account. Every other session ends; this one
/// continues under a new session id.
pub async fn change(
    state: &AppState,
    caller: &Caller,
    current: &str,
    new: &str,
    repeat: &str,
    now: i64,
) -> Result<Changed, Error> {
    let session = caller.signed_in()?;
    // Every problem at once, in the form's order; the current password is checked
    // (which costs an attempt) only once the rest is right.
    let mut problems = Vec::new();
    if current.is_empty() {
        problems.push((
            "current_password",
            "Enter your current password.".to_string(),
        ));
    }
    if !current.is_empty() && new == current {
        problems.push((
            "new_password",
            "Choose a new password that differs from the current one.".to_string(),
        ));
        if new != repeat {
            problems.push((
                "new_password_repeat",
                "The two new passwords do not match.".to_string(),
            ));
        }
    } else {
        problems.extend(new_password_problems(state, new, repeat, &session.email).await?);
    }
    if !problems.is_empty() {
        return Err(Error::fields(problems));
    }

    let user = store::users::by_id(&state.db, session.user_id)
        .await?
        .ok_or_else(not_signed_in)?;
    confirm_own_password(state, caller, &user, current, &CURRENT_PASSWORD, now).await?;
    let hash = state.hasher.hash(new).await?;
    // Kept for the security checklist ("strong when it was set").
    let strength = strength_of(new, &user.email).await?;

    let mut change = Change::of_caller(state, caller, now).await?;
    store::users::set_password(change.tx(), user.id, &hash, now, false).await?;
    store::profile::set_password_strength(&mut **change.tx(), user.id, strength.0).await?;
    end_password_uses(change.tx(), user.id, now).await?;
    let done = change
        .commit(
            Sessions::ContinueCaller,
            EventKind::PasswordChanged,
            json!({}),
            Notice::new(
                "Your password was changed",
                "the password of your account was changed, and every other device signed in to it was signed out",
            ),
        )
        .await?;
    let token = done.session_token.ok_or_else(not_signed_in)?;
    Ok(Changed {
        session_token: token,
        changed_at: now,
    })
}

/// Sends a reset link when the account exists; answers the same, in the same time,
/// when it does not.
pub async fn request_reset(
    state: &AppState,
    caller: &Caller,
    email_input: &str,
    now: i64,
) -> Result<ResetRequested, Error> {
    let started = Instant::now();
    let email = email::normalize(email_input).map_err(|m| Error::field("email", m))?;
    let keys = [
        (
            state
                .keys
                .hash(Purpose::Throttle, &format!("reset-request:account:{email}")),
            throttle::RESET_REQUESTS_ACCOUNT,
        ),
        (
            state.keys.hash(
                Purpose::Throttle,
                &format!("reset-request:ip:{}", caller.ip_group()),
            ),
            throttle::RESET_REQUESTS_IP,
        ),
    ];
    if let Err(refused) = take(state, &keys, now).await {
        answer_after(started, RESET_ANSWER_FLOOR).await;
        return Err(refused);
    }

    let user = store::users::by_email(&state.db, &email).await?;
    let valid_minutes = (state.config.accounts.reset_link_secs + 59) / 60;
    match user {
        Some(user) => {
            let mut tx = state.db.begin().await?;
            let token = new_reset_link(&mut tx, state, user.id, now).await?;
            log_within(
                &mut tx,
                caller,
                Some(user.id),
                EventKind::PasswordResetRequested,
                now,
                json!({}),
            )
            .await?;
            tx.commit().await?;
            let link = state.config.link(&format!("/reset-password#token={token}"));
            deliver(
                state,
                templates::password_reset_link(&user.email, &link, valid_minutes),
                now,
            )
            .await?;
        }
        None => {
            log(
                state,
                caller,
                None,
                EventKind::PasswordResetRequested,
                now,
                json!({"reason": "unknown_account", "email_hash": logged_email(state, &email)}),
            )
            .await?;
        }
    }
    answer_after(started, RESET_ANSWER_FLOOR).await;
    Ok(ResetRequested {
        email,
        valid_minutes,
    })
}

/// Stores a new reset link for `user_id` (a keyed hash, `accounts.reset_link_secs`
/// long) and gives its token.
pub(crate) async fn new_reset_link(
    tx: &mut store::Tx<'_>,
    state: &AppState,
    user_id: i64,
    now: i64,
) -> Result<String, Error> {
    let token = new_token();
    store::email_links::insert(
        &mut **tx,
        &reset_hash(state, &token),
        user_id,
        store::email_links::RESET_PASSWORD,
        now,
        now + state.config.accounts.reset_link_secs,
    )
    .await?;
    Ok(token)
}

fn reset_hash(state: &AppState, token: &str) -> Vec<u8> {
    state.keys.hash(Purpose::ResetPassword, token)
}

/// Whether a reset link can still be used; the error says why not.
pub async fn check_reset_link(state: &AppState, token: &str, now: i64) -> Result<(), Error> {
    reset_link_owner(state, token, now).await.map(|_| ())
}

/// The account a usable reset link belongs to; the error says why it cannot be used.
pub(crate) async fn reset_link_owner(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<i64, Error> {
    let forged = || {
        Error::invalid("This reset link is not valid. Check that you copied the whole link, or ask for a new one.")
    };
    if !looks_like_token(token) {
        return Err(forged());
    }
    match store::email_links::owner(
        &state.db,
        &reset_hash(state, token),
        store::email_links::RESET_PASSWORD,
    )
    .await?
    {
        None => Err(forged()),
        Some((_, Some(_), _)) => Err(Error::invalid(
            "This reset link has already been used. Ask for a new one if you still need it.",
        )),
        Some((_, None, expires_at)) if expires_at <= now => Err(Error::invalid(
            "This reset link has expired. Ask for a new one.",
        )),
        Some((user_id, None, _)) => Ok(user_id),
    }
}

/// Sets a new password through a reset link. Ends every session of the account and
/// does not sign anyone in: the next sign-in still asks for every factor.
pub async fn reset(
    state: &AppState,
    caller: &Caller,
    token: &str,
    new: &str,
    repeat: &str,
    now: i64,
) -> Result<bool, Error> {
    let owner = reset_link_owner(state, token, now).await?;
    // The strength is judged knowing the account's address, as at sign-up and change.
    let email = store::users::by_id(&state.db, owner)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let problems = new_password_problems(state, new, repeat, &email).await?;
    if !problems.is_empty() {
        return Err(Error::fields(problems));
    }
    let hash = state.hasher.hash(new).await?;
    let strength = strength_of(new, &email).await?;
    let mut tx = state.db.begin().await?;
    // Consumed atomically: of two racing uses of one link, one wins.
    let Some(user_id) = store::email_links::consume(
        &mut tx,
        &reset_hash(state, token),
        store::email_links::RESET_PASSWORD,
        now,
    )
    .await?
    else {
        tx.rollback().await?;
        return check_reset_link(state, token, now)
            .await
            .and(Err(Error::invalid(
                "This reset link has already been used.",
            )));
    };
    let mut change = Change::within(state, caller, user_id, now, tx);
    store::users::set_password(change.tx(), user_id, &hash, now, true).await?;
    store::profile::set_password_strength(&mut **change.tx(), user_id, strength.0).await?;
    store::users::mark_reset_by_link(change.tx(), user_id, now).await?;
    end_password_uses(change.tx(), user_id, now).await?;
    // Whoever had the password may have made API tokens: a recovery ends them too.
    let tokens = store::tokens::revoke_all(change.tx(), user_id, now).await?;
    // The mailbox is the way back in: a reset from anywhere turns the IP allowlist
    // off, so that no owner is locked out for good.
    let allowlist_off = store::allowlist::disable(&mut **change.tx(), user_id).await?;
    let mut what = if tokens > 0 {
        "the password of your account was reset by email link, every device signed in to it was signed out, and its API tokens were revoked".to_string()
    } else {
        "the password of your account was reset by email link, and every device signed in to it was signed out".to_string()
    };
    if allowlist_off {
        what.push_str(". Your IP allowlist was turned off so that you can sign in from anywhere: turn it on again in Settings > IP allowlist");
        log_within(
            change.tx(),
            caller,
            Some(user_id),
            EventKind::AllowlistTurnedOff,
            now,
            json!({}),
        )
        .await?;
    }
    change
        .commit(
            Sessions::EndAll,
            EventKind::PasswordReset,
            json!({"tokens_revoked": tokens, "allowlist_turned_off": allowlist_off}),
            Notice::new("Your password was reset", &what),
        )
        .await?;
    crate::server::auth::device::remember(state, caller, user_id, now).await?;
    Ok(allowlist_off)
}
