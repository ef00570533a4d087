//! SMS Code end to end on the server, against a local HTTP server that speaks the
//! Twilio Messages API (form fields To, From, Body; HTTP basic auth): turning it on for
//! a validated number, signing in with a texted code, turning it off, and a provider
//! that fails (nothing is turned on, no code is kept).

use crate::common;
use crate::common::Wire;
use crate::common::{app_with, TestApp, PASSWORD};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Router};
use latchkey::model::error::ApiError;
use latchkey::model::mfa::Method;
use latchkey::server::auth::Caller;
use latchkey::server::auth::{Principal, Session};
use latchkey::server::domain::sent_code::{Channel, CodePurpose};
use latchkey::server::domain::totp;
use latchkey::server::flows::{accounts, codes, mfa, second_step};
use latchkey::server::now;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One request the fake provider received.
#[derive(Clone, Debug)]
struct Texted {
    path: String,
    authorization: String,
    form: HashMap<String, String>,
}

type Inbox = Arc<Mutex<Vec<Texted>>>;

/// A Twilio-compatible provider on a free port; numbers ending in 999 get a 500.
async fn provider() -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    async fn receive(
        State(inbox): State<Inbox>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        Form(form): Form<HashMap<String, String>>,
    ) -> (StatusCode, &'static str) {
        let failing = form.get("To").is_some_and(|to| to.ends_with("999"));
        inbox.lock().unwrap().push(Texted {
            path: uri.path().to_string(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            form,
        });
        if failing {
            (StatusCode::INTERNAL_SERVER_ERROR, "{\"message\":\"down\"}")
        } else {
            (
                StatusCode::CREATED,
                "{\"sid\":\"SM1\",\"status\":\"queued\"}",
            )
        }
    }
    let app = Router::new()
        .route("/{*path}", post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, inbox)
}

async fn app_with_provider() -> (TestApp, Inbox) {
    let (url, inbox) = provider().await;
    let t = app_with(&[
        ("LATCHKEY_SMS_PROVIDER_URL", &url),
        ("LATCHKEY_SMS_ACCOUNT_SID", "ACtest0001"),
        ("LATCHKEY_SMS_AUTH_TOKEN", "token-not-in-logs"),
        ("LATCHKEY_SMS_FROM", "+15005550006"),
    ])
    .await;
    (t, inbox)
}

fn caller(session: Option<Session>) -> Caller {
    Caller {
        ip: "198.51.100.44".into(),
        user_agent: "Mozilla/5.0 (Android 14) Chrome/126.0 Mobile".into(),
        principal: session.map(Principal::Session),
        device_cookie: None,
    }
}

async fn session_caller(t: &TestApp, token: &str) -> Caller {
    t.session_caller(token, caller(None)).await
}

async fn owner(t: &TestApp, email: &str, at: i64) -> Caller {
    t.owner(email, at, caller(None)).await
}

/// The code in the newest text the provider got for `to` that says `reason`.
fn code_in(inbox: &Inbox, to: &str, reason: &str) -> String {
    let texts = inbox.lock().unwrap();
    let text = texts
        .iter()
        .rev()
        .find(|t| {
            t.form.get("To").map(String::as_str) == Some(to) && t.form["Body"].contains(reason)
        })
        .unwrap_or_else(|| panic!("no text \"{reason}\" to {to}: {texts:?}"));
    let body = &text.form["Body"];
    let start = body.find(" is ").expect("a code") + 4;
    body[start..start + 6].to_string()
}

#[tokio::test]
async fn sms_codes_turn_on_for_a_validated_number_and_sign_in() {
    let (t, inbox) = app_with_provider().await;
    let t0 = now();
    let email = "texts@example.com";
    let who = owner(&t, email, t0).await;

    // A number that cannot be dialled is refused before the password is looked at.
    let e = codes::start_sms_code(&t.state, &who, "Wrong-Password-1!", "", "12", "GB", t0)
        .await
        .wire()
        .unwrap_err();
    assert!(e.for_field("phone").is_some(), "{e:?}");
    assert!(inbox.lock().unwrap().is_empty());

    let sent = codes::start_sms_code(&t.state, &who, PASSWORD, "", "07400 123456", "GB", t0)
        .await
        .wire()
        .unwrap();
    assert_eq!(sent.to, "+44 •••• ••• 456");
    {
        let texts = inbox.lock().unwrap();
        assert_eq!(texts.len(), 1);
        let text = &texts[0];
        assert_eq!(text.path, "/2010-04-01/Accounts/ACtest0001/Messages.json");
        use base64::Engine;
        let expected =
            base64::engine::general_purpose::STANDARD.encode("ACtest0001:token-not-in-logs");
        assert_eq!(text.authorization, format!("Basic {expected}"));
        assert_eq!(text.form["To"], "+447400123456");
        assert_eq!(text.form["From"], "+15005550006");
        assert!(
            text.form["Body"].contains("to turn on SMS codes"),
            "{}",
            text.form["Body"]
        );
    }
    let code = code_in(&inbox, "+447400123456", "to turn on SMS codes");
    let token = codes::confirm_sms_code(&t.state, &who, &code, t0 + 5)
        .await
        .wire()
        .unwrap()
        .session_token;
    let who = session_caller(&t, &token).await;
    let status = mfa::status(&t.state, &who).await.wire().unwrap();
    assert_eq!(status.sms_enabled_at, Some(t0 + 5));
    assert_eq!(status.sms_number.as_deref(), Some("+44 •••• ••• 456"));
    assert!(status.sms_available);
    // The number is stored in E.164; the code only as a keyed hash.
    assert_eq!(
        t.count("SELECT COUNT(*) FROM code_methods WHERE channel = 'sms' AND destination = '+447400123456'")
            .await,
        1
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM sent_codes").await, 0);

    // Sign in: SMS is offered, never chosen by default over nothing else, and works.
    let p = match accounts::sign_in(&t.state, &caller(None), email, PASSWORD, None, t0 + 60)
        .await
        .wire()
        .unwrap()
    {
        accounts::SignInOutcome::SecondFactor { pending_token } => pending_token,
        _ => panic!("expected the second step"),
    };
    let options = second_step::sign_in_options(&t.state, Some(&p), t0 + 60)
        .await
        .wire()
        .unwrap();
    assert_eq!(options.methods, vec![Method::Sms, Method::Recovery]);
    let sent =
        second_step::send_sign_in_code(&t.state, &caller(None), Some(&p), Channel::Sms, t0 + 60)
            .await
            .wire()
            .unwrap();
    assert_eq!(sent.to, "+44 •••• ••• 456");
    let code = code_in(&inbox, "+447400123456", "to sign in");
    second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&p),
        Method::Sms,
        &code,
        t0 + 61,
    )
    .await
    .wire()
    .unwrap();

    // Turning it off takes the code texted for that.
    codes::request_code(&t.state, &who, CodePurpose::Disable, Channel::Sms, t0 + 70)
        .await
        .wire()
        .unwrap();
    let code = code_in(&inbox, "+447400123456", "to turn off SMS codes");
    codes::disable_sms_code(&t.state, &who, &code, t0 + 71)
        .await
        .wire()
        .unwrap();
    // Neither the auth token nor any texted code reaches the security log.
    let logged: Vec<String> = latchkey::server::store::events::all(&t.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {} {}", e.kind, e.detail, e.user_agent))
        .collect();
    let texted: Vec<String> = inbox
        .lock()
        .unwrap()
        .iter()
        .map(|t| {
            let body = &t.form["Body"];
            let start = body.find(" is ").unwrap() + 4;
            body[start..start + 6].to_string()
        })
        .collect();
    assert_eq!(texted.len(), 3);
    for line in &logged {
        assert!(!line.contains("token-not-in-logs"), "{line}");
        for code in &texted {
            assert!(!line.contains(code.as_str()), "code {code} in {line}");
        }
    }
    assert!(logged.iter().any(|l| l.starts_with("mfa_disabled")));
}

#[tokio::test]
async fn a_provider_that_fails_leaves_the_method_off_and_no_code_kept() {
    let (t, inbox) = app_with_provider().await;
    let t0 = now();
    let who = owner(&t, "down@example.com", t0).await;
    let e = codes::start_sms_code(&t.state, &who, PASSWORD, "", "+44 7400 123999", "", t0)
        .await
        .wire()
        .unwrap_err();
    assert!(
        matches!(&e, ApiError::Unavailable(m) if m.contains("could not send")),
        "{e:?}"
    );
    assert_eq!(e.status(), 503);
    assert_eq!(inbox.lock().unwrap().len(), 1, "the provider was asked");
    assert_eq!(t.count("SELECT COUNT(*) FROM sent_codes").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) FROM code_methods").await, 0);
    assert!(t.event_kinds().await.iter().any(|k| k == "sms_send_failed"));
    // Nothing to resend, nothing to confirm: start again.
    let e = codes::request_code(&t.state, &who, CodePurpose::Enable, Channel::Sms, t0 + 1)
        .await
        .wire()
        .unwrap_err();
    assert_eq!(
        e,
        ApiError::invalid("Start again: choose Enable and confirm it is you.")
    );
    let e = codes::confirm_sms_code(&t.state, &who, "123456", t0 + 1)
        .await
        .wire()
        .unwrap_err();
    assert_eq!(
        e.for_field("code").as_deref(),
        Some("No code is waiting. Choose Request Code to get one.")
    );
    // No code was kept, so no resend interval runs: a working number goes at once
    // (the failed send still counts against the hourly limits).
    codes::start_sms_code(&t.state, &who, PASSWORD, "", "+44 7400 123456", "", t0 + 2)
        .await
        .wire()
        .unwrap();
}

#[tokio::test]
async fn a_provider_failure_answers_503_with_a_clear_message_over_http() {
    let (t, _inbox) = app_with_provider().await;
    t.sign_up_verified("http503@example.com", PASSWORD).await;
    let cookie = t
        .sign_in("http503@example.com", PASSWORD)
        .await
        .session_cookie();
    let r = t
        .call(
            "start_sms_code",
            &[
                ("password", PASSWORD),
                ("code", ""),
                ("phone", "+44 7400 123999"),
                ("country", "GB"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(
        r.body.contains("We could not send the text message"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn without_a_provider_texts_go_to_the_development_outbox_and_production_offers_no_sms() {
    let t = common::app().await;
    let t0 = now();
    let who = owner(&t, "devtexts@example.com", t0).await;
    assert!(
        mfa::status(&t.state, &who)
            .await
            .wire()
            .unwrap()
            .sms_available
    );
    codes::start_sms_code(&t.state, &who, PASSWORD, "", "07400 123456", "", t0)
        .await
        .wire()
        .unwrap();
    let page = t.get("/dev/mail", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Text message (SMS)"), "{}", page.body);
    assert!(page.body.contains("+447400123456"));
    assert!(page.body.contains("to turn on SMS codes"));

    let prod = app_with(&[
        ("LATCHKEY_SERVER_MODE", "production"),
        ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
    ])
    .await;
    assert!(prod.state.sms.is_none());
    assert!(matches!(
        prod.state.config.sms.transport,
        latchkey::server::config::SmsTransport::Off
    ));
}

#[tokio::test]
async fn a_code_texted_to_one_number_never_turns_sms_on_for_another() {
    let (t, inbox) = app_with_provider().await;
    let t0 = now();
    let who = owner(&t, "swap@example.com", t0).await;
    codes::start_sms_code(&t.state, &who, PASSWORD, "", "+44 7400 123456", "", t0)
        .await
        .wire()
        .unwrap();
    let first = code_in(&inbox, "+447400123456", "to turn on SMS codes");
    // Past the interval, the owner starts again with another number.
    codes::start_sms_code(&t.state, &who, PASSWORD, "", "+44 7400 654321", "", t0 + 61)
        .await
        .wire()
        .unwrap();
    let second = code_in(&inbox, "+447400654321", "to turn on SMS codes");
    if first != second {
        let e = codes::confirm_sms_code(&t.state, &who, &first, t0 + 62)
            .await
            .wire()
            .unwrap_err();
        assert_eq!(e.for_field("code").as_deref(), Some("Invalid code"));
    }
    let token = codes::confirm_sms_code(&t.state, &who, &second, t0 + 63)
        .await
        .wire()
        .unwrap()
        .session_token;
    let who = session_caller(&t, &token).await;
    assert_eq!(
        mfa::status(&t.state, &who)
            .await
            .wire()
            .unwrap()
            .sms_number
            .as_deref(),
        Some("+44 •••• ••• 321")
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM code_methods WHERE destination = '+447400654321'")
            .await,
        1
    );
}

/// Issue 22: the notice after turning the app off is worded from the methods left on.
/// It used to look only at Email Code, and told an owner with SMS Code on that
/// signing in "now needs only your password".
#[tokio::test]
async fn turning_the_app_off_with_sms_on_says_sign_in_still_asks_for_an_sms_code() {
    let (t, inbox) = app_with_provider().await;
    let t0 = now();
    let email = "both@example.com";
    let who = owner(&t, email, t0).await;
    codes::start_sms_code(&t.state, &who, PASSWORD, "", "07400 123456", "GB", t0)
        .await
        .wire()
        .unwrap();
    let code = code_in(&inbox, "+447400123456", "to turn on SMS codes");
    let token = codes::confirm_sms_code(&t.state, &who, &code, t0 + 5)
        .await
        .wire()
        .unwrap()
        .session_token;
    let who = session_caller(&t, &token).await;
    // With SMS on, adding the app asks for the password.
    let setup = mfa::start_totp(&t.state, &who, PASSWORD, "", t0 + 10)
        .await
        .wire()
        .unwrap();
    let secret = data_encoding::BASE32_NOPAD
        .decode(setup.secret.replace(' ', "").as_bytes())
        .unwrap();
    let at = t0 + 40;
    let enabled = mfa::confirm_totp(&t.state, &who, &totp::code_at(&secret, at as u64), at)
        .await
        .wire()
        .unwrap();
    let who = session_caller(&t, &enabled.session_token).await;
    let at = at + 30;
    mfa::disable_totp(&t.state, &who, &totp::code_at(&secret, at as u64), at)
        .await
        .wire()
        .unwrap();
    let notice = t
        .mail_with_subject(email, "Authenticator app disabled")
        .await;
    assert!(
        notice
            .text_body
            .contains("signing in still asks for a code sent by SMS"),
        "{}",
        notice.text_body
    );
    assert!(!notice.text_body.contains("needs only your password"));
}

/// Issue 22 (SMS toll fraud): only mobile numbers, of the countries the operator
/// texts, are accepted; nothing is sent to any other.
#[tokio::test]
async fn only_mobile_numbers_of_allowed_countries_get_texts() {
    use latchkey::server::domain::phone::{NOT_MOBILE, NOT_OFFERED};
    let (t, inbox) = app_with_provider().await;
    let t0 = now();
    let who = owner(&t, "tollfraud@example.com", t0).await;
    for (number, country, why) in [
        ("020 7946 0018", "GB", NOT_MOBILE),   // a London landline
        ("0909 8790000", "GB", NOT_MOBILE),    // premium rate
        ("+7 912 345 67 89", "", NOT_OFFERED), // not in the default list
    ] {
        let e = codes::start_sms_code(&t.state, &who, PASSWORD, "", number, country, t0)
            .await
            .wire()
            .unwrap_err();
        assert_eq!(e.for_field("phone").as_deref(), Some(why), "{number}");
    }
    assert!(inbox.lock().unwrap().is_empty());
    // The operator texts the UK only.
    let (url, _) = provider().await;
    let uk = app_with(&[
        ("LATCHKEY_SMS_PROVIDER_URL", &url),
        ("LATCHKEY_SMS_ACCOUNT_SID", "ACtest0001"),
        ("LATCHKEY_SMS_AUTH_TOKEN", "token-not-in-logs"),
        ("LATCHKEY_SMS_FROM", "+15005550006"),
        ("LATCHKEY_SMS_COUNTRIES", "GB"),
    ])
    .await;
    let who = uk.owner("uk@example.com", t0, caller(None)).await;
    let e = codes::start_sms_code(&uk.state, &who, PASSWORD, "", "+1 201 555 0123", "", t0)
        .await
        .wire()
        .unwrap_err();
    assert_eq!(e.for_field("phone").as_deref(), Some(NOT_OFFERED));
    let status = mfa::status(&uk.state, &who).await.wire().unwrap();
    assert_eq!(status.sms_countries, ["GB"]);
}

/// Issue 22 (SMS toll fraud): the whole server's texts are capped per hour; past the
/// cap, sending answers 503 and nothing goes out, whoever asks, even all at once.
#[tokio::test]
async fn the_servers_hourly_sms_budget_holds_under_parallel_sends() {
    let (url, inbox) = provider().await;
    let t = app_with(&[
        ("LATCHKEY_SMS_PROVIDER_URL", &url),
        ("LATCHKEY_SMS_ACCOUNT_SID", "ACtest0001"),
        ("LATCHKEY_SMS_AUTH_TOKEN", "token-not-in-logs"),
        ("LATCHKEY_SMS_FROM", "+15005550006"),
        ("LATCHKEY_SMS_MAX_PER_HOUR", "3"),
    ])
    .await;
    let t0 = now();
    let mut owners = Vec::new();
    for i in 0..6 {
        owners.push(owner(&t, &format!("budget{i}@example.com"), t0).await);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(owners.len()));
    let tasks: Vec<_> = owners
        .into_iter()
        .enumerate()
        .map(|(i, who)| {
            let state = t.state.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let number = format!("+44 7400 1234{:02}", 50 + i);
                codes::start_sms_code(&state, &who, PASSWORD, "", &number, "", t0 + 1)
                    .await
                    .wire()
            })
        })
        .collect();
    let mut sent = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => sent += 1,
            Err(ApiError::Unavailable(m)) => {
                assert!(m.contains("Try again later"), "{m}");
                refused += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((sent, refused), (3, 3));
    assert_eq!(inbox.lock().unwrap().len(), 3);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM security_events WHERE detail LIKE '%sms_budget%'")
            .await,
        3
    );
}
