//! The authenticator app: enabling (four steps), recovery codes, disabling, and the
//! second step of sign-in.
use super::codes::{active_methods, check_sent_code, send_code, Recipient};
use super::{internal, log, notify, rotate_session, Caller, SecretGuard};
use crate::model::account::SignedIn;
use crate::model::error::ApiError;
use crate::model::mfa::{
    CodeSent, Method, MfaStatus, RecoveryCode, RecoveryCodes, SignInOptions, TotpSetup,
};
use crate::server::domain::phone;
use crate::server::domain::sent_code::{mask_email, Channel, CodePurpose};
use crate::server::domain::tokens::{new_token, Purpose};
use crate::server::domain::{recovery, totp};
use crate::server::flows::accounts::{not_signed_in, start_session};
use crate::server::http::AuthSession;
use crate::server::store;
use crate::server::AppState;
use serde_json::json;

pub const INVALID_CODE: &str = "Invalid code";
/// A half-done sign-in lasts this long, and survives this many wrong codes.
pub const PENDING_SECS: i64 = 600;
pub const PENDING_MAX_FAILURES: i64 = 5;

pub(super) fn session(caller: &Caller) -> Result<&AuthSession, ApiError> {
    caller.session.as_ref().ok_or_else(not_signed_in)
}

fn secret_context(user_id: i64) -> String {
    format!("totp:{user_id}")
}

pub async fn status(state: &AppState, caller: &Caller) -> Result<MfaStatus, ApiError> {
    let s = session(caller)?;
    let row = store::mfa::status(&state.db, s.user_id)
        .await
        .map_err(internal)?;
    Ok(MfaStatus {
        totp_enabled_at: row.totp_enabled_at,
        recovery_codes_left: usize::try_from(row.recovery_codes_left).unwrap_or(0),
        email_verified: s.email_verified,
        email_code_enabled_at: row.email_enabled_at,
        email: s.email.clone(),
        sms_enabled_at: row.sms_enabled_at,
        sms_number: row.sms_number.as_deref().map(phone::mask),
        sms_available: state.sms.is_some(),
        sms_default_country: state.config.sms_default_country.clone(),
    })
}

/// Step 1 (identity, by password) and step 2 (the secret) of enabling. Nothing is
/// enabled until `confirm_totp` accepts a code.
/// Identity is the password, or an email code when Email Code is on (seed 003).
pub async fn start_totp(
    state: &AppState,
    caller: &Caller,
    password: &str,
    code: &str,
    now: i64,
) -> Result<TotpSetup, ApiError> {
    let s = session(caller)?;
    require_verified_email(s)?;
    let user = store::users::by_id(&state.db, s.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_signed_in)?;
    if store::mfa::totp(&state.db, user.id)
        .await
        .map_err(internal)?
        .is_some_and(|t| t.enabled_at.is_some())
    {
        return Err(already_enabled());
    }
    super::codes::confirm_identity(state, caller, Method::Totp, password, code, now).await?;
    let secret = totp::new_secret();
    let sealed = state.sealer.seal(&secret, &secret_context(user.id));
    if !store::mfa::put_pending_totp(&state.db, user.id, &sealed, now)
        .await
        .map_err(internal)?
    {
        return Err(already_enabled());
    }
    let uri = totp::otpauth_uri(&state.config.totp_issuer, &user.email, &secret);
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(internal)?;
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(TotpSetup {
        qr_svg: svg,
        secret: totp::grouped_base32(&secret),
    })
}

/// Checks an authenticator code for an account, throttled, each step once. A replay
/// is refused, logged and reported to the owner.
pub(super) async fn check_code(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    email: &str,
    code: &str,
    now: i64,
    allow_pending: bool,
) -> Result<(), ApiError> {
    let guard = SecretGuard::take_second_factor(state, "totp", user_id, caller, now).await?;
    let row = store::mfa::totp(&state.db, user_id)
        .await
        .map_err(internal)?;
    let Some(row) = row.filter(|r| allow_pending || r.enabled_at.is_some()) else {
        guard.not_judged(state).await?;
        return Err(ApiError::invalid("The authenticator app is not enabled."));
    };
    let secret = state
        .sealer
        .open(&row.secret_sealed, &secret_context(user_id))
        .ok_or_else(|| internal("authenticator secret does not open"))?;
    match totp::check(&secret, code, now, row.last_step) {
        totp::Check::Accepted(step)
            if store::mfa::use_step(&state.db, user_id, step)
                .await
                .map_err(internal)? =>
        {
            guard.succeeded(state).await?;
            Ok(())
        }
        totp::Check::Accepted(_) | totp::Check::Replayed => {
            log(
                state,
                caller,
                Some(user_id),
                "totp_code_replayed",
                now,
                json!({}),
            )
            .await?;
            notify(
                state,
                caller,
                email,
                "An authenticator code was used twice",
                "someone entered an authenticator code of your account that had already been used",
                now,
            )
            .await?;
            Err(ApiError::field("code", INVALID_CODE))
        }
        totp::Check::Invalid => {
            log(
                state,
                caller,
                Some(user_id),
                "totp_code_failed",
                now,
                json!({}),
            )
            .await?;
            Err(ApiError::field("code", INVALID_CODE))
        }
    }
}

fn new_codes(state: &AppState, user_id: i64) -> (Vec<String>, Vec<(Vec<u8>, Vec<u8>)>) {
    let plain = recovery::generate();
    let stored = plain
        .iter()
        .map(|c| {
            (
                state
                    .sealer
                    .seal(c.as_bytes(), &format!("recovery:{user_id}")),
                state
                    .keys
                    .hash(Purpose::RecoveryCode, &format!("{user_id}:{c}")),
            )
        })
        .collect();
    (plain, stored)
}

pub struct Enabled {
    pub codes: RecoveryCodes,
    pub session_token: String,
}

/// Step 3: a code from the app turns the method on; step 4 shows the recovery codes.
pub async fn confirm_totp(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<Enabled, ApiError> {
    let s = session(caller)?;
    require_verified_email(s)?;
    let waiting = store::mfa::totp(&state.db, s.user_id)
        .await
        .map_err(internal)?;
    match waiting {
        Some(row) if row.enabled_at.is_none() => {}
        Some(_) => return Err(already_enabled()),
        None => {
            return Err(ApiError::invalid(
                "Start again: choose Enable and enter your password.",
            ))
        }
    }
    check_code(state, caller, s.user_id, &s.email, code, now, true).await?;
    let (plain, stored) = new_codes(state, s.user_id);
    let mut tx = state.db.begin().await.map_err(internal)?;
    if !store::mfa::enable_totp(&mut tx, s.user_id, now)
        .await
        .map_err(internal)?
    {
        // A racing confirmation got there first.
        return Err(already_enabled());
    }
    store::mfa::replace_recovery_codes(&mut tx, s.user_id, &stored)
        .await
        .map_err(internal)?;
    let (token, others_ended) = rotate_session(&mut tx, state, caller, now).await?;
    super::log_within(
        &mut tx,
        caller,
        Some(s.user_id),
        "mfa_enabled",
        now,
        json!({"method": "totp", "other_sessions_ended": others_ended}),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    notify(
        state,
        caller,
        &s.email,
        "Authenticator app enabled",
        "an authenticator app was added to your account for two-step sign-in",
        now,
    )
    .await?;
    let codes = plain
        .into_iter()
        .map(|code| RecoveryCode { code, used: false })
        .collect();
    Ok(Enabled {
        codes: RecoveryCodes {
            account: s.email.clone(),
            at: now,
            codes,
        },
        session_token: token,
    })
}

async fn read_codes(
    state: &AppState,
    user_id: i64,
    email: &str,
    now: i64,
) -> Result<RecoveryCodes, ApiError> {
    let rows = store::mfa::recovery_codes(&state.db, user_id)
        .await
        .map_err(internal)?;
    let mut codes = Vec::with_capacity(rows.len());
    for row in rows {
        let plain = state
            .sealer
            .open(&row.code_sealed, &format!("recovery:{user_id}"))
            .ok_or_else(|| internal("recovery code does not open"))?;
        codes.push(RecoveryCode {
            code: String::from_utf8_lossy(&plain).into_owned(),
            used: row.used_at.is_some(),
        });
    }
    Ok(RecoveryCodes {
        account: email.to_string(),
        at: now,
        codes,
    })
}

/// "View Recovery Codes": a fresh authenticator code first.
pub async fn view_codes(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<RecoveryCodes, ApiError> {
    let s = session(caller)?;
    check_code(state, caller, s.user_id, &s.email, code, now, false).await?;
    store::mfa::confirm_session(&state.db, s.session_id, now)
        .await
        .map_err(internal)?;
    log(
        state,
        caller,
        Some(s.user_id),
        "recovery_codes_viewed",
        now,
        json!({}),
    )
    .await?;
    read_codes(state, s.user_id, &s.email, now).await
}

/// "Regenerate": all ten replaced at once, shortly after a fresh code was given.
pub async fn regenerate_codes(
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<RecoveryCodes, ApiError> {
    let s = session(caller)?;
    let confirmed = store::mfa::session_confirmed_at(&state.db, s.session_id)
        .await
        .map_err(internal)?;
    if !confirmed.is_some_and(|at| now - at <= state.config.mfa_confirmed_secs) {
        return Err(ApiError::Forbidden(
            "Enter a current authenticator code again to regenerate your recovery codes.".into(),
        ));
    }
    let (plain, stored) = new_codes(state, s.user_id);
    let mut tx = state.db.begin().await.map_err(internal)?;
    store::mfa::replace_recovery_codes(&mut tx, s.user_id, &stored)
        .await
        .map_err(internal)?;
    super::log_within(
        &mut tx,
        caller,
        Some(s.user_id),
        "recovery_codes_regenerated",
        now,
        json!({}),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    notify(
        state,
        caller,
        &s.email,
        "New recovery codes",
        "new recovery codes were generated for your account and the old ones no longer work",
        now,
    )
    .await?;
    Ok(RecoveryCodes {
        account: s.email.clone(),
        at: now,
        codes: plain
            .into_iter()
            .map(|code| RecoveryCode { code, used: false })
            .collect(),
    })
}

/// "Disable": a current code turns the method off; the recovery codes, which belong to
/// the app, go with it.
pub async fn disable_totp(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<String, ApiError> {
    let s = session(caller)?;
    check_code(state, caller, s.user_id, &s.email, code, now, false).await?;
    let mut tx = state.db.begin().await.map_err(internal)?;
    store::mfa::delete_totp(&mut tx, s.user_id)
        .await
        .map_err(internal)?;
    store::mfa::delete_recovery_codes(&mut tx, s.user_id)
        .await
        .map_err(internal)?;
    let (token, others_ended) = rotate_session(&mut tx, state, caller, now).await?;
    super::log_within(
        &mut tx,
        caller,
        Some(s.user_id),
        "mfa_disabled",
        now,
        json!({"method": "totp", "other_sessions_ended": others_ended}),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    let email_on = store::codes::method(&state.db, s.user_id, Channel::Email)
        .await
        .map_err(internal)?
        .is_some();
    let what = if email_on {
        "the authenticator app was removed from your account: signing in still asks for a code sent to your email"
    } else {
        "the authenticator app was removed from your account: signing in now needs only your password"
    };
    notify(
        state,
        caller,
        &s.email,
        "Authenticator app disabled",
        what,
        now,
    )
    .await?;
    Ok(token)
}

/// After a correct password, for an account with MFA: a pending sign-in, no session.
pub async fn begin_second_step(
    state: &AppState,
    user_id: i64,
    next: &str,
    now: i64,
) -> Result<String, ApiError> {
    let token = new_token();
    store::mfa::insert_pending(
        &state.db,
        &state.keys.hash(Purpose::PendingSignIn, &token),
        user_id,
        next,
        now,
    )
    .await
    .map_err(internal)?;
    Ok(token)
}

pub struct SecondStepDone {
    pub session_token: String,
    pub signed_in: SignedIn,
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

fn already_enabled() -> ApiError {
    ApiError::invalid("The authenticator app is already enabled.")
}

/// Multi-factor methods need a verified address: otherwise someone who signs up with
/// another person's address could add an authenticator before the owner ever claims
/// the account, and keep it after the owner resets the password.
pub(super) fn require_verified_email(s: &crate::server::http::AuthSession) -> Result<(), ApiError> {
    if s.email_verified {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Verify your email address first: follow the link we sent you, or send a new one from the banner at the top of this page.".into(),
        ))
    }
}

fn start_again() -> ApiError {
    ApiError::Unauthorized("This sign-in has expired. Enter your email and password again.".into())
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
) -> Result<SecondStepDone, ApiError> {
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
) -> Result<store::mfa::PendingRow, ApiError> {
    let token = pending_token.ok_or_else(start_again)?;
    let pending = store::mfa::pending(&state.db, &state.keys.hash(Purpose::PendingSignIn, token))
        .await
        .map_err(internal)?
        .ok_or_else(start_again)?;
    if now - pending.created_at >= PENDING_SECS {
        store::mfa::delete_pending(&state.db, pending.id)
            .await
            .map_err(internal)?;
        return Err(start_again());
    }
    Ok(pending)
}

/// What the second step offers: the account's methods, the one used last first.
pub async fn sign_in_options(
    state: &AppState,
    pending_token: Option<&str>,
    now: i64,
) -> Result<SignInOptions, ApiError> {
    let pending = live_pending(state, pending_token, now).await?;
    let user = store::users::by_id(&state.db, pending.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(start_again)?;
    let mut methods = active_methods(state, user.id).await?;
    let codes_left = store::mfa::status(&state.db, user.id)
        .await
        .map_err(internal)?
        .recovery_codes_left;
    if codes_left > 0 {
        methods.push(Method::Recovery);
    }
    let last = store::codes::last_second_factor(&state.db, user.id)
        .await
        .map_err(internal)?
        .and_then(|m| Method::parse(&m));
    Ok(SignInOptions::choose(
        methods,
        last,
        mask_email(&user.email),
    ))
}

/// Sends a sign-in code by email (or SMS) for a half-done sign-in, when that method is
/// on; the same resend interval as everywhere.
pub async fn send_sign_in_code(
    state: &AppState,
    caller: &Caller,
    pending_token: Option<&str>,
    channel: Channel,
    now: i64,
) -> Result<CodeSent, ApiError> {
    let pending = live_pending(state, pending_token, now).await?;
    let user = store::users::by_id(&state.db, pending.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(start_again)?;
    let Some(on) = store::codes::method(&state.db, user.id, channel)
        .await
        .map_err(internal)?
    else {
        return Err(ApiError::invalid(
            "This method is not on for your account. Choose another one.",
        ));
    };
    let to = match channel {
        Channel::Email => Recipient {
            user_id: user.id,
            email: &user.email,
            shown_as: mask_email(&user.email),
            phone: None,
        },
        Channel::Sms => {
            let number = on.destination.unwrap_or_default();
            Recipient {
                user_id: user.id,
                email: &user.email,
                shown_as: phone::mask(&number),
                phone: Some(number),
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
) -> Result<SecondStepDone, ApiError> {
    let pending = live_pending(state, pending_token, now).await?;
    // The attempt is counted before the code is looked at, so racing guesses cannot
    // share one count.
    let Some(attempt) = store::mfa::pending_attempt(&state.db, pending.id, PENDING_MAX_FAILURES)
        .await
        .map_err(internal)?
    else {
        store::mfa::delete_pending(&state.db, pending.id)
            .await
            .map_err(internal)?;
        return Err(start_again());
    };
    let user = store::users::by_id(&state.db, pending.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(start_again)?;
    let method = match method {
        Method::Totp => check_code(state, caller, user.id, &user.email, code, now, false)
            .await
            .map(|_| "totp"),
        Method::Email | Method::Sms => {
            let channel = if method == Method::Email {
                Channel::Email
            } else {
                Channel::Sms
            };
            check_sent_code(
                state,
                caller,
                user.id,
                CodePurpose::SignIn,
                channel,
                code,
                now,
            )
            .await
            .map(|_| method.as_str())
        }
        Method::Recovery => use_recovery_code(state, caller, user.id, code, now).await,
    };
    let method = match method {
        Ok(m) => m,
        Err(e) => {
            if !matches!(e, ApiError::Invalid { .. }) {
                // Throttled or failed before any code was judged: not a wrong code.
                store::mfa::pending_refund(&state.db, pending.id)
                    .await
                    .map_err(internal)?;
            } else if attempt == PENDING_MAX_FAILURES {
                // The one request that used up this sign-in's last try tells the owner:
                // someone knows the password.
                log(
                    state,
                    caller,
                    Some(user.id),
                    "second_factor_limit_reached",
                    now,
                    json!({"attempts": attempt}),
                )
                .await?;
                notify(
                    state,
                    caller,
                    &user.email,
                    "Someone has your password",
                    "someone signed in to your account with the right password, then entered a wrong code five times. If this was not you, change your password now",
                    now,
                )
                .await?;
            }
            log(
                state,
                caller,
                Some(user.id),
                "sign_in_failed",
                now,
                json!({"reason": "second_factor"}),
            )
            .await?;
            return Err(e);
        }
    };
    // Ending the half-done sign-in, the new session, the method to offer first next
    // time and the log entry: one transaction.
    let mut tx = state.db.begin().await.map_err(internal)?;
    if !store::mfa::delete_pending(&mut *tx, pending.id)
        .await
        .map_err(internal)?
    {
        // Another request finished this sign-in first.
        return Err(start_again());
    }
    let session_token = start_session(&mut *tx, state, user.id, caller, now, now).await?;
    store::codes::set_last_second_factor(&mut *tx, user.id, method)
        .await
        .map_err(internal)?;
    super::log_within(
        &mut tx,
        caller,
        Some(user.id),
        "sign_in_succeeded",
        now,
        json!({"second_factor": method}),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    Ok(SecondStepDone {
        session_token,
        signed_in: SignedIn {
            redirect_to: pending.next,
        },
    })
}

/// One recovery code for the second step: throttled, and used up by the one request
/// that marks it used.
async fn use_recovery_code(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    recovery_code: &str,
    now: i64,
) -> Result<&'static str, ApiError> {
    let guard =
        SecretGuard::take_second_factor(state, "recovery-code", user_id, caller, now).await?;
    let mut used = false;
    if let Some(c) = recovery::normalize(recovery_code) {
        // Under the current secret, or a previous one after a rotation.
        for hash in state
            .keys
            .hashes(Purpose::RecoveryCode, &format!("{user_id}:{c}"))
        {
            if store::mfa::use_recovery_code(&state.db, user_id, &hash, now)
                .await
                .map_err(internal)?
            {
                used = true;
                break;
            }
        }
    }
    if used {
        guard.succeeded(state).await?;
        Ok("recovery_code")
    } else {
        Err(ApiError::field("recovery_code", INVALID_CODE))
    }
}
