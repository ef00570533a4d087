//! Second factors that send a code: Email Code and SMS Code. Sending a code, checking
//! one, turning a method on and off, and the identity check that comes before adding
//! any method.
use super::mfa::{check_code, require_verified_email, session};
use super::{
    confirm_own_password, internal, log, notify, rotate_session, take, Caller, PasswordProof,
    SecretGuard,
};
use crate::model::error::ApiError;
use crate::model::mfa::{CodeSent, IdentityProof, Method};
use crate::server::delivery::templates;
use crate::server::domain::phone;
use crate::server::domain::sent_code::{self, Channel, CodePurpose, Verdict};
use crate::server::domain::throttle;
use crate::server::domain::tokens::Purpose;
use crate::server::store;
use crate::server::AppState;
use serde_json::json;

pub const INVALID_CODE: &str = "Invalid code";
/// Step 1 of enabling a method confirms identity with the password when no other
/// method is on.
const IDENTITY_PASSWORD: PasswordProof = PasswordProof {
    scope: "mfa-password",
    field: "password",
    wrong: "The password is not correct.",
    failed_kind: "mfa_identity_failed",
};

fn code_hash(
    state: &AppState,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
    code: &str,
) -> Vec<u8> {
    state.keys.hash(
        Purpose::SentCode,
        &format!("{user_id}:{}:{}:{code}", purpose.as_str(), channel.as_str()),
    )
}

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
) -> Result<CodeSent, ApiError> {
    let rules = state.config.code_rules;
    let expires_at = expires_by.map_or(rules.expires_at(now), |cap| cap.min(rules.expires_at(now)));
    if let Some(sent_at) = store::codes::sent_at(&state.db, to.user_id, purpose, channel)
        .await
        .map_err(internal)?
    {
        let wait = rules.resend_wait(sent_at, now);
        if wait > 0 {
            log(
                state,
                caller,
                Some(to.user_id),
                "mfa_code_send_refused",
                now,
                json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": "too_soon"}),
            )
            .await?;
            return Err(ApiError::TooManyRequests { retry_after: wait });
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
            "mfa_code_send_refused",
            now,
            json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": "throttled"}),
        )
        .await?;
        return Err(refused);
    }
    let code = sent_code::generate();
    let hash = code_hash(state, to.user_id, purpose, channel, &code);
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
    .await
    .map_err(internal)?;
    if let Err(sent_at) = stored {
        // A racing send got there first: this one sends nothing and counts nothing.
        for (key, _) in &keys {
            store::throttles::refund(&state.db, key)
                .await
                .map_err(internal)?;
        }
        return Err(ApiError::TooManyRequests {
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
            if let Some(wait) = super::deliver_or_hold(state, mail, now).await? {
                // The address got too much mail this hour: no code went out, so none
                // is kept, and the answer says when to try again.
                store::codes::forget(&state.db, to.user_id, purpose, channel)
                    .await
                    .map_err(internal)?;
                log(
                    state,
                    caller,
                    Some(to.user_id),
                    "mfa_code_send_refused",
                    now,
                    json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": "mail_limit"}),
                )
                .await?;
                return Err(ApiError::TooManyRequests { retry_after: wait });
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
                let mut tx = state.db.begin().await.map_err(internal)?;
                store::codes::forget(&mut *tx, to.user_id, purpose, channel)
                    .await
                    .map_err(internal)?;
                super::log_within(
                    &mut tx,
                    caller,
                    Some(to.user_id),
                    "sms_send_failed",
                    now,
                    json!({"purpose": purpose.as_str(), "error": why}),
                )
                .await?;
                tx.commit().await.map_err(internal)?;
                tracing::warn!(purpose = purpose.as_str(), error = %why, "could not send an SMS code");
                return Err(ApiError::Unavailable(
                    "We could not send the text message. Check the number, or try again in a few minutes.".into(),
                ));
            }
        }
    }
    log(
        state,
        caller,
        Some(to.user_id),
        "mfa_code_sent",
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

/// Checks a typed code against the one sent for `purpose` over `channel`: throttled per
/// account and address like every second factor, 5 wrong tries per code, expired after
/// its lifetime, used up by the one request that accepts it. Gives where the accepted
/// code had gone, for a number being verified.
pub async fn check_sent_code(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
    input: &str,
    now: i64,
) -> Result<Option<String>, ApiError> {
    let rules = state.config.code_rules;
    let scope = match channel {
        Channel::Email => "email-code",
        Channel::Sms => "sms-code",
    };
    let guard = SecretGuard::take_second_factor(state, scope, user_id, caller, now).await?;
    let Some(code) = sent_code::normalize(input) else {
        guard.not_judged(state).await?;
        return Err(ApiError::field("code", "Enter the 6-digit code."));
    };
    let Some(stored) =
        store::codes::attempt(&state.db, user_id, purpose, channel, rules.max_failures)
            .await
            .map_err(internal)?
    else {
        guard.not_judged(state).await?;
        return Err(ApiError::field(
            "code",
            "No code is waiting. Choose Request Code to get one.",
        ));
    };
    let typed = code_hash(state, user_id, purpose, channel, &code);
    let verdict = match sent_code::judge(&stored, &typed, now, &rules) {
        Verdict::Accepted => {
            if let Some(destination) =
                store::codes::consume(&state.db, user_id, purpose, channel, &typed)
                    .await
                    .map_err(internal)?
            {
                guard.succeeded(state).await?;
                return Ok(destination);
            }
            // Another request used it first.
            "used"
        }
        Verdict::Wrong => "wrong",
        Verdict::Expired => "expired",
        Verdict::UsedUp => "too_many_tries",
    };
    log(
        state,
        caller,
        Some(user_id),
        "mfa_code_failed",
        now,
        json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": verdict}),
    )
    .await?;
    Err(ApiError::field(
        "code",
        match verdict {
            "expired" => "This code has expired. Choose Request Code to get a new one.",
            "too_many_tries" => {
                "Too many wrong tries for this code. Choose Request Code to get a new one."
            }
            _ => INVALID_CODE,
        },
    ))
}

/// The account's methods as the identity rule sees them.
pub async fn active_methods(state: &AppState, user_id: i64) -> Result<Vec<Method>, ApiError> {
    let totp = store::mfa::totp(&state.db, user_id)
        .await
        .map_err(internal)?
        .is_some_and(|t| t.enabled_at.is_some());
    let codes = store::codes::methods(&state.db, user_id)
        .await
        .map_err(internal)?;
    let mut methods = Vec::new();
    if totp {
        methods.push(Method::Totp);
    }
    for row in codes {
        match Channel::parse(&row.channel) {
            Some(Channel::Email) => methods.push(Method::Email),
            Some(Channel::Sms) => methods.push(Method::Sms),
            None => {}
        }
    }
    Ok(methods)
}

/// Step 1 of turning a method on: the identity check that [`IdentityProof::for_adding`]
/// asks for (the password, or a code from a method that is already on).
pub async fn confirm_identity(
    state: &AppState,
    caller: &Caller,
    adding: Method,
    password: &str,
    code: &str,
    now: i64,
) -> Result<(), ApiError> {
    let s = session(caller)?;
    let active = active_methods(state, s.user_id).await?;
    match IdentityProof::for_adding(adding, &active) {
        IdentityProof::Password => {
            if password.is_empty() {
                return Err(ApiError::field("password", "Enter your password."));
            }
            let user = store::users::by_id(&state.db, s.user_id)
                .await
                .map_err(internal)?
                .ok_or_else(super::accounts::not_signed_in)?;
            confirm_own_password(state, caller, &user, password, &IDENTITY_PASSWORD, now).await
        }
        IdentityProof::AuthenticatorCode => {
            check_code(state, caller, s.user_id, &s.email, code, now, false).await
        }
        IdentityProof::EmailCode => check_sent_code(
            state,
            caller,
            s.user_id,
            CodePurpose::Identity,
            Channel::Email,
            code,
            now,
        )
        .await
        .map(|_| ()),
    }
}

fn own_address(caller: &Caller) -> Result<Recipient<'_>, ApiError> {
    let s = session(caller)?;
    Ok(Recipient {
        user_id: s.user_id,
        email: &s.email,
        shown_as: s.email.clone(),
        phone: None,
    })
}

/// The owner's phone (E.164) as a recipient of SMS codes.
fn own_phone(caller: &Caller, number: String) -> Result<Recipient<'_>, ApiError> {
    let s = session(caller)?;
    Ok(Recipient {
        user_id: s.user_id,
        email: &s.email,
        shown_as: phone::mask(&number),
        phone: Some(number),
    })
}

/// Refuses a second start of the same step within the resend interval, before any
/// identity check, so that no password try or app code is spent on it.
async fn not_too_soon(
    state: &AppState,
    user_id: i64,
    channel: Channel,
    now: i64,
) -> Result<(), ApiError> {
    if let Some(sent_at) = store::codes::sent_at(&state.db, user_id, CodePurpose::Enable, channel)
        .await
        .map_err(internal)?
    {
        let wait = state.config.code_rules.resend_wait(sent_at, now);
        if wait > 0 {
            return Err(ApiError::TooManyRequests { retry_after: wait });
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
) -> Result<CodeSent, ApiError> {
    let s = session(caller)?;
    require_verified_email(s)?;
    if state.sms.is_none() {
        return Err(ApiError::invalid("SMS codes are not offered here."));
    }
    if store::codes::method(&state.db, s.user_id, Channel::Sms)
        .await
        .map_err(internal)?
        .is_some()
    {
        return Err(ApiError::invalid("SMS codes are already on."));
    }
    let country = if country.trim().is_empty() {
        state.config.sms_default_country.as_str()
    } else {
        country
    };
    let number = phone::normalize(number, country).map_err(|m| ApiError::field("phone", m))?;
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
) -> Result<CodeSent, ApiError> {
    let s = session(caller)?;
    require_verified_email(s)?;
    if store::codes::method(&state.db, s.user_id, Channel::Email)
        .await
        .map_err(internal)?
        .is_some()
    {
        return Err(ApiError::invalid("Email codes are already on."));
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

/// "Request Code" for the signed-in owner: another code for a step under way (turning
/// email codes on once the identity check passed, or off), or the first code of an
/// identity check by email.
pub async fn request_code(
    state: &AppState,
    caller: &Caller,
    purpose: CodePurpose,
    channel: Channel,
    now: i64,
) -> Result<CodeSent, ApiError> {
    let s = session(caller)?;
    let method = store::codes::method(&state.db, s.user_id, channel)
        .await
        .map_err(internal)?;
    // Turning on: only once the identity check sent the first code, while it is
    // valid, and never past it: resends do not keep one identity check alive.
    let step_ends = match purpose {
        CodePurpose::Enable => store::codes::expires_at(&state.db, s.user_id, purpose, channel)
            .await
            .map_err(internal)?
            .filter(|at| now < *at),
        _ => None,
    };
    let allowed = match purpose {
        CodePurpose::Enable => method.is_none() && step_ends.is_some(),
        // Proving identity by SMS is not offered: adding a method with SMS on asks for
        // the password (see `IdentityProof::for_adding`).
        CodePurpose::Identity => method.is_some() && channel == Channel::Email,
        CodePurpose::Disable => method.is_some(),
        CodePurpose::SignIn => false,
    };
    if !allowed {
        return Err(ApiError::invalid(match (purpose, channel) {
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
                    store::codes::destination(&state.db, s.user_id, purpose, channel)
                        .await
                        .map_err(internal)?
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
) -> Result<String, ApiError> {
    confirm_code_method(state, caller, Channel::Email, code, now).await
}

/// "Enable" on SMS Code, step 2: the code from the text message turns the method on,
/// for the number it went to.
pub async fn confirm_sms_code(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<String, ApiError> {
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
) -> Result<String, ApiError> {
    let s = session(caller)?;
    require_verified_email(s)?;
    let destination = check_sent_code(
        state,
        caller,
        s.user_id,
        CodePurpose::Enable,
        channel,
        code,
        now,
    )
    .await?;
    if channel == Channel::Sms && destination.is_none() {
        return Err(ApiError::invalid(
            "Start again: choose Enable and confirm it is you.",
        ));
    }
    let mut tx = state.db.begin().await.map_err(internal)?;
    if !store::codes::enable(&mut tx, s.user_id, channel, destination.as_deref(), now)
        .await
        .map_err(internal)?
    {
        return Err(ApiError::invalid(format!(
            "{} are already on.",
            name_of(channel)
        )));
    }
    let (token, others_ended) = rotate_session(&mut tx, state, caller, now).await?;
    super::log_within(
        &mut tx,
        caller,
        Some(s.user_id),
        "mfa_enabled",
        now,
        json!({"method": channel.as_str(), "other_sessions_ended": others_ended}),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    let what = match &destination {
        Some(number) => format!(
            "two-step sign-in with codes sent by text message to {} was turned on",
            phone::mask(number)
        ),
        None => "two-step sign-in with codes sent to this address was turned on".into(),
    };
    notify(
        state,
        caller,
        &s.email,
        &format!("{} turned on", name_of(channel)),
        &what,
        now,
    )
    .await?;
    Ok(token)
}

/// "Disable" on Email Code: the code sent as the dialog opened turns the method off.
pub async fn disable_email_code(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<String, ApiError> {
    disable_code_method(state, caller, Channel::Email, code, now).await
}

/// "Disable" on SMS Code: the code texted as the dialog opened turns the method off.
pub async fn disable_sms_code(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: i64,
) -> Result<String, ApiError> {
    disable_code_method(state, caller, Channel::Sms, code, now).await
}

async fn disable_code_method(
    state: &AppState,
    caller: &Caller,
    channel: Channel,
    code: &str,
    now: i64,
) -> Result<String, ApiError> {
    let s = session(caller)?;
    check_sent_code(
        state,
        caller,
        s.user_id,
        CodePurpose::Disable,
        channel,
        code,
        now,
    )
    .await?;
    let mut tx = state.db.begin().await.map_err(internal)?;
    if !store::codes::disable(&mut tx, s.user_id, channel)
        .await
        .map_err(internal)?
    {
        return Err(ApiError::invalid(format!(
            "{} are already off.",
            name_of(channel)
        )));
    }
    store::codes::forget_channel(&mut tx, s.user_id, channel)
        .await
        .map_err(internal)?;
    let (token, others_ended) = rotate_session(&mut tx, state, caller, now).await?;
    super::log_within(
        &mut tx,
        caller,
        Some(s.user_id),
        "mfa_disabled",
        now,
        json!({"method": channel.as_str(), "other_sessions_ended": others_ended}),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    let what = match channel {
        Channel::Email => "two-step sign-in with codes sent to this address was turned off",
        Channel::Sms => "two-step sign-in with codes sent by text message was turned off",
    };
    notify(
        state,
        caller,
        &s.email,
        &format!("{} turned off", name_of(channel)),
        what,
        now,
    )
    .await?;
    Ok(token)
}
