//! Email Code end to end on the server: turning it on (identity, then the emailed
//! code), the resend interval, expiry, the five-try limit, single use under racing
//! requests, signing in with a chosen method, both methods together, and turning it off.
//! Codes are read from the mails the app wrote to its outbox. Time is passed in.

use crate::common::Wire;
use crate::common::{app, count_status, TestApp, PASSWORD};
use axum::http::StatusCode;
use latchkey::model::error::ApiError;
use latchkey::model::mfa::Method;
use latchkey::server::auth::Caller;
use latchkey::server::auth::{Principal, Session};
use latchkey::server::domain::sent_code::{Channel, CodePurpose};
use latchkey::server::domain::totp;
use latchkey::server::flows::{accounts, codes, mfa, second_step};
use latchkey::server::now;

fn caller(session: Option<Session>) -> Caller {
    Caller {
        ip: "198.51.100.23".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0".into(),
        principal: session.map(Principal::Session),
        device_cookie: None,
    }
}

async fn session_caller(t: &TestApp, token: &str) -> Caller {
    t.session_caller(token, caller(None)).await
}

/// A verified account, signed in (no MFA yet).
async fn owner(t: &TestApp, email: &str, at: i64) -> Caller {
    t.owner(email, at, caller(None)).await
}

/// The code in the newest mail to `to` whose subject contains `subject`, once there
/// are `count` such mails.
pub(crate) async fn code_from_mail(t: &TestApp, to: &str, subject: &str, count: usize) -> String {
    for _ in 0..200 {
        let mails: Vec<_> = t
            .mail_to(to, 1)
            .await
            .into_iter()
            .filter(|m| m.subject.contains(subject))
            .collect();
        if mails.len() >= count {
            let text = &mails[0].text_body;
            let start = text.find(": ").expect("a code in the mail") + 2;
            let code = &text[start..start + 6];
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{text}");
            return code.to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("expected {count} mail(s) \"{subject}\" to {to}");
}

const ENABLE_SUBJECT: &str = "to turn on email codes";
pub(crate) const SIGN_IN_SUBJECT: &str = "to sign in";

/// Turns Email Code on for a new account at `t0`; gives the rotated session's caller.
pub(crate) async fn email_on(t: &TestApp, email: &str, t0: i64) -> Caller {
    let who = owner(t, email, t0).await;
    codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let code = code_from_mail(t, email, ENABLE_SUBJECT, 1).await;
    let token = codes::confirm_email_code(&t.state, &who, &code, t0 + 1)
        .await
        .wire()
        .unwrap()
        .session_token;
    session_caller(t, &token).await
}

async fn password_step(t: &TestApp, email: &str, at: i64) -> String {
    password_step_with(t, email, PASSWORD, at).await
}

async fn password_step_with(t: &TestApp, email: &str, password: &str, at: i64) -> String {
    match accounts::sign_in(
        &t.state,
        &caller(None),
        email,
        password,
        Some("/settings/security"),
        at,
    )
    .await
    .wire()
    .unwrap()
    {
        accounts::SignInOutcome::SecondFactor { pending_token } => pending_token,
        accounts::SignInOutcome::Session { .. } => panic!("expected the second step"),
    }
}

#[tokio::test]
async fn turning_email_codes_on_needs_the_password_then_the_emailed_code() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "on@example.com", t0).await;

    let wrong = codes::start_email_code(&t.state, &who, "Wrong-Password-1!", "", t0)
        .await
        .wire();
    assert!(
        matches!(&wrong, Err(e) if e.for_field("password").is_some()),
        "{wrong:?}"
    );
    let sent = codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    assert_eq!(sent.to, "on@example.com");
    assert_eq!(sent.resend_in, 60);
    let code = code_from_mail(&t, "on@example.com", ENABLE_SUBJECT, 1).await;
    let mail = t
        .mail_to("on@example.com", 1)
        .await
        .into_iter()
        .find(|m| m.subject.contains(ENABLE_SUBJECT))
        .unwrap();
    // The mail says what the code is for, and the subject does not carry the code.
    assert!(mail
        .text_body
        .starts_with("Your code to turn on email codes: "));
    assert!(!mail.subject.contains(&code));
    // Only a keyed hash is stored.
    let stored: Vec<u8> = sqlx::query_as::<_, (Vec<u8>,)>("SELECT code_hash FROM sent_codes")
        .fetch_one(&t.state.db)
        .await
        .unwrap()
        .0;
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&code));

    let other = if code == "000000" { "111111" } else { "000000" };
    let e = codes::confirm_email_code(&t.state, &who, other, t0 + 1)
        .await
        .wire()
        .unwrap_err();
    assert_eq!(e.for_field("code").as_deref(), Some("Invalid code"));
    let token = codes::confirm_email_code(&t.state, &who, &code, t0 + 2)
        .await
        .wire()
        .unwrap()
        .session_token;
    assert_ne!(token, "");
    let who = session_caller(&t, &token).await;
    let status = mfa::status(&t.state, &who).await.wire().unwrap();
    assert_eq!(status.email_code_enabled_at, Some(t0 + 2));
    assert_eq!(status.email, "on@example.com");
    // Used once: the same code does not work again.
    assert!(t.count("SELECT COUNT(*) FROM sent_codes").await.eq(&0));
    let kinds = t.event_kinds().await;
    for k in ["mfa_code_sent", "mfa_code_failed", "mfa_enabled"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    t.mail_to("on@example.com", 3).await;
    t.mail_with_subject("on@example.com", "Email codes turned on")
        .await;
    // Signing in now asks for a code.
    password_step(&t, "on@example.com", t0 + 10).await;
}

#[tokio::test]
async fn an_unverified_address_cannot_receive_codes() {
    let t = app().await;
    let t0 = now();
    t.sign_up("unverified@example.com", PASSWORD).await;
    let who = match accounts::sign_in(
        &t.state,
        &caller(None),
        "unverified@example.com",
        PASSWORD,
        None,
        t0,
    )
    .await
    .wire()
    .unwrap()
    {
        accounts::SignInOutcome::Session { token, .. } => session_caller(&t, &token).await,
        _ => panic!(),
    };
    let e = codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap_err();
    assert!(matches!(e, ApiError::Forbidden(_)), "{e:?}");
    assert_eq!(t.count("SELECT COUNT(*) FROM sent_codes").await, 0);
}

#[tokio::test]
async fn a_resend_waits_for_the_interval_and_replaces_the_code() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "resend@example.com", t0).await;
    // Without the identity step, there is nothing to resend.
    let e = codes::request_code(&t.state, &who, CodePurpose::Enable, Channel::Email, t0)
        .await
        .wire()
        .unwrap_err();
    assert!(matches!(e, ApiError::Invalid { .. }), "{e:?}");

    codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let first = code_from_mail(&t, "resend@example.com", ENABLE_SUBJECT, 1).await;
    // Starting again within the minute (the dialog opened again) is answered with the
    // wait before the password is looked at: no password try is spent on it.
    let again = codes::start_email_code(&t.state, &who, "Wrong-Password-1!", "", t0 + 10)
        .await
        .wire();
    assert_eq!(again, Err(ApiError::TooManyRequests { retry_after: 50 }));
    assert!(!t
        .event_kinds()
        .await
        .iter()
        .any(|k| k == "mfa_identity_failed"));
    for (at, left) in [(t0, 60), (t0 + 18, 42), (t0 + 59, 1)] {
        let e = codes::request_code(&t.state, &who, CodePurpose::Enable, Channel::Email, at)
            .await
            .wire()
            .unwrap_err();
        assert_eq!(e, ApiError::TooManyRequests { retry_after: left });
    }
    assert_eq!(
        t.event_kinds()
            .await
            .iter()
            .filter(|k| *k == "mfa_code_send_refused")
            .count(),
        3,
        "each refused resend is logged"
    );
    // Resends never outlive the identity check: the code sent at t0 + 60 expires when
    // the first one did, at t0 + 600.
    let sent = codes::request_code(&t.state, &who, CodePurpose::Enable, Channel::Email, t0 + 60)
        .await
        .wire()
        .unwrap();
    assert_eq!(sent.resend_in, 60);
    assert_eq!(sent.valid_secs, 540);
    let second = code_from_mail(&t, "resend@example.com", ENABLE_SUBJECT, 2).await;
    if first != second {
        let e = codes::confirm_email_code(&t.state, &who, &first, t0 + 61)
            .await
            .wire()
            .unwrap_err();
        assert!(
            e.for_field("code").is_some(),
            "the replaced code is refused"
        );
    }
    codes::confirm_email_code(&t.state, &who, &second, t0 + 62)
        .await
        .wire()
        .unwrap();
}

#[tokio::test]
async fn an_early_resend_sent_straight_to_the_server_is_refused_with_the_time_left() {
    let t = app().await;
    t.sign_up_verified("early@example.com", PASSWORD).await;
    let cookie = t
        .sign_in("early@example.com", PASSWORD)
        .await
        .session_cookie();
    let r = t
        .call(
            "start_email_code",
            &[("password", PASSWORD), ("code", "")],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["resend_in"], 60);
    let early = t
        .call(
            "request_code",
            &[("purpose", "enable"), ("channel", "email")],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        early.body
    );
    let retry: u64 = early.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((58..=60).contains(&retry), "{retry}");
    // Racing resends after the interval would still send one code: here, all refused.
    let burst = t
        .call_parallel(
            6,
            "request_code",
            &[("purpose", "enable"), ("channel", "email")],
            Some(&cookie),
        )
        .await;
    assert_eq!(count_status(&burst, StatusCode::TOO_MANY_REQUESTS), 6);
    let mails = t.mail_to("early@example.com", 1).await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.subject.contains(ENABLE_SUBJECT))
            .count(),
        1
    );
}

#[tokio::test]
async fn racing_sends_after_the_interval_send_one_code() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "racesend@example.com", t0).await;
    codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let at = t0 + 60;
    let sends: Vec<_> = (0..6)
        .map(|_| {
            let (state, who) = (t.state.clone(), who.clone());
            tokio::spawn(async move {
                codes::request_code(&state, &who, CodePurpose::Enable, Channel::Email, at)
                    .await
                    .wire()
            })
        })
        .collect();
    let mut ok = 0;
    for s in sends {
        match s.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ApiError::TooManyRequests { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(ok, 1, "one code is sent");
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "expiry@example.com", t0).await;
    codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let code = code_from_mail(&t, "expiry@example.com", ENABLE_SUBJECT, 1).await;
    let e = codes::confirm_email_code(&t.state, &who, &code, t0 + 600)
        .await
        .wire()
        .unwrap_err();
    assert_eq!(
        e.for_field("code").as_deref(),
        Some("This code has expired. Choose Request Code to get a new one.")
    );
    // An expired step cannot be resent either: start again with the password.
    let e = codes::request_code(
        &t.state,
        &who,
        CodePurpose::Enable,
        Channel::Email,
        t0 + 600,
    )
    .await
    .wire()
    .unwrap_err();
    assert!(matches!(e, ApiError::Invalid { .. }));
}

#[tokio::test]
async fn a_code_survives_five_wrong_tries_then_a_new_one_is_needed() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "tries@example.com", t0).await;
    codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let code = code_from_mail(&t, "tries@example.com", ENABLE_SUBJECT, 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for i in 1..=5 {
        let e = codes::confirm_email_code(&t.state, &who, wrong, t0 + i)
            .await
            .wire()
            .unwrap_err();
        assert_eq!(
            e.for_field("code").as_deref(),
            Some("Invalid code"),
            "try {i}"
        );
    }
    // Past the per-account throttle's wait: the right code, too late for this one.
    let e = codes::confirm_email_code(&t.state, &who, &code, t0 + 120)
        .await
        .wire()
        .unwrap_err();
    assert_eq!(
        e.for_field("code").as_deref(),
        Some("Too many wrong tries for this code. Choose Request Code to get a new one.")
    );
    codes::request_code(
        &t.state,
        &who,
        CodePurpose::Enable,
        Channel::Email,
        t0 + 121,
    )
    .await
    .wire()
    .unwrap();
    let fresh = code_from_mail(&t, "tries@example.com", ENABLE_SUBJECT, 2).await;
    codes::confirm_email_code(&t.state, &who, &fresh, t0 + 400)
        .await
        .wire()
        .unwrap();
}

#[tokio::test]
async fn signing_in_with_an_email_code_raced_is_accepted_once() {
    let t = app().await;
    let t0 = now();
    email_on(&t, "signin@example.com", t0).await;
    let r = t.sign_in("signin@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pending = r.set_cookie().unwrap();
    let pending = pending.split(';').next().unwrap().to_string();

    let options = t.call("sign_in_options", &[], Some(&pending)).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    // Recovery codes came with Email Code, the account's first method.
    assert_eq!(
        options.json()["methods"],
        serde_json::json!(["Email", "Recovery"])
    );
    assert_eq!(options.json()["preferred"], "Email");
    assert_eq!(options.json()["email_hint"], "s•••••@example.com");

    let sent = t
        .call("send_sign_in_code", &[("channel", "email")], Some(&pending))
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.json()["to"], "s•••••@example.com");
    let code = code_from_mail(&t, "signin@example.com", SIGN_IN_SUBJECT, 1).await;
    // Five at once: as many as one sign-in allows (more would end it for all).
    let replies = t
        .call_parallel(
            5,
            "verify_sign_in",
            &[("code", &code), ("recovery_code", ""), ("method", "email")],
            Some(&pending),
        )
        .await;
    assert_eq!(
        count_status(&replies, StatusCode::OK),
        1,
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, &r.body))
            .collect::<Vec<_>>()
    );
    // The others find the code used, or the sign-in already finished.
    assert_eq!(
        count_status(&replies, StatusCode::BAD_REQUEST)
            + count_status(&replies, StatusCode::UNAUTHORIZED),
        4
    );
    let winner = replies.iter().find(|r| r.status == StatusCode::OK).unwrap();
    assert!(
        winner.body.contains("/settings/security"),
        "{}",
        winner.body
    );
}

/// ASVS 2.7.3: an identity code is bound to the method it was sent for adding. The code
/// emailed to add SMS does not open the authenticator's setup (nor the other way
/// round); each opens the one it was sent for.
#[tokio::test]
async fn an_identity_code_vouches_only_for_the_method_it_was_sent_for() {
    let t = app().await;
    let t0 = now();
    let email = "bound@example.com";
    let who = email_on(&t, email, t0).await;
    codes::request_identity_code(&t.state, &who, Method::Sms, t0 + 3)
        .await
        .wire()
        .unwrap();
    let for_sms = code_from_mail(&t, email, "to confirm it is you", 1).await;
    let e = mfa::start_totp(&t.state, &who, "", &for_sms, t0 + 4)
        .await
        .wire()
        .unwrap_err();
    assert_eq!(
        e.for_field("code").as_deref(),
        Some("Invalid code"),
        "{e:?}"
    );
    codes::start_sms_code(&t.state, &who, "", &for_sms, "07400 123456", "GB", t0 + 5)
        .await
        .wire()
        .unwrap();

    let t1 = t0 + 100;
    codes::request_identity_code(&t.state, &who, Method::Totp, t1)
        .await
        .wire()
        .unwrap();
    let for_totp = code_from_mail(&t, email, "to confirm it is you", 2).await;
    let e = codes::start_sms_code(&t.state, &who, "", &for_totp, "07400 123457", "GB", t1 + 1)
        .await
        .wire()
        .unwrap_err();
    assert_eq!(
        e.for_field("code").as_deref(),
        Some("Invalid code"),
        "{e:?}"
    );
    mfa::start_totp(&t.state, &who, "", &for_totp, t1 + 2)
        .await
        .wire()
        .unwrap();
    // The API names the method; an unknown one, or one no code proves, is refused.
    assert!(
        codes::request_identity_code(&t.state, &who, Method::Email, t1 + 200)
            .await
            .wire()
            .is_err()
    );
}

#[tokio::test]
async fn both_methods_sign_in_with_either_and_the_last_one_used_comes_first() {
    let t = app().await;
    let t0 = now();
    let email = "both@example.com";
    let who = email_on(&t, email, t0).await;
    // The authenticator's identity step now takes an email code, not the password.
    let e = mfa::start_totp(&t.state, &who, PASSWORD, "", t0 + 2)
        .await
        .wire()
        .unwrap_err();
    assert!(e.for_field("code").is_some(), "{e:?}");
    codes::request_identity_code(&t.state, &who, Method::Totp, t0 + 3)
        .await
        .wire()
        .unwrap();
    let identity = code_from_mail(&t, email, "to confirm it is you", 1).await;
    let setup = mfa::start_totp(&t.state, &who, "", &identity, t0 + 4)
        .await
        .wire()
        .unwrap();
    let secret = data_encoding::BASE32_NOPAD
        .decode(setup.secret.replace(' ', "").as_bytes())
        .unwrap();
    let done = mfa::confirm_totp(
        &t.state,
        &who,
        &totp::code_at(&secret, t0 as u64 + 4),
        t0 + 4,
    )
    .await
    .wire()
    .unwrap();
    let who = session_caller(&t, &done.session_token).await;
    let status = mfa::status(&t.state, &who).await.wire().unwrap();
    assert!(status.totp_enabled_at.is_some() && status.email_code_enabled_at.is_some());

    // Sign in with the app.
    let t1 = t0 + 120;
    let p = password_step(&t, email, t1).await;
    let o = second_step::sign_in_options(&t.state, Some(&p), t1)
        .await
        .wire()
        .unwrap();
    assert_eq!(
        o.methods,
        vec![Method::Totp, Method::Email, Method::Recovery]
    );
    assert_eq!(o.preferred, Method::Totp);
    second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&p),
        Method::Totp,
        &totp::code_at(&secret, t1 as u64),
        t1,
    )
    .await
    .wire()
    .unwrap();

    // Sign in with an email code; next time email comes first.
    let t2 = t1 + 60;
    let p = password_step(&t, email, t2).await;
    second_step::send_sign_in_code(&t.state, &caller(None), Some(&p), Channel::Email, t2)
        .await
        .wire()
        .unwrap();
    let code = code_from_mail(&t, email, SIGN_IN_SUBJECT, 1).await;
    let done = second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&p),
        Method::Email,
        &code,
        t2 + 5,
    )
    .await
    .wire()
    .unwrap();
    assert_eq!(done.signed_in.redirect_to, "/settings/security");
    let p = password_step(&t, email, t2 + 60).await;
    let o = second_step::sign_in_options(&t.state, Some(&p), t2 + 60)
        .await
        .wire()
        .unwrap();
    assert_eq!(o.preferred, Method::Email);
    // A code sent to sign in does not turn anything off, and the reverse: both codes
    // are live, each is refused where the other belongs.
    second_step::send_sign_in_code(&t.state, &caller(None), Some(&p), Channel::Email, t2 + 60)
        .await
        .wire()
        .unwrap();
    let sign_in_code = code_from_mail(&t, email, SIGN_IN_SUBJECT, 2).await;
    codes::request_code(
        &t.state,
        &who,
        CodePurpose::Disable,
        Channel::Email,
        t2 + 61,
    )
    .await
    .wire()
    .unwrap();
    let disable_code = code_from_mail(&t, email, "to turn off email codes", 1).await;
    if sign_in_code != disable_code {
        let e = codes::disable_email_code(&t.state, &who, &sign_in_code, t2 + 62)
            .await
            .wire()
            .unwrap_err();
        assert_eq!(e.for_field("code").as_deref(), Some("Invalid code"));
        let e = second_step::finish_second_step_with(
            &t.state,
            &caller(None),
            Some(&p),
            Method::Email,
            &disable_code,
            t2 + 63,
        )
        .await
        .wire()
        .unwrap_err();
        assert_eq!(e.for_field("code").as_deref(), Some("Invalid code"));
    }
    // Each still works for its own purpose.
    second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&p),
        Method::Email,
        &sign_in_code,
        t2 + 64,
    )
    .await
    .wire()
    .unwrap();
    codes::disable_email_code(&t.state, &who, &disable_code, t2 + 65)
        .await
        .wire()
        .unwrap();
}

#[tokio::test]
async fn an_identity_code_raced_is_accepted_once() {
    let t = app().await;
    let t0 = now();
    let email = "identityrace@example.com";
    let who = email_on(&t, email, t0).await;
    codes::request_identity_code(&t.state, &who, Method::Totp, t0 + 5)
        .await
        .wire()
        .unwrap();
    let code = code_from_mail(&t, email, "to confirm it is you", 1).await;
    // Nothing but the code's single use stands between these racing requests.
    let tries: Vec<_> = (0..5)
        .map(|_| {
            let (state, who, code) = (t.state.clone(), who.clone(), code.clone());
            tokio::spawn(async move {
                mfa::start_totp(&state, &who, "", &code, t0 + 6)
                    .await
                    .wire()
            })
        })
        .collect();
    let mut ok = 0;
    for one in tries {
        match one.await.unwrap() {
            Ok(_) => ok += 1,
            // The code was used already, or is gone by the time it is looked up.
            Err(e) => assert!(e.for_field("code").is_some(), "{e:?}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn wrong_codes_of_every_method_count_against_one_sign_in() {
    let t = app().await;
    let t0 = now();
    let email = "mixed@example.com";
    email_on(&t, email, t0).await;
    let p = password_step(&t, email, t0 + 10).await;
    second_step::send_sign_in_code(&t.state, &caller(None), Some(&p), Channel::Email, t0 + 10)
        .await
        .wire()
        .unwrap();
    let code = code_from_mail(&t, email, SIGN_IN_SUBJECT, 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // Three wrong "authenticator" codes (the app is off: refused as wrong) and two
    // wrong email codes, each from a fresh address so no throttle steps in.
    for (i, method) in [
        Method::Totp,
        Method::Totp,
        Method::Totp,
        Method::Email,
        Method::Email,
    ]
    .into_iter()
    .enumerate()
    {
        let mut from = caller(None);
        from.ip = format!("203.0.113.{}", 10 + i);
        let r =
            second_step::finish_second_step_with(&t.state, &from, Some(&p), method, wrong, t0 + 20)
                .await
                .wire();
        assert!(matches!(r, Err(ApiError::Invalid { .. })), "{i}: {r:?}");
    }
    let r = second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&p),
        Method::Email,
        &code,
        t0 + 200,
    )
    .await
    .wire();
    assert!(matches!(r, Err(ApiError::Unauthorized(_))), "{r:?}");
}

#[tokio::test]
async fn turning_email_codes_off_takes_the_code_sent_for_it() {
    let t = app().await;
    let t0 = now();
    let email = "off@example.com";
    let who = email_on(&t, email, t0).await;
    let sent = codes::request_code(&t.state, &who, CodePurpose::Disable, Channel::Email, t0 + 5)
        .await
        .wire()
        .unwrap();
    assert_eq!(sent.to, email);
    let code = code_from_mail(&t, email, "to turn off email codes", 1).await;
    let token = codes::disable_email_code(&t.state, &who, &code, t0 + 6)
        .await
        .wire()
        .unwrap();
    let who = session_caller(&t, &token).await;
    assert_eq!(
        mfa::status(&t.state, &who)
            .await
            .wire()
            .unwrap()
            .email_code_enabled_at,
        None
    );
    assert!(t.event_kinds().await.iter().any(|k| k == "mfa_disabled"));
    // Signing in needs only the password again.
    assert!(matches!(
        accounts::sign_in(&t.state, &caller(None), email, PASSWORD, None, t0 + 10)
            .await
            .wire()
            .unwrap(),
        accounts::SignInOutcome::Session { .. }
    ));
    // With it off, no code can be asked for to turn it off or to prove identity.
    assert!(codes::request_code(
        &t.state,
        &who,
        CodePurpose::Disable,
        Channel::Email,
        t0 + 100
    )
    .await
    .wire()
    .is_err());
    assert!(
        codes::request_identity_code(&t.state, &who, Method::Totp, t0 + 100)
            .await
            .wire()
            .is_err()
    );
}

#[tokio::test]
async fn with_the_app_on_email_codes_are_turned_on_with_an_app_code() {
    let t = app().await;
    let t0 = now();
    let email = "appfirst@example.com";
    let who = owner(&t, email, t0).await;
    let setup = mfa::start_totp(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let secret = data_encoding::BASE32_NOPAD
        .decode(setup.secret.replace(' ', "").as_bytes())
        .unwrap();
    let done = mfa::confirm_totp(&t.state, &who, &totp::code_at(&secret, t0 as u64), t0)
        .await
        .wire()
        .unwrap();
    let who = session_caller(&t, &done.session_token).await;
    // The password alone is not enough now.
    let e = codes::start_email_code(&t.state, &who, PASSWORD, "", t0 + 30)
        .await
        .wire()
        .unwrap_err();
    assert!(e.for_field("code").is_some(), "{e:?}");
    codes::start_email_code(
        &t.state,
        &who,
        "",
        &totp::code_at(&secret, t0 as u64 + 60),
        t0 + 60,
    )
    .await
    .wire()
    .unwrap();
    let code = code_from_mail(&t, email, ENABLE_SUBJECT, 1).await;
    codes::confirm_email_code(&t.state, &who, &code, t0 + 61)
        .await
        .wire()
        .unwrap();
}

/// The new password from a reset link, for `email`, through the real flows.
async fn reset_by_link(t: &TestApp, email: &str, new: &str, at: i64) {
    use latchkey::server::flows::password;
    password::request_reset(&t.state, &caller(None), email, at)
        .await
        .wire()
        .unwrap();
    let mail = t.mail_with_subject(email, "Reset your password").await;
    let start = mail.text_body.find("token=").unwrap() + "token=".len();
    let token = mail.text_body[start..].split_whitespace().next().unwrap();
    password::reset(&t.state, &caller(None), token, new, new, at + 1)
        .await
        .wire()
        .unwrap();
}

/// Issue 22 (high): the mailbox alone used to take over an account that has an
/// authenticator: reset the password by the emailed link, sign in, pick "Email code",
/// and the code went to the same mailbox. Now, after a reset by link, email codes wait
/// until a sign-in completes with another method (a recovery code counts).
#[tokio::test]
async fn after_a_reset_by_link_an_email_code_does_not_pass_the_second_step_while_the_app_is_on() {
    let t = app().await;
    let t0 = now();
    let email = "mailbox@example.com";
    let who = email_on(&t, email, t0).await;
    codes::request_identity_code(&t.state, &who, Method::Totp, t0 + 3)
        .await
        .wire()
        .unwrap();
    let identity = code_from_mail(&t, email, "to confirm it is you", 1).await;
    let setup = mfa::start_totp(&t.state, &who, "", &identity, t0 + 4)
        .await
        .wire()
        .unwrap();
    let secret = data_encoding::BASE32_NOPAD
        .decode(setup.secret.replace(' ', "").as_bytes())
        .unwrap();
    mfa::confirm_totp(
        &t.state,
        &who,
        &totp::code_at(&secret, t0 as u64 + 4),
        t0 + 4,
    )
    .await
    .wire()
    .unwrap();

    // Whoever holds the mailbox resets the password and signs in with it.
    let new = "Quartz-Meadow-93!";
    let t1 = t0 + 100;
    reset_by_link(&t, email, new, t1).await;
    let p = password_step_with(&t, email, new, t1 + 10).await;
    let o = second_step::sign_in_options(&t.state, Some(&p), t1 + 10)
        .await
        .wire()
        .unwrap();
    assert!(o.email_held);
    assert!(!o.methods.contains(&Method::Email), "{o:?}");
    assert!(o.methods.contains(&Method::Totp));
    // No code goes to the mailbox, and none is accepted from it.
    let e =
        second_step::send_sign_in_code(&t.state, &caller(None), Some(&p), Channel::Email, t1 + 11)
            .await
            .wire()
            .unwrap_err();
    assert!(matches!(e, ApiError::Forbidden(_)), "{e:?}");
    assert!(e.to_string().contains("reset by email link"), "{e}");
    let e = second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&p),
        Method::Email,
        "123456",
        t1 + 12,
    )
    .await
    .wire()
    .unwrap_err();
    assert!(matches!(e, ApiError::Forbidden(_)), "{e:?}");
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 0);

    // The owner signs in with the app: email codes count again from then on.
    let at = t1 + 60;
    second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&p),
        Method::Totp,
        &totp::code_at(&secret, at as u64),
        at,
    )
    .await
    .wire()
    .unwrap();
    let p = password_step_with(&t, email, new, t1 + 200).await;
    let o = second_step::sign_in_options(&t.state, Some(&p), t1 + 200)
        .await
        .wire()
        .unwrap();
    assert!(!o.email_held && o.methods.contains(&Method::Email), "{o:?}");
    second_step::send_sign_in_code(&t.state, &caller(None), Some(&p), Channel::Email, t1 + 201)
        .await
        .wire()
        .unwrap();
}

/// An account whose only method is Email Code keeps it after a reset by link: its
/// owner chose the mailbox.
#[tokio::test]
async fn after_a_reset_by_link_a_mailbox_only_account_still_signs_in_with_an_email_code() {
    let t = app().await;
    let t0 = now();
    let email = "only-mail@example.com";
    email_on(&t, email, t0).await;
    let new = "Quartz-Meadow-93!";
    reset_by_link(&t, email, new, t0 + 100).await;
    let p = match accounts::sign_in(&t.state, &caller(None), email, new, None, t0 + 110)
        .await
        .wire()
        .unwrap()
    {
        accounts::SignInOutcome::SecondFactor { pending_token } => pending_token,
        accounts::SignInOutcome::Session { .. } => panic!("expected the second step"),
    };
    let o = second_step::sign_in_options(&t.state, Some(&p), t0 + 110)
        .await
        .wire()
        .unwrap();
    assert!(!o.email_held && o.methods.contains(&Method::Email), "{o:?}");
    second_step::send_sign_in_code(&t.state, &caller(None), Some(&p), Channel::Email, t0 + 111)
        .await
        .wire()
        .unwrap();
    let code = code_from_mail(&t, email, SIGN_IN_SUBJECT, 1).await;
    second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&p),
        Method::Email,
        &code,
        t0 + 112,
    )
    .await
    .wire()
    .unwrap();
}

/// Issue 22 (ASVS 2.7.3): a code sent for one pending sign-in completes no other, not
/// even another pending sign-in of the same account (someone else who has the password
/// cannot use the owner's code).
#[tokio::test]
async fn a_sign_in_code_completes_only_the_sign_in_it_was_sent_for() {
    let t = app().await;
    let t0 = now();
    let email = "bound@example.com";
    email_on(&t, email, t0).await;
    let owners = password_step(&t, email, t0 + 10).await;
    let others = password_step(&t, email, t0 + 11).await;
    second_step::send_sign_in_code(
        &t.state,
        &caller(None),
        Some(&owners),
        Channel::Email,
        t0 + 12,
    )
    .await
    .wire()
    .unwrap();
    let code = code_from_mail(&t, email, SIGN_IN_SUBJECT, 1).await;
    let e = second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&others),
        Method::Email,
        &code,
        t0 + 13,
    )
    .await
    .wire()
    .unwrap_err();
    assert_eq!(e.for_field("code").as_deref(), Some("Invalid code"));
    second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&owners),
        Method::Email,
        &code,
        t0 + 14,
    )
    .await
    .wire()
    .unwrap();
}
