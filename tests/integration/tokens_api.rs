//! Personal access tokens and the REST API they open: the format refused before any
//! database read, permissions, the per-token limit and revocation under parallel
//! requests, regeneration, expiry, introspection, and the wall between cookies and
//! tokens.
use crate::common::{app, app_with, count_status, Reply, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey::model::tokens::{Expiry, NewToken};
use latchkey::server::auth::token::{resolve, Refused};
use latchkey::server::auth::Caller;
use latchkey::server::flows::tokens;
use latchkey::server::now;

const INTROSPECTION_KEY: &str = "introspection-key-for-tests-0123456789abcdef";

fn caller() -> Caller {
    Caller {
        ip: "198.51.100.44".into(),
        user_agent: "latchkey-tests/1.0".into(),
        principal: None,
        device_cookie: None,
    }
}

/// A new account signed in at `at`, and a token of it with `scopes` (made at `at`).
async fn token_of(t: &TestApp, email: &str, scopes: &[&str], at: i64) -> (Caller, NewToken) {
    let who = t.owner(email, at, caller()).await;
    let made = make(t, &who, "CI deploy", scopes, Expiry::Days(30), at).await;
    (who, made)
}

async fn make(
    t: &TestApp,
    who: &Caller,
    name: &str,
    scopes: &[&str],
    expiry: Expiry,
    at: i64,
) -> NewToken {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    tokens::create(
        &t.state,
        who,
        tokens::Request {
            name,
            expiry,
            scopes: &scopes,
            password: None,
        },
        at,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

fn api(method: &str, path: &str, token: Option<&str>) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("user-agent", "latchkey-tests/1.0");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.body(Body::empty()).unwrap()
}

async fn get(t: &TestApp, path: &str, token: &str) -> Reply {
    t.send(api("GET", path, Some(token))).await
}

fn is_problem(r: &Reply) {
    assert_eq!(
        r.headers["content-type"], "application/problem+json",
        "{}",
        r.body
    );
    assert!(r.json()["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:latchkey:problem:"));
}

#[tokio::test]
async fn a_token_opens_the_api_with_its_permissions_only() {
    let t = app().await;
    let t0 = now();
    let (_, made) = token_of(
        &t,
        "api-owner@example.com",
        &["account:read", "tokens:read"],
        t0,
    )
    .await;
    assert!(made.secret.starts_with("lk_pat_") && made.secret.len() == 53);

    let r = get(&t, "/api/v1/account", &made.secret).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = r.json();
    assert_eq!(body["email"], "api-owner@example.com");
    assert_eq!(body["verified"], true);
    assert!(body["methods"].as_array().unwrap().is_empty());

    let r = get(&t, "/api/v1/tokens", &made.secret).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()[0]["name"], "CI deploy");
    assert!(!r.body.contains(&made.secret), "never the secret");
    assert!(!r.body.contains("lk_pat_"));

    // Not given: 403, naming the permission.
    let r = get(&t, "/api/v1/sessions", &made.secret).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    is_problem(&r);
    let challenge = r.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"sessions:read\""), "{challenge}");

    // No token, a made-up one, a typo: 401 with the challenge.
    let r = t.send(api("GET", "/api/v1/account", None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    is_problem(&r);
    assert!(r.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let mut typo = made.secret.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let r = get(&t, "/api/v1/account", &String::from_utf8(typo).unwrap()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn a_cookie_never_opens_the_api_and_a_token_never_opens_the_pages() {
    let t = app().await;
    t.sign_up_verified("walls@example.com", crate::common::PASSWORD)
        .await;
    let cookie = t
        .sign_in("walls@example.com", crate::common::PASSWORD)
        .await
        .session_cookie();
    let r = t
        .send(
            Request::get("/api/v1/account")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);

    let who = t.owner("walls-token@example.com", now(), caller()).await;
    let made = make(
        &t,
        &who,
        "Pages?",
        &[
            "account:read",
            "sessions:read",
            "sessions:write",
            "security_log:read",
            "tokens:read",
        ],
        Expiry::Days(7),
        now(),
    )
    .await;
    // A page with only the token: signed out.
    let r = t
        .send(
            Request::get("/settings/security")
                .header("authorization", format!("Bearer {}", made.secret))
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.status.is_redirection(), "{}", r.status);
    assert!(r.headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/signin"));
    // A server function with only the token: not signed in.
    let r = t
        .call_with(
            "sessions",
            &[],
            None,
            &[("authorization", &format!("Bearer {}", made.secret))],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

#[tokio::test]
async fn a_malformed_token_is_refused_without_touching_the_database() {
    let t = app().await;
    let (_, made) = token_of(&t, "format@example.com", &["account:read"], now()).await;
    let mut flipped = made.secret.clone().into_bytes();
    let i = flipped.len() - 10;
    flipped[i] = if flipped[i] == b'Z' { b'Y' } else { b'Z' };
    let flipped = String::from_utf8(flipped).unwrap();
    // With the database gone, a typo is still answered (no read was needed)...
    t.state.db.close().await;
    assert!(matches!(
        resolve(&t.state, &caller(), &flipped, now()).await,
        Err(Refused::Invalid)
    ));
    assert!(matches!(
        resolve(&t.state, &caller(), "lk_pat_tooshort", now()).await,
        Err(Refused::Invalid)
    ));
    // ... while a well-formed token needs the database (so the test above can fail).
    assert!(matches!(
        resolve(&t.state, &caller(), &made.secret, now()).await,
        Err(Refused::Failed(_))
    ));
}

#[tokio::test]
async fn each_token_gets_exactly_its_allowance_per_minute_under_parallel_requests() {
    let t = app_with(&[("LATCHKEY_TOKENS_RATE_PER_MINUTE", "40")]).await;
    let (_, made) = token_of(&t, "limit@example.com", &["account:read"], now()).await;
    // Not across the turn of a minute (the allowance starts again there).
    while now().rem_euclid(60) > 50 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let replies = parallel(&t, 100, "/api/v1/account", &made.secret).await;
    assert_eq!(count_status(&replies, StatusCode::OK), 40);
    assert_eq!(count_status(&replies, StatusCode::TOO_MANY_REQUESTS), 60);
    let refused = replies
        .iter()
        .find(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .unwrap();
    is_problem(refused);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

// Two instances on one database, as behind a load balancer: each counts its requests
// against a share of the minute it reserved from the token's row, so together they
// never answer more than the allowance, and (each with more requests than it could
// get) at most one share (a sixteenth of the allowance) fewer.
#[tokio::test]
async fn two_instances_together_answer_the_allowance_and_never_more() {
    let limit = [("LATCHKEY_TOKENS_RATE_PER_MINUTE", "160")];
    let a = app_with(&limit).await;
    let b = a.another_instance_with(&limit).await;
    let (_, made) = token_of(&a, "shared@example.com", &["account:read"], now()).await;
    while now().rem_euclid(60) > 50 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let (on_a, on_b) = tokio::join!(
        parallel(&a, 150, "/api/v1/account", &made.secret),
        parallel(&b, 150, "/api/v1/account", &made.secret)
    );
    let replies: Vec<Reply> = on_a.into_iter().chain(on_b).collect();
    let ok = count_status(&replies, StatusCode::OK);
    assert_eq!(
        ok + count_status(&replies, StatusCode::TOO_MANY_REQUESTS),
        300
    );
    assert!((150..=160).contains(&ok), "{ok} answered");
}

async fn parallel(t: &TestApp, n: usize, path: &str, token: &str) -> Vec<Reply> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let app = t.app.clone();
            let barrier = barrier.clone();
            let req = api("GET", path, Some(token));
            tokio::spawn(async move {
                barrier.wait().await;
                use tower::ServiceExt;
                let res = app.oneshot(req).await.unwrap();
                let status = res.status();
                let headers = res.headers().clone();
                use http_body_util::BodyExt;
                let bytes = res.into_body().collect().await.unwrap().to_bytes();
                Reply {
                    status,
                    headers,
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                }
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_revoked_token_fails_at_once_for_every_parallel_request() {
    let t = app().await;
    let t0 = now();
    let (who, made) = token_of(&t, "revoke@example.com", &["account:read"], t0).await;
    assert_eq!(
        get(&t, "/api/v1/account", &made.secret).await.status,
        StatusCode::OK
    );
    tokens::revoke(&t.state, &who, made.info.id, t0)
        .await
        .unwrap();
    let replies = parallel(&t, 50, "/api/v1/account", &made.secret).await;
    assert_eq!(count_status(&replies, StatusCode::UNAUTHORIZED), 50);
    // Logged as a refused use of a revoked token (once, not fifty times).
    let kinds = t.event_kinds().await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "access_token_refused")
            .count(),
        1,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"access_token_revoked".to_string()));
    // Revoked twice: the second finds nothing.
    assert!(tokens::revoke(&t.state, &who, made.info.id, t0)
        .await
        .is_err());
}

#[tokio::test]
async fn regenerate_kills_the_old_secret_and_keeps_name_and_permissions() {
    let t = app().await;
    let t0 = now();
    let (who, made) = token_of(
        &t,
        "regen@example.com",
        &["account:read", "tokens:read"],
        t0,
    )
    .await;
    let again = tokens::regenerate(&t.state, &who, made.info.id, None, t0 + 5)
        .await
        .unwrap();
    assert_ne!(again.secret, made.secret);
    assert_eq!(again.info.name, made.info.name);
    assert_eq!(again.info.scopes, made.info.scopes);
    assert_eq!(
        get(&t, "/api/v1/account", &made.secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&t, "/api/v1/account", &again.secret).await.status,
        StatusCode::OK
    );
    let list = tokens::list(&t.state, &who, t0 + 5).await.unwrap();
    assert_eq!(list.tokens.len(), 1, "the old one is gone from the list");
}

#[tokio::test]
async fn an_expired_token_is_refused_and_logged() {
    let t = app().await;
    let t0 = now();
    let (_, made) = token_of(&t, "expiry@example.com", &["account:read"], t0).await;
    assert!(resolve(&t.state, &caller(), &made.secret, t0 + 29 * 86_400)
        .await
        .is_ok());
    assert!(matches!(
        resolve(&t.state, &caller(), &made.secret, t0 + 30 * 86_400).await,
        Err(Refused::Invalid)
    ));
    assert!(t
        .event_kinds()
        .await
        .contains(&"access_token_refused".to_string()));
}

#[tokio::test]
async fn names_are_unique_and_an_account_holds_at_most_fifty() {
    let t = app().await;
    let t0 = now();
    let (who, _) = token_of(&t, "fifty@example.com", &["account:read"], t0).await;
    let scopes = vec!["account:read".to_string()];
    let dup = tokens::create(
        &t.state,
        &who,
        tokens::Request {
            name: " CI deploy ",
            expiry: Expiry::Days(7),
            scopes: &scopes,
            password: None,
        },
        t0,
    )
    .await;
    assert!(format!("{:?}", dup.err().unwrap()).contains("already have a token with this name"));
    // Sixty more asked at once: forty-nine fit.
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let state = t.state.clone();
            let who = who.clone();
            tokio::spawn(async move {
                let scopes = vec!["account:read".to_string()];
                tokens::create(
                    &state,
                    &who,
                    tokens::Request {
                        name: &format!("token {i}"),
                        expiry: Expiry::Days(7),
                        scopes: &scopes,
                        password: None,
                    },
                    t0,
                )
                .await
                .is_ok()
            })
        })
        .collect();
    let mut made = 0;
    for task in tasks {
        if task.await.unwrap() {
            made += 1;
        }
    }
    assert_eq!(made, 49);
    assert_eq!(
        tokens::list(&t.state, &who, t0).await.unwrap().tokens.len(),
        50
    );
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_parameter() {
    let t = app().await;
    let (_, made) = token_of(
        &t,
        "bad-input@example.com",
        &["sessions:read", "sessions:write", "security_log:read"],
        now(),
    )
    .await;
    for (path, param) in [
        ("/api/v1/events?cursor=nonsense", "cursor"),
        ("/api/v1/events?cursor=nonsense&from=5&until=5", "cursor"),
        ("/api/v1/events?category=everything", "category"),
        ("/api/v1/events?colour=red", "colour"),
        ("/api/v1/events?from=yesterday", "from"),
        ("/api/v1/events/export?format=pdf", "format"),
    ] {
        let r = get(&t, path, &made.secret).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        is_problem(&r);
        assert_eq!(r.json()["parameter"], param, "{path}: {}", r.body);
    }
    let r = t
        .send(api("DELETE", "/api/v1/sessions/abc", Some(&made.secret)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.json()["parameter"], "id");
    let r = t
        .send(api("DELETE", "/api/v1/sessions/999999", Some(&made.secret)))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    is_problem(&r);
    let r = get(&t, "/api/v1/nothing-here", &made.secret).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    is_problem(&r);
}

#[tokio::test]
async fn a_token_lists_and_revokes_sessions_and_reads_the_log() {
    let t = app().await;
    let t0 = now();
    let (who, made) = token_of(
        &t,
        "sessions-api@example.com",
        &["sessions:read", "sessions:write", "security_log:read"],
        t0,
    )
    .await;
    let r = get(&t, "/api/v1/sessions", &made.secret).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sessions = r.json();
    let id = sessions[0]["id"].as_i64().unwrap();
    assert_eq!(Some(id), who.session().map(|s| s.session_id));
    let r = t
        .send(api(
            "DELETE",
            &format!("/api/v1/sessions/{id}"),
            Some(&made.secret),
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = get(&t, "/api/v1/sessions", &made.secret).await;
    assert_eq!(r.json().as_array().unwrap().len(), 0);

    let r = get(&t, "/api/v1/events?category=tokens", &made.secret).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let events = r.json();
    let words: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(words.contains(&"API token created: CI deploy"), "{words:?}");
    assert!(
        words.contains(&"API token used from a new address"),
        "{words:?}"
    );

    let r = get(&t, "/api/v1/events/export?format=jsonl", &made.secret).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Session revoked"), "{}", r.body);
}

#[tokio::test]
async fn introspection_answers_live_expired_revoked_and_foreign_callers() {
    let t = app_with(&[("LATCHKEY_API_INTROSPECTION_KEYS", INTROSPECTION_KEY)]).await;
    let t0 = now();
    let (who, made) = token_of(
        &t,
        "introspect@example.com",
        &["tokens:read", "account:read"],
        t0,
    )
    .await;
    let ask = |key: &str, token: &str| {
        Request::post("/api/v1/introspect")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Bearer {key}"))
            .body(Body::from(format!("token={token}")))
            .unwrap()
    };
    let r = t.send(ask(INTROSPECTION_KEY, &made.secret)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = r.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "account:read tokens:read");
    assert_eq!(body["sub"], who.session().unwrap().user_id.to_string());
    assert_eq!(body["exp"], t0 + 30 * 86_400);
    assert_eq!(body["iat"], t0);

    // A key that is not one of the operator's: 401, and nothing about the token.
    let r = t
        .send(ask("someone-elses-key-0123456789abcdefghij", &made.secret))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(!r.body.contains("active"));
    // A token as the key does not work either.
    let r = t.send(ask(&made.secret, &made.secret)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Garbage, revoked: only {"active": false}.
    let r = t.send(ask(INTROSPECTION_KEY, "lk_pat_nonsense")).await;
    assert_eq!(r.body, r#"{"active":false}"#);
    // Any text at all, even a multi-byte character across the checksum's first byte.
    let odd = format!("lk_pat_{}%C3%A9{}", "a".repeat(39), "a".repeat(5));
    let r = t.send(ask(INTROSPECTION_KEY, &odd)).await;
    assert_eq!(r.body, r#"{"active":false}"#);
    tokens::revoke(&t.state, &who, made.info.id, t0)
        .await
        .unwrap();
    let r = t.send(ask(INTROSPECTION_KEY, &made.secret)).await;
    assert_eq!(r.body, r#"{"active":false}"#);

    // Expired: made with 7 days, asked about as it is now (the store reads the time).
    let short = make(
        &t,
        &who,
        "short",
        &["account:read"],
        Expiry::Days(7),
        t0 - 8 * 86_400,
    )
    .await;
    let r = t.send(ask(INTROSPECTION_KEY, &short.secret)).await;
    assert_eq!(r.body, r#"{"active":false}"#);
}

#[tokio::test]
async fn the_openapi_description_is_served_and_names_every_endpoint() {
    let t = app().await;
    let r = t.send(api("GET", "/api/v1/openapi.json", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    let spec = r.json();
    assert_eq!(spec["openapi"], "3.1.0");
    for path in [
        "/account",
        "/sessions",
        "/sessions/{id}",
        "/events",
        "/events/export",
        "/tokens",
        "/introspect",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(spec["components"]["securitySchemes"]
        .get("bearer")
        .is_some());
}

#[tokio::test]
async fn unknown_tokens_from_one_address_are_slowed_down() {
    let t = app().await;
    let (_, made) = token_of(&t, "guesser@example.com", &["account:read"], now()).await;
    // Well-formed tokens with valid checksums that are not ours: 20 refused, then waits.
    let forged: Vec<String> = (0..25)
        .map(|_| latchkey::server::domain::access_token::generate())
        .collect();
    let mut statuses = Vec::new();
    for f in &forged {
        statuses.push(get(&t, "/api/v1/account", f).await.status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    // A real token from that address still works: nobody sharing an address can lock
    // its owner's scripts out by sending made-up tokens.
    assert_eq!(
        get(&t, "/api/v1/account", &made.secret).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn owners_are_reminded_once_a_week_before_a_token_expires() {
    let t = app().await;
    let t0 = now();
    let (_, made) = token_of(&t, "reminder@example.com", &["account:read"], t0).await;
    // 30 days: nothing to say for 23 days, then once.
    assert_eq!(
        tokens::remind_expiring(&t.state, t0 + 22 * 86_400)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tokens::remind_expiring(&t.state, t0 + 23 * 86_400 + 60)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tokens::remind_expiring(&t.state, t0 + 24 * 86_400)
            .await
            .unwrap(),
        0
    );
    let mail = t
        .mail_with_subject(
            "reminder@example.com",
            "Your API token \"CI deploy\" expires soon",
        )
        .await;
    assert!(
        mail.text_body.contains(&made.info.name),
        "{}",
        mail.text_body
    );
    assert!(!mail.text_body.contains(&made.secret));
    // Two instances' housekeeping at once: one reminder between them.
    let (_, other) = token_of(&t, "reminder2@example.com", &["account:read"], t0).await;
    let at = t0 + 23 * 86_400 + 120;
    let (a, b) = tokio::join!(
        tokens::remind_expiring(&t.state, at),
        tokens::remind_expiring(&t.state, at)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let _ = other;
}

#[tokio::test]
async fn the_reference_page_is_served_from_the_binary_under_its_own_policy() {
    let t = app().await;
    let r = t.send(api("GET", "/api/docs/", None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("swagger-ui"), "{}", r.body);
    assert!(!r.body.contains("https://"), "no CDN: {}", r.body);
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    let init = t
        .send(api("GET", "/api/docs/swagger-initializer.js", None))
        .await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(init.body.contains("/api/v1/openapi.json"), "{}", init.body);
    // The pages keep their own policy: scripts only by the response's nonce.
    let page = t.get("/signin", None).await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
}

#[tokio::test]
async fn the_page_s_form_with_nothing_ticked_gets_its_field_errors_not_a_malformed_request() {
    let t = app().await;
    t.sign_up_verified("form@example.com", crate::common::PASSWORD)
        .await;
    let cookie = t
        .sign_in("form@example.com", crate::common::PASSWORD)
        .await
        .session_cookie();
    let r = t
        .call(
            "create_token",
            &[("name", ""), ("expiration", "30"), ("date", "")],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("Give the token a name."), "{}", r.body);
    assert!(
        r.body.contains("Choose at least one permission."),
        "{}",
        r.body
    );
    let r = t
        .call(
            "create_token",
            &[
                ("name", "Script"),
                ("expiration", "30"),
                ("date", ""),
                ("scopes[0]", "account:read"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["secret"].as_str().unwrap().starts_with("lk_pat_"));
}

#[tokio::test]
async fn cors_is_off_unless_the_operator_lists_origins() {
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/v1/account")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let t = app().await;
    let r = t.send(preflight("https://app.example.com")).await;
    assert!(
        r.headers.get("access-control-allow-origin").is_none(),
        "{:?}",
        r.headers
    );

    let t = app_with(&[("LATCHKEY_API_CORS_ORIGINS", "https://app.example.com")]).await;
    let r = t.send(preflight("https://app.example.com")).await;
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(r.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    let r = t.send(preflight("https://evil.example")).await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
    // The pages and server functions are not opened to that origin.
    let r = t
        .send(
            Request::builder()
                .method("OPTIONS")
                .uri("/api/sessions")
                .header("origin", "https://app.example.com")
                .header("access-control-request-method", "POST")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_refused_use_does_not_move_last_used_so_a_new_address_is_always_logged() {
    let t = app_with(&[("LATCHKEY_TOKENS_RATE_PER_MINUTE", "2")]).await;
    let t0 = now();
    let (_, made) = token_of(&t, "addresses@example.com", &["account:read"], t0).await;
    let from = |ip: &str| Caller {
        ip: ip.into(),
        user_agent: "latchkey-tests/1.0".into(),
        principal: None,
        device_cookie: None,
    };
    let w = t0 - t0.rem_euclid(60) + 60;
    assert!(
        resolve(&t.state, &from("198.51.100.1"), &made.secret, w + 1)
            .await
            .is_ok()
    );
    assert!(
        resolve(&t.state, &from("198.51.100.1"), &made.secret, w + 2)
            .await
            .is_ok()
    );
    // Over the minute's allowance from another address: refused, and not its last use.
    assert!(matches!(
        resolve(&t.state, &from("203.0.113.7"), &made.secret, w + 3).await,
        Err(Refused::TooMany { .. })
    ));
    // Accepted from there a minute later: a new address, logged.
    assert!(
        resolve(&t.state, &from("203.0.113.7"), &made.secret, w + 61)
            .await
            .is_ok()
    );
    let new_addresses = t
        .event_kinds()
        .await
        .iter()
        .filter(|k| *k == "access_token_new_address")
        .count();
    assert_eq!(new_addresses, 2);
}

#[tokio::test]
async fn a_password_reset_revokes_the_account_s_tokens() {
    let t = app().await;
    let email = "reset-tokens@example.com";
    let (_, made) = token_of(&t, email, &["account:read"], now()).await;
    assert_eq!(
        get(&t, "/api/v1/account", &made.secret).await.status,
        StatusCode::OK
    );
    t.call("request_password_reset", &[("email", email)], None)
        .await;
    let mail = t.mail_with_subject(email, "Reset your password").await;
    let at = mail.text_body.find("/reset-password#token=").unwrap();
    let link = &mail.text_body[at..];
    let token = link["/reset-password#token=".len()..]
        .split_whitespace()
        .next()
        .unwrap();
    let r = t
        .call(
            "reset_password",
            &[
                ("token", token),
                ("new_password", "Basalt-Harbour-77?"),
                ("new_password_repeat", "Basalt-Harbour-77?"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        get(&t, "/api/v1/account", &made.secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    let notice = t.mail_with_subject(email, "Your password was reset").await;
    assert!(
        notice.text_body.contains("API tokens were revoked"),
        "{}",
        notice.text_body
    );
}

#[test]
fn a_new_token_never_prints_its_secret() {
    let t = NewToken {
        info: latchkey::model::tokens::TokenInfo {
            id: 1,
            name: "x".into(),
            scopes: vec![],
            created_at: 0,
            expires_at: None,
            expired: false,
            last_used: None,
        },
        secret: "lk_pat_secret".into(),
    };
    assert!(!format!("{t:?}").contains("lk_pat_secret"));
}

#[tokio::test]
async fn racing_regenerations_of_one_token_make_one_new_token() {
    let t = app().await;
    let t0 = now();
    let (who, made) = token_of(&t, "regen-race@example.com", &["account:read"], t0).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let state = t.state.clone();
            let who = who.clone();
            tokio::spawn(async move {
                tokens::regenerate(&state, &who, made.info.id, None, t0 + 5)
                    .await
                    .ok()
                    .map(|n| n.secret)
            })
        })
        .collect();
    let mut secrets = Vec::new();
    for task in tasks {
        secrets.extend(task.await.unwrap());
    }
    assert_eq!(secrets.len(), 1, "one regeneration wins");
    let list = tokens::list(&t.state, &who, t0 + 5).await.unwrap();
    assert_eq!(list.tokens.len(), 1);
    assert_eq!(
        get(&t, "/api/v1/account", &secrets[0]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&t, "/api/v1/account", &made.secret).await.status,
        StatusCode::UNAUTHORIZED
    );
}
