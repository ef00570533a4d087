//! Second factors that send a code: Email Code and SMS Code. Sending a code, and
//! turning a method on and off. (Checking a code is `auth::factor`'s.)
use crate::model::mfa::{CodeSent, IdentityProof, Method};
use crate::server::audit::{deliver_or_hold, log, log_within};
use crate::server::auth::change::{Change, Notice, Sessions};
use crate::server::auth::factor::{self, code_hash, Bound, For, SecondFactor};
use crate::server::auth::guard::take;
use crate::server::auth::identity::confirm_identity;
use crate::server::auth::{not_signed_in, require_verified_email, Caller};
use crate::server::delivery::templates;
use crate::server::domain::phone;
use crate::server::domain::security_log::EventKind;
use crate::server::domain::sent_code::{self, Channel, CodePurpose};
use crate::server::domain::throttle;
use crate::server::domain::tokens::Purpose;
use crate::server::error::{internal, Error, Result};
use crate::server::store;
use crate::server::AppState;
use serde_json::json;

/// Where a send goes and how the answer names it.
pub struct Recipient<'a> {
    pub user_id: i64,
    /// The account's address (email codes go there; notices too).
    pub email: &'a str,
    /// How the answer shows the destination: the address itself to its signed-in
    /// owner, masked during sign-in; a phone number always masked.
    pub shown_as: String,
    /// The number (E.164) SMS codes go to.
    pub phone: Option<String>,
    /// The pending sign-in a sign-in code is sent for, or the method an identity code
    /// is sent for adding (it serves no other).
    pub bound_to: Option<Bound>,
}

/// Sends a new code for `purpose` over `channel`, unless the last one for it went out
/// less than the resend interval ago (the answer then says how long is left). Sends
/// are also limited per account and per address. A resend replaces the code before.
/// `expires_by`, when given, caps the new code's lifetime (a step that must finish
/// within the lifetime of the identity check that started it).
pub async fn send_code(
    state: &AppState,
    caller: &Caller,
    to: &Recipient<'_>,
    purpose: CodePurpose,
    channel: Channel,
    expires_by: Option<i64>,
    now: i64,
) -> Result<CodeSent, Error> {
    let rules = state.config.mfa.code_rules;
    let expires_at = expires_by.map_or(rules.expires_at(now), |cap| cap.min(rules.expires_at(now)));
    if let Some(sent_at) = store::codes::sent_at(&state.db, to.user_id, purpose, channel).await? {
        let wait = rules.resend_wait(sent_at, now);
        if wait > 0 {
            log(
                state,
                caller,
                Some(to.user_id),
                EventKind::MfaCodeSendRefused,
                now,
                json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": "too_soon"}),
            )
            .await?;
            return Err(Error::too_many(wait));
        }
    }
    let keys = [
        (
            state.keys.hash(
                Purpose::Throttle,
                &format!("code-send:account:{}", to.user_id),
            ),
            throttle::CODE_SENDS_ACCOUNT,
        ),
        (
            state.keys.hash(
                Purpose::Throttle,
                &format!("code-send:ip:{}", caller.ip_group()),
            ),
            throttle::CODE_SENDS_IP,
        ),
    ];
    let mut keys = keys.to_vec();
    if let Some(number) = &to.phone {
        // Texts to one number, whichever account asks: no SMS pumping through us.
        keys.push((
            state
                .keys
                .hash(Purpose::Throttle, &format!("code-send:to:{number}")),
            throttle::CODE_SENDS_ACCOUNT,
        ));
    }
    if let Err(refused) = take(state, &keys, now).await {
        log(
            state,
            caller,
            Some(to.user_id),
            EventKind::MfaCodeSendRefused,
            now,
            json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": "throttled"}),
        )
        .await?;
        return Err(refused);
    }
    if channel == Channel::Sms {
        if let Err(refused) = within_sms_budget(state, now).await {
            // This send counts against nobody: it was never made.
            for (key, _) in &keys {
                store::throttles::refund(&state.db, key).await?;
            }
            log(
                state,
                caller,
                Some(to.user_id),
                EventKind::MfaCodeSendRefused,
                now,
                json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": "sms_budget"}),
            )
            .await?;
            return Err(refused);
        }
    }
    let code = sent_code::generate();
    let hash = code_hash(state, to.user_id, purpose, channel, to.bound_to, &code);
    let stored = store::codes::put(
        &state.db,
        to.user_id,
        purpose,
        channel,
        &hash,
        to.phone.as_deref(),
        now,
        expires_at,
        now - rules.resend_secs,
    )
    .await?;
    if let Err(sent_at) = stored {
        // A racing send got there first: this one sends nothing and counts nothing.
        for (key, _) in &keys {
            store::throttles::refund(&state.db, key).await?;
        }
        return Err(Error::TooMany {
            retry_after: rules.resend_wait(sent_at, now).max(1),
        });
    }
    match channel {
        Channel::Email => {
            let minutes = (rules.ttl_secs + 59) / 60;
            let mail = templates::one_time_code(
                to.email,
                &code,
                purpose.reason(channel),
                minutes,
                &state.config.link("/forgot-password"),
            );
            if let Some(wait) = deliver_or_hold(state, mail, now).await? {
                // The address got too much mail this hour: no code went out, so none
                // is kept, and the answer says when to try again.
                store::codes::forget(&state.db, to.user_id, purpose, channel).await?;
                log(
                    state,
                    caller,
                    Some(to.user_id),
                    EventKind::MfaCodeSendRefused,
                    now,
                    json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": "mail_limit"}),
                )
                .await?;
                return Err(Error::too_many(wait));
            }
        }
        Channel::Sms => {
            let minutes = (rules.ttl_secs + 59) / 60;
            let body = format!(
                "Latchkey: your code {} is {code}. It expires in {minutes} min. Never share it.",
                purpose.reason(channel)
            );
            let sent = match (&state.sms, &to.phone) {
                (Some(sender), Some(number)) => sender.send(number, &body).await.map_err(|e| e.0),
                _ => Err("SMS codes are not offered".to_string()),
            };
            if let Err(why) = sent {
                // No code is kept as sent, in one transaction with the log entry. The
                // send still counts against the account, address and number: a
                // provider that refuses (or times out after delivering) must not open
                // a way around the limits.
                let mut tx = state.db.begin().await?;
                store::codes::forget(&mut *tx, to.user_id, purpose, channel).await?;
                log_within(
                    &mut tx,
                    caller,
                    Some(to.user_id),
                    EventKind::SmsSendFailed,
                    now,
                    json!({"purpose": purpose.as_str(), "error": why}),
                )
                .await?;
                tx.commit().await?;
                tracing::warn!(purpose = purpose.as_str(), error = %why, "could not send an SMS code");
                return Err(Error::unavailable("We could not send the text message. Check the number, or try again in a few minutes."));
            }
        }
    }
    log(
        state,
        caller,
        Some(to.user_id),
        EventKind::MfaCodeSent,
        now,
        json!({"purpose": purpose.as_str(), "channel": channel.as_str()}),
    )
    .await?;
    Ok(CodeSent {
        to: to.shown_as.clone(),
        resend_in: rules.resend_secs.max(0) as u64,
        valid_secs: (expires_at - now).max(0) as u64,
    })
}

fn own_address(caller: &Caller) -> Result<Recipient<'_>, Error> {
    let s = caller.signed_in()?;
    Ok(Recipient {
        user_id: s.user_id,
        email: &s.email,
        shown_as: s.email.clone(),
        phone: None,
        bound_to: None,
    })
}

/// The owner's phone (E.164) as a recipient of SMS codes.
fn own_phone(caller: &Caller, number: String) -> Result<Recipient<'_>, Error> {
    let s = caller.signed_in()?;
    Ok(Recipient {
        user_id: s.user_id,
        email: &s.email,
        shown_as: phone::mask(&number),
        phone: Some(number),
        bound_to: None,
    })
}

/// Counts one text message against the whole server's hourly and daily budget
/// (settings `sms.max_per_hour`, `sms.max_per_day`), or refuses it with "try again
/// later" (503): a flood of sign-ups texting numbers an attacker is paid for costs
/// the operator at most the budget. The server log says so at most every ten minutes.
async fn within_sms_budget(state: &AppState, now: i64) -> Result<()> {
    static LAST_SAID: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let cfg = &state.config;
    let keys = [
        (
            state.keys.hash(Purpose::Throttle, "sms-budget:hour"),
            throttle::sms_budget(cfg.sms.max_per_hour, 3600),
        ),
        (
            state.keys.hash(Purpose::Throttle, "sms-budget:day"),
            throttle::sms_budget(cfg.sms.max_per_day, 24 * 3600),
        ),
    ];
    match take(state, &keys, now).await {
        Ok(()) => Ok(()),
        Err(Error::TooMany { .. }) => {
            let last = LAST_SAID.load(std::sync::atomic::Ordering::Relaxed);
            if now - last >= 600
                && LAST_SAID
                    .compare_exchange(
                        last,
                        now,
                        std::sync::atomic::Ordering::Relaxed,
                        std::sync::atomic::Ordering::Relaxed,
                    )
                    .is_ok()
            {
                tracing::error!(
                    max_per_hour = cfg.sms.max_per_hour,
                    max_per_day = cfg.sms.max_per_day,
                    "SMS budget reached: text messages are refused until it frees up (settings sms.max_per_hour, sms.max_per_day)"
                );
            }
            Err(Error::unavailable(
                "Text messages cannot be sent right now. Try again later, or use another method.",
            ))
        }
        Err(e) => Err(e),
    }
}

/// Refuses a second start of the same step within the resend interval, before any
/// identity check, so that no password try or app code is spent on it.
async fn not_too_soon(
    state: &AppState,
    user_id: i64,
    channel: Channel,
    now: i64,
) -> Result<(), Error> {
    if let Some(sent_at) =
        store::codes::sent_at(&state.db, user_id, CodePurpose::Enable, channel).await?
    {
        let wait = state.config.mfa.code_rules.resend_wait(sent_at, now);
        if wait > 0 {
            return Err(Error::too_many(wait));
        }
    }
    Ok(())
}

/// "Enable" on SMS Code, step 1: the identity check and the phone number (E.164, the
/// country as a hint); the first code goes to that number. Nothing is turned on until
/// the code comes back.
pub async fn start_sms_code(
    state: &AppState,
    caller: &Caller,
    password: &str,
    code: &str,
    number: &str,
    country: &str,
    now: i64,
) -> Result<CodeSent, Error> {
    let s = caller.signed_in()?;
    require_verified_email(s)?;
    if state.sms.is_none() {
        return Err(Error::invalid("SMS codes are not offered here."));
    }
    if store::codes::method(&state.db, s.user_id, Channel::Sms)
        .await?
        .is_some()
    {
        return Err(Error::invalid("SMS codes are already on."));
    }
    let country = if country.trim().is_empty() {
        state.config.sms.default_country.as_str()
    } else {
        country
    };
    let number = phone::normalize(number, country, &state.config.sms.countries)
        .map_err(|m| Error::field("phone", m))?;
    not_too_soon(state, s.user_id, Channel::Sms, now).await?;
    confirm_identity(state, caller, Method::Sms, password, code, now).await?;
    send_code(
        state,
        caller,
        &own_phone(caller, number)?,
        CodePurpose::Enable,
        Channel::Sms,
        None,
        now,
    )
    .await
}

/// "Enable" on Email Code, step 1: the identity check, then a code to the address.
pub async fn start_email_code(
    state: &AppState,
    caller: &Caller,
    password: &str,
    code: &str,
    now: i64,
) -> Result<CodeSent, Error> {
    let s = caller.signed_in()?;
    require_verified_email(s)?;
    if store::codes::method(&state.db, s.user_id, Channel::Email)
        .await?
        .is_some()
    {
        return Err(Error::invalid("Email codes are already on."));
    }
    // A code for this step went out moments ago (the dialog was opened again).
    not_too_soon(state, s.user_id, Channel::Email, now).await?;
    confirm_identity(state, caller, Method::Email, password, code, now).await?;
    send_code(
        state,
        caller,
        &own_address(caller)?,
        CodePurpose::Enable,
        Channel::Email,
        None,
        now,
    )
    .await
}

/// The first code (or another) of the identity check by email that adding `adding` asks
/// for while Email Code is on (see `IdentityProof::for_adding`). The code vouches for
/// adding that method only.
pub async fn request_identity_code(
    state: &AppState,
    caller: &Caller,
    adding: Method,
    now: i64,
) -> Result<CodeSent, Error> {
    let s = caller.signed_in()?;
    let active = factor::active_methods(state, s.user_id).await?;
    if IdentityProof::for_adding(adding, &active) != IdentityProof::EmailCode {
        // Proving identity by SMS is not offered: adding a method with SMS on asks for
        // the password.
        return Err(Error::invalid("Email codes are not on for this account."));
    }
    let user = store::users::by_id(&state.db, s.user_id)
        .await?
        .ok_or_else(not_signed_in)?;
    factor::email_code_counts(state, &user).await?;
    let mut to = own_address(caller)?;
    to.bound_to = Some(Bound::Adding(adding));
    send_code(
        state,
        caller,
        &to,
        CodePurpose::Identity,
        Channel::Email,
        None,
        now,
    )
    .await
}

/// "Request Code" of "View Recovery Codes" on an account whose strongest method sends
/// codes (see `model::mfa::codes_proof`): a code by email or SMS that vouches for
/// showing the recovery codes only.
pub async fn request_codes_code(
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<CodeSent, Error> {
    let s = caller.signed_in()?;
    let bound = Some(Bound::Adding(Method::Recovery));
    let (to, channel) = match super::mfa::codes_method(state, s.user_id).await? {
        Method::Email => {
            let user = store::users::by_id(&state.db, s.user_id)
                .await?
                .ok_or_else(not_signed_in)?;
            factor::email_code_counts(state, &user).await?;
            let mut to = own_address(caller)?;
            to.bound_to = bound;
            (to, Channel::Email)
        }
        Method::Sms => {
            let number = store::codes::method(&state.db, s.user_id, Channel::Sms)
                .await?
                .and_then(|m| m.destination)
                .ok_or_else(|| internal("SMS code without a number"))?;
            let mut to = own_phone(caller, number)?;
            to.bound_to = bound;
            (to, Channel::Sms)
        }
        Method::Totp | Method::Recovery | Method::Passkey => {
            return Err(Error::invalid(
                "Confirm with your authenticator app or passkey: no code is sent for this.",
            ))
        }
    };
    send_code(
        state,
        caller,
        &to,
        CodePurpose::Identity,
        channel,
        None,
        now,
    )
    .await
}

/// "Request Code" for the signed-in owner: another code for a step under way (turning
/// a method on once the identity check passed, or off). An identity check's code is
/// [`request_identity_code`]'s.
pub async fn request_code(
    state: &AppState,
    caller: &Caller,
    purpose: CodePurpose,
    channel: Channel,
    now: i64,
) -> Result<CodeSent, Error> {
    let s = caller.signed_in()?;
    let method = store::codes::method(&state.db, s.user_id, channel).await?;
    // Turning on: only once the identity check sent the first code, while it is
    // valid, and never past it: resends do not keep one identity check alive.
    let step_ends = match purpose {
        CodePurpose::Enable => store::codes::expires_at(&state.db, s.user_id, purpose, channel)
            .await?
            .filter(|at| now < *at),
        _ => None,
    };
    let allowed = match purpose {
        CodePurpose::Enable => method.is_none() && step_ends.is_some(),
        CodePurpose::Disable => method.is_some(),
        CodePurpose::Identity | CodePurpose::SignIn => false,
    };
    if !allowed {
        return Err(Error::invalid(match (purpose, channel) {
            (CodePurpose::Enable, _) => "Start again: choose Enable and confirm it is you.",
            (_, Channel::Email) => "Email codes are not on for this account.",
            (_, Channel::Sms) => "SMS codes are not on for this account.",
        }));
    }
    let to = match channel {
        Channel::Email => own_address(caller)?,
        Channel::Sms => {
            // The number being verified, or the one that is on.
            let number = match purpose {
                CodePurpose::Enable => {
                    store::codes::destination(&state.db, s.user_id, purpose, channel).await?
                }
                _ => method.and_then(|m| m.destination),
            };
            own_phone(
                caller,
                number.ok_or_else(|| internal("SMS code without a number"))?,
            )?
        }
    };
    send_code(state, caller, &to, purpose, channel, step_ends, now).await
}

fn name_of(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "Email codes",
        Channel::Sms => "SMS codes",
    }
}

/// "Enable" on Email Code, step 2: the code from the email turns the method on.
pub async fn confirm_email_code(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<super::mfa::Enabled, Error> {
    confirm_code_method(state, caller, Channel::Email, code, now).await
}

/// "Enable" on SMS Code, step 2: the code from the text message turns the method on,
/// for the number it went to.
pub async fn confirm_sms_code(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<super::mfa::Enabled, Error> {
    confirm_code_method(state, caller, Channel::Sms, code, now).await
}

/// Turns a code method on with the code sent for it. The session id changes and other
/// sessions end, as at every change of factors; all in one transaction.
async fn confirm_code_method(
    state: &AppState,
    caller: &Caller,
    channel: Channel,
    code: &str,
    now: i64,
) -> Result<super::mfa::Enabled, Error> {
    let s = caller.signed_in()?;
    require_verified_email(s)?;
    let factor = if channel == Channel::Sms {
        SecondFactor::SmsCode
    } else {
        SecondFactor::EmailCode
    };
    let destination = factor::check(
        state,
        caller,
        s.user_id,
        &s.email,
        factor,
        For::Enable,
        code,
        now,
    )
    .await?
    .destination;
    if channel == Channel::Sms && destination.is_none() {
        return Err(Error::invalid(
            "Start again: choose Enable and confirm it is you.",
        ));
    }
    let mut change = Change::of_caller(state, caller, now).await?;
    if !store::codes::enable(change.tx(), s.user_id, channel, destination.as_deref(), now).await? {
        return Err(Error::invalid(format!(
            "{} are already on.",
            name_of(channel)
        )));
    }
    let codes =
        super::mfa::issue_codes_if_due(state, change.tx(), s.user_id, &s.email, now).await?;
    let what = match &destination {
        Some(number) => format!(
            "two-step sign-in with codes sent by text message to {} was turned on",
            phone::mask(number)
        ),
        None => "two-step sign-in with codes sent to this address was turned on".into(),
    };
    let done = change
        .commit(
            Sessions::ContinueCaller,
            EventKind::MfaEnabled,
            json!({"method": channel.as_str(), "recovery_codes_issued": codes.is_some()}),
            Notice::new(format!("{} turned on", name_of(channel)), what),
        )
        .await?;
    Ok(super::mfa::Enabled {
        codes,
        session_token: done.session_token.ok_or_else(not_signed_in)?,
    })
}

/// "Disable" on Email Code: the code sent as the dialog opened turns the method off.
pub async fn disable_email_code(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<String, Error> {
    disable_code_method(state, caller, Channel::Email, code, now).await
}

/// "Disable" on SMS Code: the code texted as the dialog opened turns the method off.
pub async fn disable_sms_code(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<String, Error> {
    disable_code_method(state, caller, Channel::Sms, code, now).await
}

async fn disable_code_method(
    state: &AppState,
    caller: &Caller,
    channel: Channel,
    code: &str,
    now: i64,
) -> Result<String, Error> {
    let s = caller.signed_in()?;
    let factor = if channel == Channel::Sms {
        SecondFactor::SmsCode
    } else {
        SecondFactor::EmailCode
    };
    factor::check(
        state,
        caller,
        s.user_id,
        &s.email,
        factor,
        For::Disable,
        code,
        now,
    )
    .await?;
    let mut change = Change::of_caller(state, caller, now).await?;
    if !store::codes::disable(change.tx(), s.user_id, channel).await? {
        return Err(Error::invalid(format!(
            "{} are already off.",
            name_of(channel)
        )));
    }
    store::codes::forget_channel(change.tx(), s.user_id, channel).await?;
    let codes_gone = store::mfa::delete_recovery_codes_if_no_method(change.tx(), s.user_id).await?;
    let what = match channel {
        Channel::Email => "two-step sign-in with codes sent to this address was turned off",
        Channel::Sms => "two-step sign-in with codes sent by text message was turned off",
    };
    let done = change
        .commit(
            Sessions::ContinueCaller,
            EventKind::MfaDisabled,
            json!({"method": channel.as_str(), "recovery_codes_removed": codes_gone}),
            Notice::telling_sign_in(format!("{} turned off", name_of(channel)), what),
        )
        .await?;
    done.session_token.ok_or_else(not_signed_in)
}
