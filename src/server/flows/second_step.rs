//! The second step of a sign-in: after a correct password, for an account with a
//! second factor on, a pending sign-in that one factor completes.
use super::codes::{send_code, Recipient};
use crate::model::account::SignedIn;
use crate::model::mfa::{email_code_held, CodeSent, Method, SignInOptions};
use crate::server::audit::{log, log_within, notify};
use crate::server::auth::factor::{self, Bound, For, SecondFactor};
use crate::server::auth::guard::take;
use crate::server::auth::session::start_session;
use crate::server::auth::Caller;
use crate::server::domain::phone;
use crate::server::domain::security_log::EventKind;
use crate::server::domain::sent_code::{mask_email, Channel, CodePurpose};
use crate::server::domain::throttle;
use crate::server::domain::tokens::{new_token, Purpose};
use crate::server::error::{Error, Result};
use crate::server::{store, AppState};
use serde_json::json;

/// A half-done sign-in lasts this long, and survives this many wrong codes.
pub const PENDING_SECS: i64 = 600;

pub const PENDING_MAX_FAILURES: i64 = 5;

/// After a correct password, for an account with MFA: a pending sign-in, no session;
/// its token, or `None` when the account's credentials are no longer at
/// `checked_version` (the password was changed while it was being checked).
pub async fn begin_second_step(
    state: &AppState,
    user_id: i64,
    checked_version: i64,
    next: &str,
    now: i64,
) -> Result<Option<String>, Error> {
    let token = new_token();
    let stored = store::mfa::insert_pending(
        &state.db,
        &state.keys.hash(Purpose::PendingSignIn, &token),
        user_id,
        next,
        now,
        checked_version,
    )
    .await?;
    Ok(stored.then_some(token))
}

pub struct SecondStepDone {
    pub session_token: String,
    pub signed_in: SignedIn,
    /// A device cookie to set (the browser had none).
    pub device_cookie: Option<String>,
}

/// Never prints the session token.
impl std::fmt::Debug for SecondStepDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondStepDone")
            .field("session_token", &"[redacted]")
            .field("signed_in", &self.signed_in)
            .finish()
    }
}

fn start_again() -> Error {
    Error::unauthorized("This sign-in has expired. Enter your email and password again.")
}

/// The second step with an authenticator code, or with a recovery code when one is
/// given.
pub async fn finish_second_step(
    state: &AppState,
    caller: &Caller,
    pending_token: Option<&str>,
    code: &str,
    recovery_code: &str,
    now: i64,
) -> Result<SecondStepDone, Error> {
    if recovery_code.trim().is_empty() {
        finish_second_step_with(state, caller, pending_token, Method::Totp, code, now).await
    } else {
        finish_second_step_with(
            state,
            caller,
            pending_token,
            Method::Recovery,
            recovery_code,
            now,
        )
        .await
    }
}

/// The half-done sign-in a pending token names, while it lasts.
async fn live_pending(
    state: &AppState,
    pending_token: Option<&str>,
    now: i64,
) -> Result<store::mfa::PendingRow, Error> {
    let token = pending_token.ok_or_else(start_again)?;
    let pending = store::mfa::pending(&state.db, &state.keys.hash(Purpose::PendingSignIn, token))
        .await?
        .ok_or_else(start_again)?;
    if now - pending.created_at >= PENDING_SECS {
        store::mfa::delete_pending(&state.db, pending.id).await?;
        return Err(start_again());
    }
    Ok(pending)
}

/// What the second step offers: the account's methods, the one used last first.
pub async fn sign_in_options(
    state: &AppState,
    pending_token: Option<&str>,
    now: i64,
) -> Result<SignInOptions, Error> {
    let pending = live_pending(state, pending_token, now).await?;
    let user = store::users::by_id(&state.db, pending.user_id)
        .await?
        .ok_or_else(start_again)?;
    let mut methods = factor::active_methods(state, user.id).await?;
    let email_held = email_code_held(user.reset_by_link_at.is_some(), &methods);
    if email_held {
        methods.retain(|m| *m != Method::Email);
    }
    let codes_left = store::mfa::status(&state.db, user.id)
        .await?
        .recovery_codes_left;
    if codes_left > 0 {
        methods.push(Method::Recovery);
    }
    let last = store::codes::last_second_factor(&state.db, user.id)
        .await?
        .and_then(|m| Method::parse(&m));
    let mut sent = Vec::new();
    for (method, channel) in [(Method::Email, Channel::Email), (Method::Sms, Channel::Sms)] {
        if !methods.contains(&method) {
            continue;
        }
        if let Some(code) = sent_for(state, &pending, user.id, &user.email, channel, now).await? {
            sent.push((method, code));
        }
    }
    Ok(SignInOptions {
        email_held,
        sent,
        ..SignInOptions::choose(methods, last, mask_email(&user.email))
    })
}

/// The sign-in code sent by `channel` for this half-done sign-in, while it is valid: a
/// code sent since the sign-in began (one sent for an earlier sign-in is bound to that
/// one and does not count).
async fn sent_for(
    state: &AppState,
    pending: &store::mfa::PendingRow,
    user_id: i64,
    email: &str,
    channel: Channel,
    now: i64,
) -> Result<Option<CodeSent>, Error> {
    let Some((sent_at, expires_at)) =
        store::codes::sent_and_expiry(&state.db, user_id, CodePurpose::SignIn, channel).await?
    else {
        return Ok(None);
    };
    if sent_at < pending.created_at || expires_at <= now {
        return Ok(None);
    }
    let to = match channel {
        Channel::Email => mask_email(email),
        Channel::Sms => match store::codes::method(&state.db, user_id, channel).await? {
            Some(on) => phone::mask(&on.destination.unwrap_or_default()),
            None => return Ok(None),
        },
    };
    Ok(Some(CodeSent {
        to,
        resend_in: state.config.mfa.code_rules.resend_wait(sent_at, now),
        valid_secs: (expires_at - now) as u64,
    }))
}

/// Sends a sign-in code by email (or SMS) for a half-done sign-in, when that method is
/// on; the same resend interval as everywhere.
pub async fn send_sign_in_code(
    state: &AppState,
    caller: &Caller,
    pending_token: Option<&str>,
    channel: Channel,
    now: i64,
) -> Result<CodeSent, Error> {
    let pending = live_pending(state, pending_token, now).await?;
    let user = store::users::by_id(&state.db, pending.user_id)
        .await?
        .ok_or_else(start_again)?;
    let Some(on) = store::codes::method(&state.db, user.id, channel).await? else {
        return Err(Error::invalid(
            "This method is not on for your account. Choose another one.",
        ));
    };
    if channel == Channel::Email {
        factor::email_code_counts(state, &user).await?;
    }
    let to = match channel {
        Channel::Email => Recipient {
            user_id: user.id,
            email: &user.email,
            shown_as: mask_email(&user.email),
            phone: None,
            bound_to: Some(Bound::Pending(pending.id)),
        },
        Channel::Sms => {
            let number = on.destination.unwrap_or_default();
            Recipient {
                user_id: user.id,
                email: &user.email,
                shown_as: phone::mask(&number),
                phone: Some(number),
                bound_to: Some(Bound::Pending(pending.id)),
            }
        }
    };
    send_code(state, caller, &to, CodePurpose::SignIn, channel, None, now).await
}

/// The second step: one code from the chosen method (the authenticator app, an email
/// or SMS code, or a recovery code). The half-done sign-in's limits (its lifetime, five
/// wrong codes) cover every method together.
pub async fn finish_second_step_with(
    state: &AppState,
    caller: &Caller,
    pending_token: Option<&str>,
    method: Method,
    code: &str,
    now: i64,
) -> Result<SecondStepDone, Error> {
    let pending = live_pending(state, pending_token, now).await?;
    // The attempt is counted before the code is looked at, so racing guesses cannot
    // share one count.
    let Some(attempt) =
        store::mfa::pending_attempt(&state.db, pending.id, PENDING_MAX_FAILURES).await?
    else {
        store::mfa::delete_pending(&state.db, pending.id).await?;
        return Err(start_again());
    };
    let user = store::users::by_id(&state.db, pending.user_id)
        .await?
        .ok_or_else(start_again)?;
    let factor = SecondFactor::of(method);
    let checked = factor::check(
        state,
        caller,
        user.id,
        &user.email,
        factor,
        For::SecondStep {
            pending: pending.id,
        },
        code,
        now,
    )
    .await
    .map(|_| factor.as_str());
    let method = match checked {
        Ok(m) => m,
        Err(e) => {
            if !matches!(e, Error::WrongSecret(_)) {
                // Throttled or failed before any code was judged: not a wrong code.
                store::mfa::pending_refund(&state.db, pending.id).await?;
            } else if attempt == PENDING_MAX_FAILURES {
                // The one request that used up this sign-in's last try tells the owner:
                // someone knows the password.
                log(
                    state,
                    caller,
                    Some(user.id),
                    EventKind::SecondFactorLimitReached,
                    now,
                    json!({"attempts": attempt}),
                )
                .await?;
                // At most one such mail a day: a guesser who starts sign-in after
                // sign-in must not flood the owner's inbox.
                let once_a_day = state
                    .keys
                    .hash(Purpose::Throttle, &format!("second-step-alert:{}", user.id));
                match take(state, &[(once_a_day, throttle::SECOND_STEP_ALERTS)], now).await {
                    Ok(()) => {
                        notify(
                            state,
                            caller,
                            &user.email,
                            "Someone has your password",
                            "someone signed in to your account with the right password, then entered a wrong code five times. If this was not you, change your password now",
                            now,
                        )
                        .await?
                    }
                    Err(Error::TooMany { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            log(
                state,
                caller,
                Some(user.id),
                EventKind::SignInFailed,
                now,
                json!({"reason": "second_factor"}),
            )
            .await?;
            return Err(e);
        }
    };
    // Ending the half-done sign-in, the new session, the method to offer first next
    // time and the log entry: one transaction.
    let mut tx = state.db.begin().await?;
    if !store::mfa::delete_pending(&mut *tx, pending.id).await? {
        // Another request finished this sign-in first.
        return Err(start_again());
    }
    let (session_token, session_id) =
        start_session(&mut *tx, state, user.id, caller, now, now).await?;
    store::codes::set_last_second_factor(&mut *tx, user.id, method).await?;
    if factor != SecondFactor::EmailCode {
        // A method other than the mailbox: email codes count again.
        store::users::clear_reset_by_link(&mut *tx, user.id).await?;
    }
    log_within(
        &mut tx,
        caller,
        Some(user.id),
        EventKind::SignInSucceeded,
        now,
        json!({"second_factor": method}),
    )
    .await?;
    tx.commit().await?;
    let device_cookie =
        crate::server::flows::notices::signed_in_now(state, caller, user.id, session_id, now).await;
    Ok(SecondStepDone {
        session_token,
        signed_in: SignedIn {
            redirect_to: pending.next,
        },
        device_cookie,
    })
}

/// The second step with a passkey: the options for the account's passkeys, for this
/// half-done sign-in only (the answer goes to [`finish_second_step_with`]).
pub async fn passkey_options(
    state: &AppState,
    caller: &Caller,
    pending_token: Option<&str>,
    now: i64,
) -> Result<String, Error> {
    let pending = live_pending(state, pending_token, now).await?;
    crate::server::auth::passkey::begin(
        state,
        caller,
        Some(pending.user_id),
        &crate::server::auth::passkey::bound_to_pending(pending.id),
        now,
    )
    .await
}
