//! Sign-up, email verification, sign-in and sign-out.
use super::password::{new_password_problem, strength_check_allowed};
use super::second_step::begin_second_step;
use crate::model::account::{safe_next, Me, SignUpAccepted, SignedIn, VerifyOutcome};
use crate::model::password::{PasswordProblem, MAX_PASSWORD_BYTES};
use crate::server::audit::{deliver, event, log, log_within, logged_email};
use crate::server::auth::guard::{take, SecretGuard};
use crate::server::auth::identity::password_matches;
use crate::server::auth::session::new_session;
use crate::server::auth::Caller;
use crate::server::delivery::templates;
use crate::server::domain::email;
use crate::server::domain::security_log::EventKind;
use crate::server::domain::throttle;
use crate::server::domain::tokens::{looks_like_token, new_token, Purpose};
use crate::server::error::{Error, Result};
use crate::server::store;
use crate::server::AppState;
use serde_json::json;

pub const INVALID_CREDENTIALS: &str = "Invalid email or password";

/// Refuses an empty or oversized password before anything else (and before any hashing).
fn check_password_size(field: &str, password: &str) -> Result<(), Error> {
    if password.is_empty() {
        return Err(Error::field(field, PasswordProblem::Empty.to_string()));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::field(field, PasswordProblem::TooLarge.to_string()));
    }
    Ok(())
}

async fn issue_verification(
    state: &AppState,
    user_id: i64,
    email: &str,
    now: i64,
) -> Result<(), Error> {
    let token = new_token();
    let hash = state.keys.hash(Purpose::VerifyEmail, &token);
    store::email_links::insert(
        &state.db,
        &hash,
        user_id,
        store::email_links::VERIFY_EMAIL,
        now,
        now + state.config.accounts.verification_link_secs,
    )
    .await?;
    let link = state.config.link(&format!("/verify-email#token={token}"));
    deliver(
        state,
        templates::verify_email(
            email,
            &link,
            state.config.accounts.verification_link_secs / 3600,
        ),
        now,
    )
    .await?;
    Ok(())
}

/// Creates an account, or (when the email is taken) tells its owner; the caller gets
/// the same answer either way.
pub async fn sign_up(
    state: &AppState,
    caller: &Caller,
    email_input: &str,
    password: &str,
    password_repeat: &str,
    now: i64,
) -> Result<SignUpAccepted, Error> {
    let email = email::normalize(email_input).map_err(|m| Error::field("email", m))?;
    check_password_size("password", password)?;
    // Estimating strength (and asking the breach service) costs: counted per address
    // first, like the strength meter's own requests.
    strength_check_allowed(state, caller, now).await?;
    if let Some(problem) = new_password_problem(state, password, &email).await? {
        return Err(Error::field("password", problem));
    }
    if password != password_repeat {
        return Err(Error::field(
            "password_repeat",
            "The passwords do not match.",
        ));
    }
    let keys = [
        (
            state.keys.hash(
                Purpose::Throttle,
                &format!("sign-up:ip:{}", caller.ip_group()),
            ),
            throttle::sign_up_ip(state.config.accounts.sign_ups_per_address),
        ),
        (
            state
                .keys
                .hash(Purpose::Throttle, &format!("sign-up:email:{email}")),
            throttle::SIGN_UP_EMAIL,
        ),
    ];
    take(state, &keys, now).await?;
    // Hash in both cases so that both answers take the same time.
    let hash = state.hasher.hash(password).await?;
    let strength = super::password::strength_of(password, &email).await?;

    let mut tx = state.db.begin().await?;
    let created = store::users::insert(&mut tx, &email, &hash, now).await?;
    match created {
        Some(user_id) => {
            store::profile::set_password_strength(&mut *tx, user_id, strength.0).await?;
            log_within(
                &mut tx,
                caller,
                Some(user_id),
                EventKind::SignUp,
                now,
                json!({}),
            )
            .await?;
            tx.commit().await?;
            issue_verification(state, user_id, &email, now).await?;
        }
        None => {
            tx.rollback().await?;
            let existing = store::users::by_email(&state.db, &email).await?;
            if let Some(user) = existing {
                log(
                    state,
                    caller,
                    Some(user.id),
                    EventKind::SignUpExistingEmail,
                    now,
                    json!({}),
                )
                .await?;
                deliver(state, templates::sign_up_attempt_on_existing(
                        &email,
                        &state.config.link("/signin"),
                        "If you forgot your password, use \"Forgot password?\" on the sign-in page.",
                    ), now).await?;
            }
        }
    }
    Ok(SignUpAccepted { email })
}

pub async fn verify_email(
    state: &AppState,
    caller: &Caller,
    token: &str,
    now: i64,
) -> Result<VerifyOutcome, Error> {
    let invalid = || {
        Error::invalid(
            "This verification link is not valid. Check that you copied the whole link, \
             or sign in and use \"Resend Verification Email\".",
        )
    };
    if !looks_like_token(token) {
        return Err(invalid());
    }
    let hash = state.keys.hash(Purpose::VerifyEmail, token);
    let mut tx = state.db.begin().await?;
    if let Some(user_id) =
        store::email_links::consume(&mut tx, &hash, store::email_links::VERIFY_EMAIL, now).await?
    {
        store::users::mark_verified(&mut tx, user_id, now).await?;
        log_within(
            &mut tx,
            caller,
            Some(user_id),
            EventKind::EmailVerified,
            now,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        return Ok(VerifyOutcome::Verified);
    }
    tx.rollback().await?;
    match store::email_links::owner(&state.db, &hash, store::email_links::VERIFY_EMAIL).await? {
        None => Err(invalid()),
        Some((user_id, used_at, expires_at)) => {
            let user = store::users::by_id(&state.db, user_id).await?;
            let verified = user.map(|u| u.email_verified_at.is_some()).unwrap_or(false);
            if verified {
                Ok(VerifyOutcome::AlreadyVerified)
            } else if used_at.is_none() && expires_at <= now {
                Err(Error::invalid(
                    "This verification link has expired. Sign in and use \"Resend Verification Email\" \
                     to get a new one.",
                ))
            } else {
                Err(invalid())
            }
        }
    }
}

pub async fn resend_verification(state: &AppState, caller: &Caller, now: i64) -> Result<(), Error> {
    let session = caller.signed_in()?;
    if session.email_verified {
        return Err(Error::invalid("Your email address is already verified."));
    }
    let key = state.keys.hash(
        Purpose::Throttle,
        &format!("resend-verification:{}", session.user_id),
    );
    take(state, &[(key, throttle::RESEND_VERIFICATION)], now).await?;
    issue_verification(state, session.user_id, &session.email, now).await?;
    log(
        state,
        caller,
        Some(session.user_id),
        EventKind::VerificationEmailSent,
        now,
        json!({}),
    )
    .await
}

/// What a correct password leads to: a session (its token goes into the cookie), or,
/// for an account with MFA, a pending sign-in waiting for the second factor.
pub enum SignInOutcome {
    Session {
        token: String,
        signed_in: SignedIn,
        /// A device cookie to set (the browser had none).
        device_cookie: Option<String>,
    },
    SecondFactor {
        pending_token: String,
    },
}

pub async fn sign_in(
    state: &AppState,
    caller: &Caller,
    email_input: &str,
    password: &str,
    next: Option<&str>,
    now: i64,
) -> Result<SignInOutcome, Error> {
    let email = email::normalize(email_input).map_err(|m| Error::field("email", m))?;
    check_password_size("password", password)?;

    // The account and the counting of this attempt on one connection of the pool, which
    // goes back before the hash: hashing never holds a connection.
    let (user, taken) = {
        let mut conn = state.db.acquire().await?;
        let user = store::users::by_email(&mut *conn, &email).await?;
        let taken = SecretGuard::take_on(&mut conn, state, "sign-in", &email, caller, now).await;
        (user, taken)
    };
    let user_id = user.as_ref().map(|u| u.id);
    let guard = match taken {
        Ok(guard) => guard,
        Err(refused) => {
            log(
                state,
                caller,
                user_id,
                EventKind::SignInFailed,
                now,
                json!({"reason": "throttled"}),
            )
            .await?;
            return Err(refused);
        }
    };

    // An unknown account costs the same hash, so the answer's timing tells nothing.
    let matches = match &user {
        Some(u) => password_matches(state, u, password).await?,
        None => {
            state.hasher.verify(password, &state.dummy_hash).await?;
            false
        }
    };

    let Some(user) = user.filter(|_| matches) else {
        let detail = match user_id {
            Some(_) => json!({"reason": "wrong_password"}),
            None => {
                json!({"reason": "unknown_account", "email_hash": logged_email(state, &email)})
            }
        };
        log(state, caller, user_id, EventKind::SignInFailed, now, detail).await?;
        return Err(Error::unauthorized(INVALID_CREDENTIALS));
    };
    // The IP allowlist, after the password: the answer is the wrong password's, so it
    // tells nothing about the account (only the owner's log and mail say more).
    if !crate::server::auth::allowlist::permits(state, user.id, None, caller).await? {
        crate::server::auth::allowlist::refused(
            state,
            caller,
            user.id,
            crate::server::auth::allowlist::At::SignIn,
            now,
        )
        .await?;
        return Err(Error::unauthorized(INVALID_CREDENTIALS));
    }
    if user.password_strength.is_none() {
        // Set before its strength was kept: measured now, for the security checklist.
        let strength = super::password::strength_of(password, &user.email).await?;
        store::profile::set_password_strength(&state.db, user.id, strength.0).await?;
    }
    password_accepted(state, caller, &user, Some(&guard), next, now).await
}

/// What follows a correct password for `user` (the account as read before the hash):
/// the session, or the pending second step, each stored only while the account's
/// credentials are still those the password was checked against. A sign-in whose hash
/// was under way while the password was changed or reset gets neither.
pub async fn password_accepted(
    state: &AppState,
    caller: &Caller,
    user: &store::users::User,
    guard: Option<&SecretGuard>,
    next: Option<&str>,
    now: i64,
) -> Result<SignInOutcome, Error> {
    let next = safe_next(next);
    // The counters' reset and the session on one connection again.
    let mut conn = state.db.acquire().await?;
    if let Some(guard) = guard {
        guard.succeeded_on(&mut conn).await?;
    }
    // The end of the browser's old session (a fresh session id at every sign-in) and,
    // unless the account has a second factor on, the new session and its log entry:
    // one transaction, which itself decides whether a second step is needed.
    let token = new_token();
    let hash = state.keys.hash(Purpose::Session, &token);
    let started = store::sessions::start_for_sign_in(
        &mut conn,
        caller.session().map(|old| old.session_id),
        new_session(state, &hash, user.id, caller, now, now),
        user.credential_version,
        event(
            caller,
            Some(user.id),
            EventKind::SignInSucceeded,
            now,
            json!({}),
        ),
    )
    .await?;
    drop(conn);
    let Some(session_id) = started else {
        let Some(pending_token) =
            begin_second_step(state, user.id, user.credential_version, &next, now).await?
        else {
            log(
                state,
                caller,
                Some(user.id),
                EventKind::SignInFailed,
                now,
                json!({"reason": "credentials_changed"}),
            )
            .await?;
            return Err(Error::unauthorized(INVALID_CREDENTIALS));
        };
        log(
            state,
            caller,
            Some(user.id),
            EventKind::SignInPasswordAccepted,
            now,
            json!({"next_step": "totp"}),
        )
        .await?;
        return Ok(SignInOutcome::SecondFactor { pending_token });
    };
    let device_cookie =
        crate::server::flows::notices::signed_in_now(state, caller, user.id, session_id, now).await;
    Ok(SignInOutcome::Session {
        token,
        signed_in: SignedIn { redirect_to: next },
        device_cookie,
    })
}

pub async fn sign_out(state: &AppState, caller: &Caller, now: i64) -> Result<(), Error> {
    if let Some(session) = caller.session() {
        store::sessions::delete(&state.db, session.session_id).await?;
        log(
            state,
            caller,
            Some(session.user_id),
            EventKind::SignOut,
            now,
            json!({}),
        )
        .await?;
    }
    Ok(())
}

pub fn me(caller: &Caller) -> Option<Me> {
    caller.session().map(|s| Me {
        email: s.email.clone(),
        email_verified: s.email_verified,
        created_at: s.user_created_at,
        time_zone: s.time_zone.clone(),
        display_name: s.display_name.clone(),
    })
}

/// The account as the REST API shows it (`account:read`).
pub struct Overview {
    pub id: i64,
    pub email: String,
    pub verified: bool,
    pub created_at: i64,
    pub methods: Vec<crate::model::mfa::Method>,
}

pub async fn overview(state: &AppState, caller: &Caller) -> Result<Overview, Error> {
    let user_id = caller.account_for(crate::model::tokens::Scope::AccountRead)?;
    let user = store::users::by_id(&state.db, user_id)
        .await?
        .ok_or_else(crate::server::auth::not_signed_in)?;
    Ok(Overview {
        id: user.id,
        email: user.email,
        verified: user.email_verified_at.is_some(),
        created_at: user.created_at,
        methods: crate::server::auth::factor::active_methods(state, user_id).await?,
    })
}
