//! Accounts: sign-up, email verification, sign-in, sign-out, who am I.
use crate::model::account::{Me, SignUpAccepted, SignedIn, VerifyOutcome};
use crate::model::error::ApiError;
use crate::model::password::PasswordPolicy;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::ctx::{caller, set_cookie, then_show},
    crate::server::{flows::accounts as flow, http::cookies, now},
};

/// The configured password policy, for the live checklist.
#[server(prefix = "/api", endpoint = "password_policy")]
pub async fn get_password_policy() -> Result<PasswordPolicy, ApiError> {
    let (state, _) = caller()?;
    Ok(state.config.password.policy.clone())
}

/// The signed-in account, or `None`.
#[server(prefix = "/api", endpoint = "current_account")]
pub async fn current_account() -> Result<Option<Me>, ApiError> {
    let (_, who) = caller()?;
    Ok(flow::me(&who))
}

#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    password_repeat: String,
) -> Result<SignUpAccepted, ApiError> {
    let (state, who) = caller()?;
    let accepted = flow::sign_up(&state, &who, &email, &password, &password_repeat, now()).await?;
    then_show("/signup?sent");
    Ok(accepted)
}

/// `token` is the link's token, or (from a page without script) the whole pasted link.
#[server(prefix = "/api", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<VerifyOutcome, ApiError> {
    let (state, who) = caller()?;
    let token = crate::model::account::token_from_pasted(&token);
    let outcome = flow::verify_email(&state, &who, &token, now()).await?;
    then_show(match outcome {
        VerifyOutcome::Verified => "/verify-email?verified",
        VerifyOutcome::AlreadyVerified => "/verify-email?already",
    });
    Ok(outcome)
}

#[server(prefix = "/api", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), ApiError> {
    let (state, who) = caller()?;
    flow::resend_verification(&state, &who, now())
        .await
        .map_err(ApiError::from)
}

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<SignedIn, ApiError> {
    let (state, who) = caller()?;
    match flow::sign_in(&state, &who, &email, &password, next.as_deref(), now()).await? {
        flow::SignInOutcome::Session {
            token,
            signed_in,
            device_cookie,
        } => {
            set_cookie(&cookies::set_session(&state.config, &token));
            if let Some(device) = device_cookie {
                set_cookie(&cookies::set_device(&state.config, &device));
            }
            then_show(&signed_in.redirect_to);
            Ok(signed_in)
        }
        flow::SignInOutcome::SecondFactor { pending_token } => {
            set_cookie(&cookies::set_pending(&state.config, &pending_token));
            then_show("/signin/verify");
            Ok(SignedIn {
                redirect_to: "/signin/verify".into(),
            })
        }
    }
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ApiError> {
    let (state, who) = caller()?;
    flow::sign_out(&state, &who, now()).await?;
    set_cookie(&cookies::clear_session(&state.config));
    Ok(())
}
