//! Server-function tests: the real router, middleware and server functions against a
//! temporary SQLite database.

use crate::common;
use crate::common::Wire;
use crate::common::{app, app_with, TestApp, PASSWORD};
use axum::http::StatusCode;
use latchkey::server::auth::Caller;
use latchkey::server::flows::accounts;
use latchkey::server::now;

#[tokio::test]
async fn sign_up_verify_and_sign_in() {
    let t = app().await;
    let r = t.sign_up("Ada@Example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["email"], "ada@example.com");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NULL")
            .await,
        1
    );

    // Only the keyed hash of the link is stored.
    let token = t.verification_token("ada@example.com").await;
    // The token rides in the fragment, which no browser sends to a server or a proxy.
    let mail = &t.mail_to("ada@example.com", 1).await[0];
    assert!(
        mail.text_body
            .contains(&format!("/verify-email#token={token}")),
        "{}",
        mail.text_body
    );
    assert!(!mail.text_body.contains("?token="));
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM email_tokens WHERE CAST(token_hash AS TEXT) = '{token}'"
        ))
        .await,
        0
    );

    let r = t.call("verify_email", &[("token", &token)], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), serde_json::json!("Verified"));
    // Single use: the second time it only says it is already verified, and changes nothing.
    let r = t.call("verify_email", &[("token", &token)], None).await;
    assert_eq!(r.json(), serde_json::json!("AlreadyVerified"));

    let r = t.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["redirect_to"], "/settings/security");
    let set = r.set_cookie().unwrap();
    assert!(set.starts_with("latchkey_session="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    let cookie = r.session_cookie();

    let me = t.call("current_account", &[], Some(&cookie)).await;
    assert_eq!(me.json()["email"], "ada@example.com");
    assert_eq!(me.json()["email_verified"], true);

    // The session token is stored only as a hash.
    let token = cookie.split('=').nth(1).unwrap();
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE CAST(token_hash AS TEXT) = '{token}'"
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn sign_up_with_an_existing_email_answers_the_same_and_tells_the_owner() {
    let t = app().await;
    let first = t.sign_up("owner@example.com", PASSWORD).await;
    let second = t.sign_up("OWNER@example.com", "Totally-Different-9?").await;
    assert_eq!(first.status, second.status);
    assert_eq!(first.body, second.body);
    assert_eq!(t.count("SELECT COUNT(*) FROM users").await, 1);
    let mails = t.mail_to("owner@example.com", 2).await;
    assert!(mails
        .iter()
        .any(|m| m.subject == "Someone tried to sign up with your email"));
    // The password was not changed by the second attempt.
    assert_eq!(
        t.sign_in("owner@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    assert!(t
        .event_kinds()
        .await
        .contains(&"sign_up_existing_email".to_string()));
}

#[tokio::test]
async fn wrong_password_and_unknown_account_get_the_same_generic_401() {
    let t = app().await;
    t.sign_up("grace@example.com", PASSWORD).await;
    let wrong = t.sign_in("grace@example.com", "Wrong-Password-1!").await;
    let unknown = t.sign_in("nobody@example.com", "Wrong-Password-1!").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.body.contains("Invalid email or password"));
    assert!(wrong.set_cookie().is_none());
    // The log notes the probe of an unknown address by a keyed hash, never the address.
    t.sign_in("nobody@example.com", "Wrong-Password-2!").await;
    let details: Vec<serde_json::Value> = latchkey::server::store::events::all(&t.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.detail.contains("unknown_account"))
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert_eq!(details.len(), 2);
    assert!(details.iter().all(|d| !d.to_string().contains("nobody")));
    let hash = details[0]["email_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 32);
    assert_eq!(
        details[1]["email_hash"].as_str(),
        Some(hash),
        "the same address, the same value"
    );
}

#[tokio::test]
async fn bad_input_gets_a_4xx_with_the_field_and_writes_nothing() {
    let t = app().await;
    let cases: Vec<(&str, &str, &str, &str)> = vec![
        ("", PASSWORD, PASSWORD, "email"),
        ("not-an-email", PASSWORD, PASSWORD, "email"),
        (
            "x'); DROP TABLE users;--@example.com",
            PASSWORD,
            PASSWORD,
            "email",
        ),
        (
            "<img src=x onerror=alert(1)>@example.com",
            PASSWORD,
            PASSWORD,
            "email",
        ),
        ("ok@example.com", "", "", "password"),
        ("ok@example.com", "short1A!", "short1A!", "password"),
        ("ok@example.com", "password", "password", "password"),
        (
            "ok@example.com",
            PASSWORD,
            "Different-Pass-1!",
            "password_repeat",
        ),
    ];
    for (email, password, repeat, field) in cases {
        let r = t
            .call(
                "sign_up",
                &[
                    ("email", email),
                    ("password", password),
                    ("password_repeat", repeat),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{email:?}: {}", r.body);
        assert_eq!(r.json()["Invalid"]["field"], field, "{email:?}: {}", r.body);
    }
    // A 10 KB password is refused before hashing, on sign-up and sign-in alike.
    let huge = "A1!a".repeat(2560);
    let started = std::time::Instant::now();
    let r = t.sign_up("big@example.com", &huge).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = t.sign_in("big@example.com", &huge).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["Invalid"]["field"], "password");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // A missing argument is a 400, not a 500.
    let r = t.call("sign_up", &[("email", "a@example.com")], None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(t.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) FROM email_tokens").await, 0);

    // Emoji and other Unicode are fine in a password.
    let r = t.sign_up("uni@example.com", "Ünïcødé 🔑 Pass 9").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        t.sign_in("uni@example.com", "Ünïcødé 🔑 Pass 9")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn cross_site_requests_are_refused() {
    let t = app().await;
    use axum::body::Body;
    use axum::http::Request;
    let body =
        "email=a%40example.com&password=Granite-Kettle-42%21&password_repeat=Granite-Kettle-42%21";
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.example"),
    ] {
        let req = Request::post("/api/sign_up")
            .header("content-type", "application/x-www-form-urlencoded")
            .header(name, value)
            .body(Body::from(body))
            .unwrap();
        assert_eq!(
            t.send(req).await.status,
            StatusCode::FORBIDDEN,
            "{name}: {value}"
        );
    }
    // Neither header: refused too.
    let req = Request::post("/api/sign_up")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(t.send(req).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.count("SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_and_logged() {
    let t = app().await;
    t.sign_up("target@example.com", PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(
            t.sign_in("target@example.com", "Wrong-Password-1!")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Now even the right password must wait.
    let r = t.sign_in("target@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.headers.get("retry-after").is_some());
    // An unknown account is throttled the same way.
    for _ in 0..5 {
        t.sign_in("ghost@example.com", "Wrong-Password-1!").await;
    }
    assert_eq!(
        t.sign_in("ghost@example.com", "Wrong-Password-1!")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );

    let kinds = t.event_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "sign_in_failed").count(), 12);
    // No password in any log entry.
    let details: Vec<String> = latchkey::server::store::events::all(&t.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert!(details
        .iter()
        .all(|d| !d.contains("Wrong-Password") && !d.contains(PASSWORD)));
    // Throttle keys are keyed hashes, not emails or addresses.
    assert_eq!(
        t.count("SELECT COUNT(*) FROM throttles WHERE CAST(key AS TEXT) LIKE '%example.com%'")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_wrong_passwords_sent_at_once_are_counted_one_by_one() {
    let t = app().await;
    t.sign_up("raced@example.com", PASSWORD).await;
    let replies = t
        .call_parallel(
            50,
            "sign_in",
            &[
                ("email", "raced@example.com"),
                ("password", "Wrong-Password-1!"),
            ],
            None,
        )
        .await;
    let checked = common::count_status(&replies, StatusCode::UNAUTHORIZED);
    let refused = common::count_status(&replies, StatusCode::TOO_MANY_REQUESTS);
    // Five free attempts per account and address, then a wait: no more get checked.
    assert_eq!((checked, refused), (5, 45));
    for key in [
        "sign-in:account-ip:raced@example.com|203.0.113.7",
        "sign-in:account:raced@example.com",
        "sign-in:ip:203.0.113.7",
    ] {
        assert_eq!(t.throttle_count(key).await, 5, "{key}");
    }
    // The counter owes a wait from its last failure on. (Asked over HTTP instead, the
    // answer would depend on whether the five checked hashes took longer than that
    // wait in this debug build; `failed_sign_ins_are_throttled_and_logged` asks it.)
    let key = t.state.keys.hash(
        latchkey::server::domain::tokens::Purpose::Throttle,
        "sign-in:account-ip:raced@example.com|203.0.113.7",
    );
    let counter = latchkey::server::store::throttles::get(&t.state.db, &key)
        .await
        .unwrap();
    let policy = latchkey::server::domain::throttle::SIGN_IN_ACCOUNT_IP;
    assert_eq!(
        policy.decide(counter, counter.unwrap().last_failure),
        latchkey::server::domain::throttle::Decision::Wait(policy.base_secs)
    );
    // Every attempt, checked or refused, is in the log.
    let kinds = t.event_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "sign_in_failed").count(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_free_allowance_is_counted_in_one_statement_exactly_even_in_parallel() {
    use latchkey::server::store::throttles;
    let t = app().await;
    let at = now();
    let db = t.state.db.clone();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(40));
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                throttles::count_within_allowance(&db, b"hot-key", 10, 3600, at)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut counted = 0;
    for task in tasks {
        counted += task.await.unwrap() as usize;
    }
    assert_eq!(counted, 10);
    let state = throttles::get(&db, b"hot-key").await.unwrap().unwrap();
    assert_eq!((state.failures, state.last_failure), (10, at));
    // Past the allowance, nothing changes: the caller decides with the policy.
    assert!(
        !throttles::count_within_allowance(&db, b"hot-key", 10, 3600, at)
            .await
            .unwrap()
    );
    assert_eq!(
        throttles::get(&db, b"hot-key")
            .await
            .unwrap()
            .unwrap()
            .failures,
        10
    );
    // A counter old enough to be forgotten is not added to here either (the policy
    // starts it again at one).
    assert!(
        throttles::count_within_allowance(&db, b"old-key", 10, 60, at - 100)
            .await
            .unwrap()
    );
    assert!(
        !throttles::count_within_allowance(&db, b"old-key", 10, 60, at)
            .await
            .unwrap()
    );
    assert_eq!(
        throttles::get(&db, b"old-key")
            .await
            .unwrap()
            .unwrap()
            .failures,
        1
    );
    // One read gives the counters that exist, and only those.
    let mut both = throttles::get_many(&db, &[b"hot-key", b"old-key", b"no-key"])
        .await
        .unwrap();
    both.sort_by(|a, b| a.0.cmp(&b.0));
    let counts: Vec<(&[u8], u32)> = both.iter().map(|(k, s)| (&k[..], s.failures)).collect();
    assert_eq!(counts, [(&b"hot-key"[..], 10), (&b"old-key"[..], 1)]);
}

#[tokio::test]
async fn a_right_password_gives_the_address_its_attempt_back() {
    let t = app().await;
    t.sign_up("back@example.com", PASSWORD).await;
    assert_eq!(
        t.sign_in("back@example.com", "Wrong-Password-1!")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(t.throttle_count("sign-in:ip:203.0.113.7").await, 1);
    assert_eq!(
        t.sign_in("back@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(t.throttle_count("sign-in:ip:203.0.113.7").await, 1);
    assert_eq!(
        t.throttle_count("sign-in:account:back@example.com").await,
        0
    );
}

async fn sign_in_from(t: &TestApp, email: &str, password: &str, forwarded_for: &str) -> StatusCode {
    t.call_with(
        "sign_in",
        &[("email", email), ("password", password)],
        None,
        &[("x-forwarded-for", forwarded_for)],
    )
    .await
    .status
}

#[tokio::test]
async fn a_forwarded_header_from_an_untrusted_peer_is_ignored() {
    let t = app().await;
    t.sign_up("forged@example.com", PASSWORD).await;
    // A new forged address on every try does not escape the per-address limit.
    for i in 0..5 {
        let forged = format!("198.51.100.{i}");
        assert_eq!(
            sign_in_from(&t, "forged@example.com", "Wrong-Password-1!", &forged).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_from(
            &t,
            "forged@example.com",
            "Wrong-Password-1!",
            "198.51.100.99"
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let ips: Vec<String> = latchkey::server::store::events::all(&t.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "sign_in_failed")
        .map(|e| e.ip)
        .collect();
    assert_eq!(ips.len(), 6);
    assert!(ips.iter().all(|ip| ip == "203.0.113.7"), "{ips:?}");
}

#[tokio::test]
async fn through_a_trusted_proxy_two_clients_are_throttled_apart() {
    // The test peer (203.0.113.7) is the proxy.
    let t = app_with(&[("LATCHKEY_SERVER_TRUSTED_PROXIES", "203.0.113.0/24")]).await;
    t.sign_up("shared@example.com", PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(
            sign_in_from(
                &t,
                "shared@example.com",
                "Wrong-Password-1!",
                "6.6.6.6, 198.51.100.1"
            )
            .await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_from(&t, "shared@example.com", PASSWORD, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client of the same proxy is not held up by the first one's failures.
    assert_eq!(
        sign_in_from(&t, "shared@example.com", PASSWORD, "198.51.100.2").await,
        StatusCode::OK
    );
    // IPv6 clients of one /64 share a count: changing the last 64 bits does not help.
    for i in 0..5 {
        let addr = format!("2001:db8:1:2::{i:x}");
        assert_eq!(
            sign_in_from(&t, "shared@example.com", "Wrong-Password-1!", &addr).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_from(
            &t,
            "shared@example.com",
            "Wrong-Password-1!",
            "2001:db8:1:2:ffff::1"
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        sign_in_from(
            &t,
            "shared@example.com",
            "Wrong-Password-1!",
            "2001:db8:1:3::1"
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    // The log shows the client, never the proxy.
    let ips: Vec<String> = latchkey::server::store::events::all(&t.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.starts_with("sign_in"))
        .map(|e| e.ip)
        .collect();
    assert!(ips.contains(&"198.51.100.1".to_string()), "{ips:?}");
    assert!(ips.contains(&"198.51.100.2".to_string()), "{ips:?}");
    assert!(
        !ips.iter().any(|ip| ip == "203.0.113.7" || ip == "6.6.6.6"),
        "{ips:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_ups_for_one_email_are_limited_even_in_parallel() {
    let t = app().await;
    let replies = t
        .call_parallel(
            20,
            "sign_up",
            &[
                ("email", "bombed@example.com"),
                ("password", PASSWORD),
                ("password_repeat", PASSWORD),
            ],
            None,
        )
        .await;
    let accepted = common::count_status(&replies, StatusCode::OK);
    let refused = common::count_status(&replies, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!((accepted, refused), (3, 17));
    assert_eq!(t.count("SELECT COUNT(*) FROM users").await, 1);
    // One verification mail and two "someone tried to sign up" notices, no more.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(t.mail_to("bombed@example.com", 3).await.len(), 3);
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    let t = app_with(&[("LATCHKEY_ACCOUNTS_SIGN_UPS_PER_ADDRESS", "4")]).await;
    for i in 0..4 {
        let r = t.sign_up(&format!("user{i}@example.com"), PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = t.sign_up("one-more@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(t.count("SELECT COUNT(*) FROM users").await, 4);
    // The shipped default is ten an hour.
    assert_eq!(app().await.state.config.accounts.sign_ups_per_address, 10);
}

/// Issue 22: a sign-up's strength estimate (zxcvbn, and the breach lookup when it is
/// on) is counted per address before it runs, like the strength meter's: weak
/// passwords sent in parallel from one address are estimated at most
/// `PASSWORD_STRENGTH_IP.free` times, then refused. (They used to be estimated every
/// time, since the sign-up counters came after the password checks.)
#[tokio::test]
async fn weak_sign_ups_in_parallel_are_throttled_before_their_strength_is_estimated() {
    use latchkey::server::domain::throttle::PASSWORD_STRENGTH_IP;
    let t = app().await;
    let free = PASSWORD_STRENGTH_IP.free as usize;
    let replies = t
        .call_parallel(
            free + 10,
            "sign_up",
            &[
                ("email", "weak@example.com"),
                ("password", "password"),
                ("password_repeat", "password"),
            ],
            None,
        )
        .await;
    assert_eq!(
        common::count_status(&replies, StatusCode::BAD_REQUEST),
        free
    );
    assert_eq!(
        common::count_status(&replies, StatusCode::TOO_MANY_REQUESTS),
        10
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test]
async fn no_recipient_gets_more_than_its_share_of_mail() {
    use latchkey::server::delivery::Mail;
    use latchkey::server::domain::throttle::MAILS_PER_RECIPIENT;
    let t = app().await;
    let at = now();
    let mail = |to: &str| Mail {
        to: to.into(),
        subject: "Test".into(),
        text: "Hello".into(),
        html: "<p>Hello</p>".into(),
    };
    for _ in 0..MAILS_PER_RECIPIENT.free + 5 {
        latchkey::server::audit::deliver(&t.state, mail("Inbox@Example.com"), at)
            .await
            .unwrap();
    }
    latchkey::server::audit::deliver(&t.state, mail("other@example.com"), at)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let all = latchkey::server::store::outbox::latest(&t.state.db, 1000)
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .filter(|m| m.to_addr == "Inbox@Example.com")
            .count(),
        MAILS_PER_RECIPIENT.free as usize
    );
    assert_eq!(
        all.iter()
            .filter(|m| m.to_addr == "other@example.com")
            .count(),
        1
    );
}

#[tokio::test]
async fn easy_and_breached_passwords_are_refused_even_when_they_meet_every_composition_rule() {
    let t = app().await;
    let r = t.sign_up("weak@example.com", "Password123!").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("too easy to guess"), "{}", r.body);
    // On the bundled breach-corpus list (compared in lower case), 19 characters long.
    let r = t.sign_up("listed@example.com", "!Amth3mast3rofsn0op").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("too common"), "{}", r.body);
    assert_eq!(t.count("SELECT COUNT(*) FROM users").await, 0);
}

/// A stand-in for the Have I Been Pwned range API (this machine has no internet): it
/// answers like the real one and records what it was asked.
async fn fake_pwned_api(
    breached: &str,
    times: u64,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use sha1::{Digest, Sha1};
    let hex: String = Sha1::digest(breached.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let (prefix, suffix) = (hex[..5].to_string(), hex[5..].to_string());
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = asked.clone();
    let app = axum::Router::new().route(
        "/range/{prefix}",
        axum::routing::get(
            move |axum::extract::Path(p): axum::extract::Path<String>,
                  headers: axum::http::HeaderMap| {
                let (prefix, suffix, log) = (prefix.clone(), suffix.clone(), log.clone());
                async move {
                    log.lock().unwrap().push(format!(
                        "{p} padding={}",
                        headers.contains_key("add-padding")
                    ));
                    let mut body = String::from("0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n");
                    if p == prefix {
                        body.push_str(&format!("{suffix}:{times}\r\n"));
                    }
                    body
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/"), asked)
}

#[tokio::test]
async fn the_breached_password_check_sends_five_characters_and_fails_open() {
    let breached = "Breached-Horse-Battery-42!";
    let (api, asked) = fake_pwned_api(breached, 7).await;
    let t = app_with(&[
        ("LATCHKEY_PASSWORD_PWNED_CHECK", "true"),
        ("LATCHKEY_PASSWORD_PWNED_API", &api),
    ])
    .await;
    let r = t.sign_up("pwned@example.com", breached).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("appeared 7 times in data breaches"),
        "{}",
        r.body
    );
    assert_eq!(
        t.sign_up("clean@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    // Only a 5-character prefix of the hash ever left, asking for padding.
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "{asked:?}");
    for a in &asked {
        let (prefix, padding) = a.split_once(' ').unwrap();
        assert_eq!(prefix.len(), 5, "{a}");
        assert!(prefix.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(padding, "padding=true");
    }
    // Off by default; and when the service cannot be reached, the password is accepted.
    assert!(app().await.state.config.password.pwned_api.is_none());
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let t = app_with(&[
        ("LATCHKEY_PASSWORD_PWNED_CHECK", "true"),
        ("LATCHKEY_PASSWORD_PWNED_API", &format!("http://{closed}/")),
    ])
    .await;
    assert_eq!(
        t.sign_up("open@example.com", breached).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let t = app().await;
    t.sign_up("out@example.com", PASSWORD).await;
    let cookie = t
        .sign_in("out@example.com", PASSWORD)
        .await
        .session_cookie();
    let r = t.call("sign_out", &[], Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.set_cookie().unwrap().contains("Max-Age=0"));
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 0);
    // The old cookie no longer opens anything.
    assert_eq!(
        t.call("current_account", &[], Some(&cookie)).await.json(),
        serde_json::Value::Null
    );
    let page = t.get("/settings/security", Some(&cookie)).await;
    assert!(page.status.is_redirection());
}

#[tokio::test]
async fn idle_and_absolute_expiry_are_enforced_on_the_server() {
    let t = app().await;
    t.sign_up("idle@example.com", PASSWORD).await;
    let cookie = t
        .sign_in("idle@example.com", PASSWORD)
        .await
        .session_cookie();
    assert_eq!(
        t.call("current_account", &[], Some(&cookie)).await.json()["email"],
        "idle@example.com"
    );
    // 31 minutes without a request.
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 31 * 60")
        .execute(&t.state.db)
        .await
        .unwrap();
    let r = t.call("current_account", &[], Some(&cookie)).await;
    assert_eq!(r.json(), serde_json::Value::Null);
    assert!(r.set_cookie().unwrap().contains("Max-Age=0"));
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 0);

    // Active all along, but signed in more than 12 hours ago.
    let cookie = t
        .sign_in("idle@example.com", PASSWORD)
        .await
        .session_cookie();
    sqlx::query("UPDATE sessions SET created_at = created_at - 12 * 3600 - 1")
        .execute(&t.state.db)
        .await
        .unwrap();
    assert_eq!(
        t.call("current_account", &[], Some(&cookie)).await.json(),
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn a_new_session_id_at_every_sign_in() {
    let t = app().await;
    t.sign_up("fresh@example.com", PASSWORD).await;
    let first = t
        .sign_in("fresh@example.com", PASSWORD)
        .await
        .session_cookie();
    let second = t
        .call(
            "sign_in",
            &[("email", "fresh@example.com"), ("password", PASSWORD)],
            Some(&first),
        )
        .await;
    let second = second.session_cookie();
    assert_ne!(first, second);
    // Signing in again from the same browser ended the old session.
    assert_eq!(
        t.call("current_account", &[], Some(&first)).await.json(),
        serde_json::Value::Null
    );
    assert_eq!(
        t.call("current_account", &[], Some(&second)).await.json()["email"],
        "fresh@example.com"
    );
}

#[tokio::test]
async fn https_base_url_gives_a_secure_host_prefixed_cookie() {
    let t = app_with(&[
        ("LATCHKEY_SERVER_MODE", "production"),
        ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
        (
            "LATCHKEY_SERVER_PUBLIC_BASE_URL",
            "https://account.example.com",
        ),
    ])
    .await;
    t.sign_up("tls@example.com", PASSWORD).await;
    // The browser's Origin is the public one here.
    use axum::body::Body;
    use axum::http::Request;
    let req = Request::post("/api/sign_in")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://account.example.com")
        .body(Body::from(
            "email=tls%40example.com&password=Granite-Kettle-42%21",
        ))
        .unwrap();
    let r = t.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let set = r.set_cookie().unwrap();
    assert!(set.starts_with("__Host-latchkey_session="), "{set}");
    assert!(
        set.contains("Secure")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Lax")
            && set.contains("Path=/")
    );
    // Browsers are told to come back only over https.
    assert_eq!(
        r.headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    assert!(app()
        .await
        .get("/signin", None)
        .await
        .headers
        .get("strict-transport-security")
        .is_none());
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy_with_a_fresh_nonce() {
    let t = app().await;
    let nonce_of = |r: &common::Reply| {
        let csp = r.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        for part in [
            "default-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "'wasm-unsafe-eval'",
        ] {
            assert!(csp.contains(part), "{part} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let start = csp.find("'nonce-").expect("a nonce") + "'nonce-".len();
        csp[start..].split('\'').next().unwrap().to_string()
    };
    let first = t.get("/signin", None).await;
    let nonce = nonce_of(&first);
    assert!(nonce.len() >= 16, "{nonce}");
    // Every script in the page carries it; no inline style anywhere.
    let scripts = first.body.matches("<script").count();
    assert!(scripts >= 1);
    assert_eq!(
        first.body.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{}",
        first.body
    );
    assert!(!first.body.contains(" style="), "{}", first.body);
    let second = t.get("/signin", None).await;
    assert_ne!(nonce_of(&second), nonce, "a new nonce for every page");
    // Answers that are not pages allow nothing at all.
    let api = t.call("current_account", &[], None).await;
    assert!(api.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
}

#[tokio::test]
async fn only_the_public_host_is_answered() {
    let t = app().await;
    let with_host = |host: &str| {
        axum::http::Request::get("/signin")
            .header("host", host)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(
        t.send(with_host("127.0.0.1:3000")).await.status,
        StatusCode::OK
    );
    // DNS rebinding: another name pointing at this server gets nothing.
    let r = t.send(with_host("evil.example:3000")).await;
    assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(!r.body.contains("<html"));
    assert_eq!(
        t.send(with_host("evil.example")).await.status,
        StatusCode::MISDIRECTED_REQUEST
    );
}

#[tokio::test]
async fn settings_pages_send_signed_out_visitors_to_sign_in_and_back() {
    let t = app().await;
    let r = t.get("/settings/security", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], "/signin?next=%2Fsettings%2Fsecurity");

    t.sign_up("nav@example.com", PASSWORD).await;
    let r = t
        .call(
            "sign_in",
            &[
                ("email", "nav@example.com"),
                ("password", PASSWORD),
                ("next", "/settings/security"),
            ],
            None,
        )
        .await;
    assert_eq!(r.json()["redirect_to"], "/settings/security");
    // Never somewhere else.
    let r = t
        .call(
            "sign_in",
            &[
                ("email", "nav@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example"),
            ],
            None,
        )
        .await;
    assert_eq!(r.json()["redirect_to"], "/settings/security");

    let cookie = r.session_cookie();
    let page = t.get("/settings/security", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Security"), "{}", page.body);
    assert!(page.body.contains("nav@example.com"));
    assert!(page.body.contains("Resend Verification Email"));
    assert_eq!(page.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn verification_links_expire_and_forged_ones_are_refused() {
    let t = app().await;
    t.sign_up("late@example.com", PASSWORD).await;
    let token = t.verification_token("late@example.com").await;
    let caller = Caller {
        ip: "198.51.100.1".into(),
        user_agent: "test".into(),
        principal: None,
        device_cookie: None,
    };
    let later = now() + 24 * 3600 + 1;
    let err = accounts::verify_email(&t.state, &caller, &token, later)
        .await
        .wire()
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");

    let forged = t
        .call("verify_email", &[("token", "A".repeat(43).as_str())], None)
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let garbage = t
        .call("verify_email", &[("token", "' OR 1=1 --")], None)
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn resending_the_verification_email_is_rate_limited() {
    let t = app().await;
    t.sign_up("again@example.com", PASSWORD).await;
    let cookie = t
        .sign_in("again@example.com", PASSWORD)
        .await
        .session_cookie();
    assert_eq!(
        t.call("resend_verification", &[], Some(&cookie))
            .await
            .status,
        StatusCode::OK
    );
    t.mail_to("again@example.com", 2).await;
    let r = t.call("resend_verification", &[], Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Signed out, it is refused.
    assert_eq!(
        t.call("resend_verification", &[], None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_security_log_records_each_event_with_time_ip_and_agent() {
    let t = app().await;
    t.sign_up("log@example.com", PASSWORD).await;
    let token = t.verification_token("log@example.com").await;
    t.call("verify_email", &[("token", &token)], None).await;
    t.sign_in("log@example.com", "Wrong-Password-1!").await;
    let cookie = t
        .sign_in("log@example.com", PASSWORD)
        .await
        .session_cookie();
    t.call("sign_out", &[], Some(&cookie)).await;
    let events = latchkey::server::store::events::all(&t.state.db)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "sign_up",
            "email_verified",
            "sign_in_failed",
            "sign_in_succeeded",
            // Held back: the account's first sign-in.
            "new_sign_in_notice",
            "sign_out"
        ]
    );
    for e in &events {
        assert_eq!(e.ip, "203.0.113.7");
        assert_eq!(e.user_agent, "latchkey-tests/1.0");
        assert!(e.user_id.is_some());
        assert!((now() - e.at).abs() < 60);
    }
}

#[tokio::test]
async fn the_dev_outbox_exists_only_in_development() {
    let dev = app().await;
    assert_eq!(dev.get("/dev/mail", None).await.status, StatusCode::OK);
    let prod = app_with(&[
        ("LATCHKEY_SERVER_MODE", "production"),
        ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
    ])
    .await;
    assert_eq!(
        prod.get("/dev/mail", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_address_that_must_wait_is_refused_before_any_account_is_counted() {
    use latchkey::server::domain::{throttle::State, tokens::Purpose};
    let t = app().await;
    t.sign_up("quiet@example.com", PASSWORD).await;
    // The address has used up its attempts (as in a storm from one address).
    let key = t
        .state
        .keys
        .hash(Purpose::Throttle, "sign-in:ip:203.0.113.7");
    let full = State {
        failures: 1000,
        last_failure: latchkey::server::now(),
    };
    assert!(
        latchkey::server::store::throttles::swap(&t.state.db, &key, None, full)
            .await
            .unwrap()
    );
    let r = t.sign_in("quiet@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Nothing was counted (nor given back) for the account: the refusal cost one read,
    // and no counter row exists for it at all.
    for name in [
        "sign-in:account:quiet@example.com",
        "sign-in:account-ip:quiet@example.com|203.0.113.7",
    ] {
        let row = latchkey::server::store::throttles::get(
            &t.state.db,
            &t.state.keys.hash(Purpose::Throttle, name),
        )
        .await
        .unwrap();
        assert!(row.is_none(), "{name}: {row:?}");
    }
    assert_eq!(t.throttle_count("sign-in:ip:203.0.113.7").await, 1000);
}

#[tokio::test]
async fn a_too_many_attempts_answer_is_held_back_a_moment() {
    let t = app().await;
    t.sign_up("slow@example.com", PASSWORD).await;
    for _ in 0..5 {
        t.sign_in("slow@example.com", "Wrong-Password-1!").await;
    }
    let started = std::time::Instant::now();
    let r = t.sign_in("slow@example.com", "Wrong-Password-1!").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    let held = latchkey::server::http::middleware::REFUSAL_DELAY
        .min(std::time::Duration::from_secs(retry_after));
    assert!(held.as_millis() >= 1000, "{held:?}");
    assert!(started.elapsed() >= held, "{:?}", started.elapsed());
}
