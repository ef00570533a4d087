//! Second factors: the authenticator app, codes sent by email or SMS, recovery codes.
//! [`check`] is the one entry point that judges a factor, for the second step of a
//! sign-in, an identity step or turning a method off; every check is throttled
//! ([`SecretGuard`]), and every one-time secret is used up by the one request that
//! accepts it.
use super::guard::{SecretGuard, Where};
use super::Caller;
use crate::model::error::ApiError;
use crate::model::mfa::{email_code_held, Method, EMAIL_CODE_HELD};
use crate::server::audit::{log, notify};
use crate::server::domain::security_log::EventKind;
use crate::server::domain::sent_code::{self, Channel, CodePurpose, Verdict};
use crate::server::domain::tokens::Purpose;
use crate::server::domain::{recovery, totp};
use crate::server::error::{internal, Error, Result};
use crate::server::{store, AppState};
use serde_json::json;

/// A second factor, as its owner presents it: a typed code, or a passkey's assertion
/// (a challenge signed by the authenticator, given as its JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    Authenticator,
    EmailCode,
    SmsCode,
    RecoveryCode,
    Passkey,
}

impl SecondFactor {
    /// The factor of an account's method (recovery codes belong to the authenticator).
    pub fn of(method: Method) -> SecondFactor {
        match method {
            Method::Totp => SecondFactor::Authenticator,
            Method::Email => SecondFactor::EmailCode,
            Method::Sms => SecondFactor::SmsCode,
            Method::Recovery => SecondFactor::RecoveryCode,
            Method::Passkey => SecondFactor::Passkey,
        }
    }

    /// How the security log and the "offer first next time" record name it.
    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactor::Authenticator => "totp",
            SecondFactor::EmailCode => "email",
            SecondFactor::SmsCode => "sms",
            SecondFactor::RecoveryCode => "recovery_code",
            SecondFactor::Passkey => "passkey",
        }
    }

    /// The channel a code of this factor was sent over, for factors that send one.
    pub fn channel(self) -> Option<Channel> {
        match self {
            SecondFactor::EmailCode => Some(Channel::Email),
            SecondFactor::SmsCode => Some(Channel::Sms),
            SecondFactor::Authenticator | SecondFactor::RecoveryCode | SecondFactor::Passkey => {
                None
            }
        }
    }
}

/// What a factor is checked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum For {
    /// The second step of the pending sign-in `pending` (a code sent for one pending
    /// sign-in completes no other: ASVS 2.7.3).
    SecondStep { pending: i64 },
    /// Proving identity inside a session: before adding the method `adding` (a code
    /// sent for adding one method vouches for no other: ASVS 2.7.3), or, with `None`,
    /// before viewing recovery codes.
    Identity { adding: Option<Method> },
    /// Turning a method on (the authenticator's waiting secret, a code sent to verify).
    Enable,
    /// Turning a method off.
    Disable,
}

impl For {
    /// What a sent code for this was stored as.
    pub fn code_purpose(self) -> CodePurpose {
        match self {
            For::SecondStep { .. } => CodePurpose::SignIn,
            For::Identity { .. } => CodePurpose::Identity,
            For::Enable => CodePurpose::Enable,
            For::Disable => CodePurpose::Disable,
        }
    }

    /// What a sent code for this is bound to, besides its account and purpose.
    pub fn bound_to(self) -> Option<Bound> {
        match self {
            For::SecondStep { pending } => Some(Bound::Pending(pending)),
            For::Identity { adding } => adding.map(Bound::Adding),
            For::Enable | For::Disable => None,
        }
    }
}

/// What a sent code is bound to besides its account, purpose and channel: the one
/// pending sign-in, or the one method being added, it was sent for (ASVS 2.7.3). Part
/// of the code's keyed hash, so a code typed anywhere else is simply wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Pending(i64),
    Adding(Method),
}

/// What an accepted factor tells: for a code sent to a phone number, that number (a
/// number being verified is turned on for exactly the number the code went to).
#[derive(Debug, Default)]
pub struct Accepted {
    pub destination: Option<String>,
    /// For the authenticator, the sealed secret the code was checked against (a
    /// waiting secret is turned on only if it is still this one).
    pub secret_sealed: Option<Vec<u8>>,
}

/// Judges one factor of account `user_id` (whose address is `email`) for `purpose`:
/// the second step of a sign-in, an identity step, turning a method on (the
/// authenticator's waiting secret, a code sent to verify a method) or off. Throttled
/// per account and address, each one-time secret used once; a wrong one is
/// [`Error::WrongSecret`], logged.
#[allow(clippy::too_many_arguments)]
pub async fn check(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    email: &str,
    factor: SecondFactor,
    purpose: For,
    code: &str,
    now: i64,
) -> Result<Accepted, Error> {
    let accepted = check_factor(state, caller, user_id, email, factor, purpose, code, now).await?;
    if matches!(purpose, For::Identity { .. } | For::Disable) {
        // A code of an active method proves who is at the keyboard.
        super::identity::remember_proof(state, caller, user_id, now).await?;
    }
    Ok(accepted)
}

#[allow(clippy::too_many_arguments)]
async fn check_factor(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    email: &str,
    factor: SecondFactor,
    purpose: For,
    code: &str,
    now: i64,
) -> Result<Accepted, Error> {
    match factor {
        SecondFactor::Authenticator => {
            let waiting_secret = purpose == For::Enable;
            let secret_sealed = check_authenticator(
                state,
                caller,
                user_id,
                email,
                code,
                now,
                waiting_secret,
                where_(purpose),
            )
            .await?;
            Ok(Accepted {
                secret_sealed: Some(secret_sealed),
                ..Accepted::default()
            })
        }
        SecondFactor::RecoveryCode => {
            use_recovery_code(state, caller, user_id, code, where_(purpose), now).await?;
            Ok(Accepted::default())
        }
        SecondFactor::Passkey => {
            let bound_to = match purpose {
                For::SecondStep { pending } => super::passkey::bound_to_pending(pending),
                For::Identity { .. } | For::Disable => {
                    super::passkey::bound_to_session(caller.signed_in()?.session_id)
                }
                For::Enable => return Err(Error::invalid(super::passkey::EXPIRED)),
            };
            super::passkey::verify_for(
                state,
                caller,
                user_id,
                &bound_to,
                code,
                where_(purpose),
                now,
            )
            .await?;
            Ok(Accepted::default())
        }
        SecondFactor::EmailCode | SecondFactor::SmsCode => {
            if factor == SecondFactor::EmailCode
                && matches!(purpose, For::SecondStep { .. } | For::Identity { .. })
            {
                let user = store::users::by_id(&state.db, user_id)
                    .await?
                    .ok_or_else(|| Error::unauthorized("This account no longer exists."))?;
                email_code_counts(state, &user).await?;
            }
            let channel = factor.channel().unwrap_or(Channel::Email);
            let destination =
                check_sent_code(state, caller, user_id, purpose, channel, code, now).await?;
            Ok(Accepted {
                destination,
                ..Accepted::default()
            })
        }
    }
}

pub const INVALID_CODE: &str = "Invalid code";

/// The context an account's authenticator secret is sealed under.
pub fn authenticator_context(user_id: i64) -> String {
    format!("totp:{user_id}")
}

/// The keyed hash a sent code is stored and compared as.
/// The keyed hash covers the account, the purpose, the channel and what the code is
/// [`Bound`] to (a sign-in's code: its pending sign-in; an identity code: the method
/// being added).
pub fn code_hash(
    state: &AppState,
    user_id: i64,
    purpose: CodePurpose,
    channel: Channel,
    bound_to: Option<Bound>,
    code: &str,
) -> Vec<u8> {
    let (purpose, channel) = (purpose.as_str(), channel.as_str());
    let what = match bound_to {
        Some(Bound::Pending(p)) => format!("{user_id}:{purpose}:{channel}@{p}:{code}"),
        Some(Bound::Adding(m)) => format!("{user_id}:{purpose}:{channel}+{}:{code}", m.as_str()),
        None => format!("{user_id}:{purpose}:{channel}:{code}"),
    };
    state.keys.hash(Purpose::SentCode, &what)
}

/// Checks an authenticator code for an account, throttled, each step once. A replay
/// is refused, logged and reported to the owner.
#[allow(clippy::too_many_arguments)]
async fn check_authenticator(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    email: &str,
    code: &str,
    now: i64,
    allow_pending: bool,
    at: Where,
) -> Result<Vec<u8>, Error> {
    let guard = SecretGuard::take_second_factor(state, "totp", user_id, caller, at, now).await?;
    let row = store::mfa::totp(&state.db, user_id).await?;
    let Some(row) = row.filter(|r| allow_pending || r.enabled_at.is_some()) else {
        guard.not_judged(state).await?;
        return Err(Error::WrongSecret(ApiError::invalid(
            "The authenticator app is not enabled.",
        )));
    };
    let secret = state
        .sealer
        .open(&row.secret_sealed, &authenticator_context(user_id))
        .ok_or_else(|| internal("authenticator secret does not open"))?;
    match totp::check(&secret, code, now, row.last_step) {
        totp::Check::Accepted(step) if store::mfa::use_step(&state.db, user_id, step).await? => {
            guard.succeeded(state).await?;
            if !state.sealer.is_current(&row.secret_sealed) {
                // Sealed under a previous secret: moved now, as it is used.
                crate::server::rekey::account(state, user_id).await?;
            }
            Ok(row.secret_sealed)
        }
        totp::Check::Accepted(_) | totp::Check::Replayed => {
            log(
                state,
                caller,
                Some(user_id),
                EventKind::TotpCodeReplayed,
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
            Err(Error::wrong("code", INVALID_CODE))
        }
        totp::Check::Invalid => {
            log(
                state,
                caller,
                Some(user_id),
                EventKind::TotpCodeFailed,
                now,
                json!({}),
            )
            .await?;
            Err(Error::wrong("code", INVALID_CODE))
        }
    }
}

/// Checks a typed code against the one sent for `purpose` over `channel`: throttled per
/// account and address like every second factor, 5 wrong tries per code, expired after
/// its lifetime, used up by the one request that accepts it. Gives where the accepted
/// code had gone, for a number being verified.
async fn check_sent_code(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    wanted: For,
    channel: Channel,
    input: &str,
    now: i64,
) -> Result<Option<String>, Error> {
    let rules = state.config.mfa.code_rules;
    let purpose = wanted.code_purpose();
    let scope = match channel {
        Channel::Email => "email-code",
        Channel::Sms => "sms-code",
    };
    let guard =
        SecretGuard::take_second_factor(state, scope, user_id, caller, where_(wanted), now).await?;
    let Some(code) = sent_code::normalize(input) else {
        guard.not_judged(state).await?;
        return Err(Error::wrong("code", "Enter the 6-digit code."));
    };
    let Some(stored) =
        store::codes::attempt(&state.db, user_id, purpose, channel, rules.max_failures).await?
    else {
        guard.not_judged(state).await?;
        return Err(Error::wrong(
            "code",
            "No code is waiting. Choose Request Code to get one.",
        ));
    };
    let typed = code_hash(state, user_id, purpose, channel, wanted.bound_to(), &code);
    let verdict = match sent_code::judge(&stored, &typed, now, &rules) {
        Verdict::Accepted => {
            if let Some(destination) =
                store::codes::consume(&state.db, user_id, purpose, channel, &typed).await?
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
        EventKind::MfaCodeFailed,
        now,
        json!({"purpose": purpose.as_str(), "channel": channel.as_str(), "reason": verdict}),
    )
    .await?;
    Err(Error::wrong(
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

/// One recovery code: throttled, and used up by the one request
/// that marks it used.
async fn use_recovery_code(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    recovery_code: &str,
    at: Where,
    now: i64,
) -> Result<(), Error> {
    let guard =
        SecretGuard::take_second_factor(state, "recovery-code", user_id, caller, at, now).await?;
    let mut used = None;
    if let Some(c) = recovery::normalize(recovery_code) {
        // Under the current secret, or a previous one after a rotation.
        for (n, hash) in state
            .keys
            .hashes(Purpose::RecoveryCode, &format!("{user_id}:{c}"))
            .into_iter()
            .enumerate()
        {
            if store::mfa::use_recovery_code(&state.db, user_id, &hash, now).await? {
                used = Some(n);
                break;
            }
        }
    }
    if let Some(n) = used {
        guard.succeeded(state).await?;
        if n > 0 {
            // Hashed under a previous secret: the account's codes move now.
            crate::server::rekey::account(state, user_id).await?;
        }
        Ok(())
    } else {
        Err(Error::wrong("recovery_code", INVALID_CODE))
    }
}

/// Where a check for `purpose` is typed (its throttles are counted apart).
fn where_(purpose: For) -> Where {
    match purpose {
        For::SecondStep { .. } => Where::SecondStep,
        For::Identity { .. } | For::Enable | For::Disable => Where::InSession,
    }
}

/// Refuses an email code while [`email_code_held`] holds it back for `user`.
pub async fn email_code_counts(state: &AppState, user: &store::users::User) -> Result<()> {
    if user.reset_by_link_at.is_some()
        && email_code_held(true, &active_methods(state, user.id).await?)
    {
        return Err(Error::forbidden(EMAIL_CODE_HELD));
    }
    Ok(())
}

/// The account's methods as the identity rule sees them.
pub async fn active_methods(state: &AppState, user_id: i64) -> Result<Vec<Method>, Error> {
    let on = store::mfa::enabled(&state.db, user_id).await?;
    Ok([
        (on.totp, Method::Totp),
        (on.email, Method::Email),
        (on.sms, Method::Sms),
        (on.passkey, Method::Passkey),
    ]
    .into_iter()
    .filter_map(|(at, m)| at.map(|_| m))
    .collect())
}
