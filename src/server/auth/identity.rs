//! Proofs of identity inside a signed-in session: the account's password, or a code of
//! a method that is on (the identity step before adding a method).
use super::factor::{self, For, SecondFactor};
use super::guard::SecretGuard;
use super::{not_signed_in, Caller};
use crate::model::error::ApiError;
use crate::model::mfa::{IdentityProof, Method};
use crate::server::audit::log;
use crate::server::domain::security_log::EventKind;
use crate::server::error::{Error, Result};
use crate::server::{store, AppState};

/// Step 1 of enabling a method confirms identity with the password when no other
/// method is on.
const IDENTITY_PASSWORD: PasswordProof = PasswordProof {
    scope: "mfa-password",
    field: "password",
    wrong: "The password is not correct.",
    failed_kind: EventKind::MfaIdentityFailed,
};

/// Checks a user's password; when it matches a hash that is out of date (an old pepper,
/// none, older parameters, not normalised), stores a fresh hash of it.
pub async fn password_matches(
    state: &AppState,
    user: &store::users::User,
    password: &str,
) -> Result<bool, Error> {
    let verdict = state.hasher.verify(password, &user.password_hash).await?;
    if verdict.matches && verdict.rehash {
        let fresh = state.hasher.hash(password).await?;
        store::users::rehash(&state.db, user.id, &user.password_hash, &fresh).await?;
    }
    Ok(verdict.matches)
}

/// How a sensitive change asks the signed-in owner for their password.
pub struct PasswordProof {
    /// Throttle counters of its own, like sign-in's.
    pub scope: &'static str,
    /// The form field an error belongs to, and what it says.
    pub field: &'static str,
    pub wrong: &'static str,
    /// The security-log kind of a refused attempt.
    pub failed_kind: EventKind,
}

/// Checks the signed-in account's own password before a sensitive change: throttled
/// per account and address, every refusal (wrong or throttled) logged.
pub async fn confirm_own_password(
    state: &AppState,
    caller: &Caller,
    user: &store::users::User,
    password: &str,
    proof: &PasswordProof,
    now: i64,
) -> Result<(), Error> {
    // Every refusal, throttled or wrong, is logged with its reason.
    let refusal = |reason: &'static str| {
        log(
            state,
            caller,
            Some(user.id),
            proof.failed_kind,
            now,
            serde_json::json!({ "reason": reason }),
        )
    };
    let guard = match SecretGuard::take(state, proof.scope, &user.id.to_string(), caller, now).await
    {
        Ok(guard) => guard,
        Err(refused) => {
            refusal("throttled").await?;
            return Err(refused);
        }
    };
    let matches = password.len() <= crate::model::password::MAX_PASSWORD_BYTES
        && password_matches(state, user, password).await?;
    if !matches {
        refusal("wrong_password").await?;
        return Err(Error::wrong(proof.field, proof.wrong));
    }
    guard.succeeded(state).await?;
    remember_proof(state, caller, user.id, now).await
}

/// A proof of identity (the password, a code of an active method) just succeeded for
/// account `user_id`: the caller's session remembers it (see [`recent_proof`]).
pub async fn remember_proof(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    now: i64,
) -> Result<()> {
    if let Some(s) = caller.session().filter(|s| s.user_id == user_id) {
        store::sessions::prove_identity(&state.db, s.session_id, now).await?;
    }
    Ok(())
}

/// The one recent-proof rule: whether the caller proved who they are (signing in, the
/// password, a code of an active method) within `session.reauth_seconds`. Sensitive
/// actions without a confirming step of their own ask for a proof only when not.
pub async fn recent_proof(state: &AppState, caller: &Caller, now: i64) -> Result<bool> {
    let s = caller.signed_in()?;
    let proven = store::sessions::identity_proven_at(&state.db, s.session_id).await?;
    Ok(proven.is_some_and(|at| now - at <= state.config.session.reauth_secs))
}

/// What a sensitive action asks when no proof is recent.
pub const PROOF_NEEDED: &str = "For your security, enter your password to confirm it is you.";

/// Used by the re-confirmation asked for a sensitive action.
const REAUTH_PASSWORD: PasswordProof = PasswordProof {
    scope: "reauth-password",
    field: "password",
    wrong: "The password is not correct.",
    failed_kind: EventKind::MfaIdentityFailed,
};

/// For a sensitive action: goes on when a proof is recent, else checks `password` when
/// the page sent one (throttled, logged, remembered), else answers "proof needed" and
/// the page asks for the password.
pub async fn require_recent_proof(
    state: &AppState,
    caller: &Caller,
    password: Option<&str>,
    now: i64,
) -> Result<()> {
    if recent_proof(state, caller, now).await? {
        return Ok(());
    }
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(Error::Refused(ApiError::ProofNeeded(PROOF_NEEDED.into())));
    };
    let s = caller.signed_in()?;
    let user = store::users::by_id(&state.db, s.user_id)
        .await?
        .ok_or_else(not_signed_in)?;
    confirm_own_password(state, caller, &user, password, &REAUTH_PASSWORD, now).await
}

/// A confirming step that always asks the password (removing a passkey): checked,
/// throttled and logged as the recent-proof rule's password is, and remembered.
pub async fn confirm_password(
    state: &AppState,
    caller: &Caller,
    password: &str,
    now: i64,
) -> Result<()> {
    if password.is_empty() {
        return Err(Error::field("password", "Enter your password."));
    }
    let s = caller.signed_in()?;
    let user = store::users::by_id(&state.db, s.user_id)
        .await?
        .ok_or_else(not_signed_in)?;
    confirm_own_password(state, caller, &user, password, &REAUTH_PASSWORD, now).await
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
) -> Result<(), Error> {
    let s = caller.signed_in()?;
    let active = factor::active_methods(state, s.user_id).await?;
    let factor = match IdentityProof::for_adding(adding, &active) {
        IdentityProof::Password => {
            if password.is_empty() {
                return Err(Error::field("password", "Enter your password."));
            }
            let user = store::users::by_id(&state.db, s.user_id)
                .await?
                .ok_or_else(not_signed_in)?;
            return confirm_own_password(state, caller, &user, password, &IDENTITY_PASSWORD, now)
                .await;
        }
        IdentityProof::AuthenticatorCode => SecondFactor::Authenticator,
        IdentityProof::EmailCode => SecondFactor::EmailCode,
        IdentityProof::Passkey => SecondFactor::Passkey,
    };
    factor::check(
        state,
        caller,
        s.user_id,
        &s.email,
        factor,
        For::Identity {
            adding: Some(adding),
        },
        code,
        now,
    )
    .await
    .map(|_| ())
}
