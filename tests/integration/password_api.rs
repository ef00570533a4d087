//! Password change, forgot and reset, through the real router and server functions.

use crate::common;
use crate::common::Wire;
use crate::common::{app, reset_token, TestApp, PASSWORD};
use axum::http::StatusCode;
use latchkey::server::auth::Caller;
use latchkey::server::flows::password;
use latchkey::server::now;

const NEW_PASSWORD: &str = "Copper-Lantern-77?";

async fn account(t: &TestApp, email: &str) -> String {
    t.sign_up(email, PASSWORD).await;
    t.sign_in(email, PASSWORD).await.session_cookie()
}

async fn change(
    t: &TestApp,
    cookie: &str,
    current: &str,
    new: &str,
    repeat: &str,
) -> common::Reply {
    t.call(
        "change_password",
        &[
            ("current_password", current),
            ("new_password", new),
            ("new_password_repeat", repeat),
        ],
        Some(cookie),
    )
    .await
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_renews_this_one() {
    let t = app().await;
    let here = account(&t, "mover@example.com").await;
    let elsewhere = t
        .sign_in("mover@example.com", PASSWORD)
        .await
        .session_cookie();
    let overview = t.call("password_overview", &[], Some(&here)).await.json();
    assert_eq!(overview["changed_at"], serde_json::Value::Null);

    let r = change(&t, &here, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let renewed = r.session_cookie();
    assert_ne!(renewed, here, "a new session id after the change");
    // The other device and the old id are signed out; the renewed session works.
    assert_eq!(
        t.call("current_account", &[], Some(&elsewhere))
            .await
            .json(),
        serde_json::Value::Null
    );
    assert_eq!(
        t.call("current_account", &[], Some(&here)).await.json(),
        serde_json::Value::Null
    );
    assert_eq!(
        t.call("current_account", &[], Some(&renewed)).await.json()["email"],
        "mover@example.com"
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 1);

    let overview = t
        .call("password_overview", &[], Some(&renewed))
        .await
        .json();
    assert!((overview["changed_at"].as_i64().unwrap() - now()).abs() < 60);

    assert_eq!(
        t.sign_in("mover@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.sign_in("mover@example.com", NEW_PASSWORD).await.status,
        StatusCode::OK
    );

    let mail = t
        .mail_to("mover@example.com", 2)
        .await
        .into_iter()
        .find(|m| m.subject == "Your password was changed")
        .unwrap();
    assert!(mail.text_body.contains("203.0.113.7"), "{}", mail.text_body);
    assert!(mail.text_body.contains("If this was not you"));
    assert!(!mail.text_body.contains(NEW_PASSWORD));
    let events = latchkey::server::store::events::all(&t.state.db)
        .await
        .unwrap();
    let changed = events
        .iter()
        .find(|e| e.kind == "password_changed")
        .unwrap();
    assert_eq!(changed.detail, r#"{"other_sessions_ended":1}"#);
}

#[tokio::test]
async fn change_errors_name_their_field_and_change_nothing() {
    let t = app().await;
    let c = account(&t, "careful@example.com").await;
    let cases = [
        (
            "Not-My-Password-1!",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "current_password",
        ),
        (PASSWORD, "short", "short", "new_password"),
        (
            PASSWORD,
            NEW_PASSWORD,
            "Copper-Lantern-78?",
            "new_password_repeat",
        ),
        (PASSWORD, PASSWORD, PASSWORD, "new_password"),
        ("", NEW_PASSWORD, NEW_PASSWORD, "current_password"),
    ];
    for (current, new, repeat, field) in cases {
        let r = change(&t, &c, current, new, repeat).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.body);
        assert_eq!(r.json()["Invalid"]["field"], field, "{}", r.body);
    }
    // Several problems at once come back together, in the form's order, every rule
    // the new password breaks in one message.
    let r = change(&t, &c, "", "abc", "abd").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let fields = r.json()["Fields"].clone();
    let names: Vec<&str> = fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[0].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["current_password", "new_password", "new_password_repeat"]
    );
    let new_message = fields[1][1].as_str().unwrap();
    for part in [
        "Use at least 12 characters.",
        "Add an uppercase letter.",
        "Add a number.",
        "too easy to guess",
    ] {
        assert!(new_message.contains(part), "{part} in {new_message}");
    }
    assert_eq!(
        t.count("SELECT COUNT(*) FROM users WHERE password_changed_at IS NOT NULL")
            .await,
        0
    );
    // Signed out: refused.
    assert_eq!(
        change(
            &t,
            "latchkey_session=x",
            PASSWORD,
            NEW_PASSWORD,
            NEW_PASSWORD
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_sign_in() {
    let t = app().await;
    let c = account(&t, "guess@example.com").await;
    for _ in 0..5 {
        assert_eq!(
            change(&t, &c, "Wrong-Guess-12345!", NEW_PASSWORD, NEW_PASSWORD)
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
    }
    let r = change(&t, &c, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(
        t.event_kinds()
            .await
            .iter()
            .filter(|k| *k == "password_change_failed")
            .count(),
        6
    );
}

#[tokio::test]
async fn the_rotation_reminder_follows_the_setting() {
    let t = app().await;
    account(&t, "old@example.com").await;
    let cookie = t
        .sign_in("old@example.com", PASSWORD)
        .await
        .session_cookie();
    let session = latchkey::server::store::sessions::by_token_hash(
        &t.state.db,
        &t.state.keys.hash(
            latchkey::server::domain::tokens::Purpose::Session,
            cookie.split('=').nth(1).unwrap(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let caller = Caller {
        ip: "198.51.100.2".into(),
        user_agent: "test".into(),
        principal: Some(latchkey::server::auth::Principal::Session(
            latchkey::server::auth::Session::from(session),
        )),
        device_cookie: None,
    };
    assert!(
        !password::overview(&t.state, &caller, now())
            .await
            .wire()
            .unwrap()
            .rotation_due
    );
    assert!(
        password::overview(&t.state, &caller, now() + 182 * 86_400)
            .await
            .wire()
            .unwrap()
            .rotation_due
    );
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_unknown_accounts() {
    let t = app().await;
    t.sign_up("known@example.com", PASSWORD).await;
    let started = std::time::Instant::now();
    let known = t
        .call(
            "request_password_reset",
            &[("email", "known@example.com")],
            None,
        )
        .await;
    let known_time = started.elapsed();
    let started = std::time::Instant::now();
    let unknown = t
        .call(
            "request_password_reset",
            &[("email", "unknown@example.com")],
            None,
        )
        .await;
    let unknown_time = started.elapsed();
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        known.body.replace("known@", "X@"),
        unknown.body.replace("unknown@", "X@")
    );
    // Both wait for the same floor, so neither is quicker.
    assert!(known_time >= std::time::Duration::from_millis(400));
    assert!(unknown_time >= std::time::Duration::from_millis(400));
    t.mail_with_subject("known@example.com", "Reset your password")
        .await;
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE to_addr = 'unknown@example.com'")
            .await,
        0
    );
    // The log keeps a keyed hash of the unknown address, not the address.
    assert_eq!(
        t.count("SELECT COUNT(*) FROM security_events WHERE detail LIKE '%unknown_account%' AND detail LIKE '%email_hash%'")
            .await,
        1
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM security_events WHERE detail LIKE '%unknown@%'")
            .await,
        0
    );
    // Malformed input is still a clear 400.
    assert_eq!(
        t.call("request_password_reset", &[("email", "nope")], None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_reset_link_works_once_ends_every_session_and_signs_nobody_in() {
    let t = app().await;
    let cookie = account(&t, "lost@example.com").await;
    t.call(
        "request_password_reset",
        &[("email", "lost@example.com")],
        None,
    )
    .await;
    let mail = t
        .mail_to("lost@example.com", 2)
        .await
        .into_iter()
        .find(|m| m.subject == "Reset your password")
        .unwrap();
    let token = reset_token(&mail);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM email_tokens WHERE CAST(token_hash AS TEXT) = '{token}'"
        ))
        .await,
        0
    );

    assert_eq!(
        t.call("check_reset_link", &[("token", &token)], None)
            .await
            .status,
        StatusCode::OK
    );
    let form = [
        ("token", token.as_str()),
        ("new_password", NEW_PASSWORD),
        ("new_password_repeat", NEW_PASSWORD),
    ];
    let r = t.call("reset_password", &form, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Only the device cookie (the sign-in that follows from this browser is no news).
    assert!(
        !r.headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("latchkey_session=")),
        "a reset signs nobody in"
    );
    assert_eq!(
        t.call("current_account", &[], Some(&cookie)).await.json(),
        serde_json::Value::Null
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 0);

    let again = t.call("reset_password", &form, None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already been used"), "{}", again.body);
    assert!(t
        .call("check_reset_link", &[("token", &token)], None)
        .await
        .body
        .contains("already been used"));

    assert_eq!(
        t.sign_in("lost@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.sign_in("lost@example.com", NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    t.mail_with_subject("lost@example.com", "Your password was reset")
        .await;
    assert!(t
        .event_kinds()
        .await
        .contains(&"password_reset".to_string()));
}

#[tokio::test]
async fn reset_links_expire_forged_ones_fail_and_older_ones_retire() {
    let t = app().await;
    t.sign_up("twice@example.com", PASSWORD).await;
    t.call(
        "request_password_reset",
        &[("email", "twice@example.com")],
        None,
    )
    .await;
    t.call(
        "request_password_reset",
        &[("email", "twice@example.com")],
        None,
    )
    .await;
    let mails: Vec<_> = t
        .mail_to("twice@example.com", 3)
        .await
        .into_iter()
        .filter(|m| m.subject == "Reset your password")
        .collect();
    let (newer, older) = (reset_token(&mails[0]), reset_token(&mails[1]));

    let err = password::check_reset_link(&t.state, &newer, now() + 3601)
        .await
        .wire()
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    let forged = t
        .call("check_reset_link", &[("token", &"B".repeat(43))], None)
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert!(forged.body.contains("not valid"));

    let form = [
        ("token", newer.as_str()),
        ("new_password", NEW_PASSWORD),
        ("new_password_repeat", NEW_PASSWORD),
    ];
    assert_eq!(
        t.call("reset_password", &form, None).await.status,
        StatusCode::OK
    );
    // The older link was retired by the reset.
    let r = t.call("check_reset_link", &[("token", &older)], None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn strength_estimates_come_from_the_server() {
    let t = app().await;
    let weak = t
        .call("password_strength", &[("password", "password1")], None)
        .await;
    // On the common list (compared in lower case), so the checklist can say so.
    assert_eq!(
        weak.json(),
        serde_json::json!({"strength": 0, "common": true})
    );
    let listed = t
        .call("password_strength", &[("password", "QWERTYUIOP")], None)
        .await;
    assert_eq!(listed.json()["common"], serde_json::json!(true));
    let strong = t
        .call(
            "password_strength",
            &[("password", "vT9#qLm2$Rz8!wXk")],
            None,
        )
        .await;
    assert_eq!(
        strong.json(),
        serde_json::json!({"strength": 4, "common": false})
    );
}

#[tokio::test]
async fn only_the_first_64_characters_are_estimated() {
    let t = app().await;
    // Weak at the start, strong only after character 64: judged on the weak part.
    let tail = "vT9#qLm2$Rz8!wXk".repeat(4);
    let padded = format!("{}{tail}", "a".repeat(64));
    let r = t
        .call("password_strength", &[("password", &padded)], None)
        .await;
    assert_eq!(r.json()["strength"], serde_json::json!(0), "{}", r.body);
    let r = t
        .call("password_strength", &[("password", &tail)], None)
        .await;
    assert_eq!(r.json()["strength"], serde_json::json!(4), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn strength_estimates_are_limited_per_address_even_in_parallel() {
    use latchkey::server::domain::throttle::PASSWORD_STRENGTH_IP;
    let t = app().await;
    let n = PASSWORD_STRENGTH_IP.free as usize + 20;
    let replies = t
        .call_parallel(
            n,
            "password_strength",
            &[("password", "Some-Words-Here-1")],
            None,
        )
        .await;
    let answered = common::count_status(&replies, StatusCode::OK);
    let refused = common::count_status(&replies, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        (answered, refused),
        (PASSWORD_STRENGTH_IP.free as usize, 20)
    );
}

/// Issue 22: a request in flight from a session that another device has just revoked
/// cannot go on to change the password, nor sign that other device out: the change
/// of credentials finds its caller's session gone and undoes everything.
#[tokio::test]
async fn a_revoked_session_in_flight_cannot_change_the_password_or_end_other_sessions() {
    use latchkey::server::flows::{accounts, sessions};
    let t = app().await;
    let t0 = now();
    let base = Caller::new("198.51.100.7", "test", None);
    let stale = t.owner("revoked@example.com", t0, base.clone()).await;
    let other = match accounts::sign_in(
        &t.state,
        &base,
        "revoked@example.com",
        PASSWORD,
        None,
        t0 + 1,
    )
    .await
    .wire()
    .unwrap()
    {
        accounts::SignInOutcome::Session { token, .. } => {
            t.session_caller(&token, base.clone()).await
        }
        _ => panic!("expected a session"),
    };
    // The other device revokes the first session while its request is on the way.
    sessions::revoke(
        &t.state,
        &other,
        stale.session().unwrap().session_id,
        None,
        t0 + 2,
    )
    .await
    .wire()
    .unwrap();
    let Err(e) = password::change(
        &t.state,
        &stale,
        PASSWORD,
        NEW_PASSWORD,
        NEW_PASSWORD,
        t0 + 3,
    )
    .await
    .wire() else {
        panic!("a revoked session changed the password");
    };
    assert!(
        matches!(e, latchkey::model::error::ApiError::Unauthorized(_)),
        "{e:?}"
    );
    // The device that revoked it is still signed in, and the password is the old one.
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(
        t.sign_in("revoked@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    assert!(!t
        .event_kinds()
        .await
        .contains(&"password_changed".to_string()));
}

/// Issue 22: a sign-in whose password hash was under way while the password was reset
/// stores no session (nor a pending second step): what follows a correct password is
/// bound to the credentials it checked. (`password_accepted` is the part of sign-in
/// after the hash; the account is the row read before it.)
#[tokio::test]
async fn a_sign_in_in_flight_during_a_reset_gets_no_session() {
    use latchkey::server::flows::accounts;
    let t = app().await;
    let email = "inflight@example.com";
    t.sign_up_verified(email, PASSWORD).await;
    let before = latchkey::server::store::users::by_email(&t.state.db, email)
        .await
        .unwrap()
        .unwrap();
    // The reset, by its emailed link, while that sign-in's hash runs.
    let at = now();
    password::request_reset(&t.state, &Caller::default(), email, at)
        .await
        .wire()
        .unwrap();
    let mail = t.mail_with_subject(email, "Reset your password").await;
    let token = reset_token(&mail);
    password::reset(
        &t.state,
        &Caller::default(),
        &token,
        NEW_PASSWORD,
        NEW_PASSWORD,
        at + 1,
    )
    .await
    .wire()
    .unwrap();
    let caller = Caller::new("198.51.100.9", "test", None);
    let late = accounts::password_accepted(&t.state, &caller, &before, None, None, at + 2)
        .await
        .wire();
    assert!(
        matches!(late, Err(latchkey::model::error::ApiError::Unauthorized(_))),
        "a sign-in with the old password went through"
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) FROM pending_sign_ins").await, 0);
    // With the account as it is now, the same step stores the session.
    let current = latchkey::server::store::users::by_email(&t.state.db, email)
        .await
        .unwrap()
        .unwrap();
    assert!(
        accounts::password_accepted(&t.state, &caller, &current, None, None, at + 3)
            .await
            .is_ok()
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 1);
}

/// Issue 22: a reset judges the new password's strength knowing the account's address,
/// as sign-up and change do (it used to judge it as if the account had none).
#[tokio::test]
async fn a_reset_judges_strength_knowing_the_accounts_address() {
    use latchkey::server::domain::strength::estimate;
    let email = "zephyrine.quillfeather@example.com";
    let candidate = "zephyrinequillfeather";
    // A policy of length and strength only (seed 001's), so strength alone decides.
    let t = common::app_with(&[
        ("LATCHKEY_PASSWORD_REQUIRE_UPPERCASE", "false"),
        ("LATCHKEY_PASSWORD_REQUIRE_DIGIT", "false"),
        ("LATCHKEY_PASSWORD_REQUIRE_SPECIAL", "false"),
    ])
    .await;
    let policy = &t.state.config.password.policy;
    // The premise: the policy takes it from an account without that address, and
    // finds it too weak for this one.
    let judged = |inputs: &[&str]| {
        policy.problems(
            candidate,
            latchkey::model::password::PasswordEstimate {
                strength: estimate(candidate, inputs, 64),
                common: false,
            },
        )
    };
    assert!(judged(&[]).is_empty(), "premise: {:?}", judged(&[]));
    assert!(
        !judged(&[email, "zephyrine", "quillfeather"]).is_empty(),
        "premise"
    );
    t.sign_up_verified(email, PASSWORD).await;
    let at = now();
    password::request_reset(&t.state, &Caller::default(), email, at)
        .await
        .wire()
        .unwrap();
    let token = reset_token(&t.mail_with_subject(email, "Reset your password").await);
    let e = password::reset(
        &t.state,
        &Caller::default(),
        &token,
        candidate,
        candidate,
        at + 1,
    )
    .await
    .wire()
    .unwrap_err();
    assert!(e.for_field("new_password").is_some(), "{e:?}");
    // The link still works for a better password.
    password::reset(
        &t.state,
        &Caller::default(),
        &token,
        NEW_PASSWORD,
        NEW_PASSWORD,
        at + 2,
    )
    .await
    .wire()
    .unwrap();
}
