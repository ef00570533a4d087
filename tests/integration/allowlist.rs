//! Settings > IP allowlist (issue 25): saving (whole or not at all, the self-lockout
//! guard, parallel saves), and enforcement at sign-in, on sessions and on tokens;
//! a password reset turns it off.
use crate::common::{app_with, count_status, Reply, TestApp, PASSWORD};
use axum::body::Body;
use axum::http::{Request, StatusCode};

const PROXY: [(&str, &str); 1] = [("LATCHKEY_SERVER_TRUSTED_PROXIES", "203.0.113.0/24")];
const OFFICE: &str = "198.51.100.7";
const HOME_NET: &str = "192.0.2.0/24";
const ELSEWHERE: &str = "100.24.1.9";

async fn sign_in_from(t: &TestApp, email: &str, password: &str, ip: &str) -> Reply {
    t.call_with(
        "sign_in",
        &[("email", email), ("password", password)],
        None,
        &[("x-forwarded-for", ip)],
    )
    .await
}

/// Saves a list from `ip` with the session `cookie`.
async fn save(
    t: &TestApp,
    cookie: &str,
    ip: &str,
    enabled: bool,
    entries: &[(&str, &str)],
    understood: bool,
) -> Reply {
    let mut form: Vec<(String, String)> = vec![
        ("enabled".into(), enabled.to_string()),
        ("understood".into(), understood.to_string()),
    ];
    for (i, (value, note)) in entries.iter().enumerate() {
        form.push((format!("entries[{i}][value]"), value.to_string()));
        form.push((format!("entries[{i}][note]"), note.to_string()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    t.call_with(
        "save_allowlist",
        &form,
        Some(cookie),
        &[("x-forwarded-for", ip)],
    )
    .await
}

async fn owner_at(t: &TestApp, email: &str, ip: &str) -> String {
    t.sign_up_verified(email, PASSWORD).await;
    let r = sign_in_from(t, email, PASSWORD, ip).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.session_cookie()
}

/// How many "refused address" notices the owner got.
async fn told(t: &TestApp, to: &str) -> usize {
    latchkey::server::store::outbox::latest(&t.state.db, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            m.to_addr == to && m.subject == "An address outside your IP allowlist was refused"
        })
        .count()
}

async fn entries_stored(t: &TestApp) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT cidr FROM allowlist_entries ORDER BY position")
        .fetch_all(&t.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.0)
        .collect()
}

#[tokio::test]
async fn a_list_that_leaves_this_address_out_needs_the_tick_and_then_signs_it_out() {
    let t = app_with(&PROXY).await;
    let cookie = owner_at(&t, "al@example.com", ELSEWHERE).await;
    // Only the office: refused, naming the address in use.
    let r = save(&t, &cookie, ELSEWHERE, true, &[(OFFICE, "office")], false).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains(ELSEWHERE), "{}", r.body);
    assert!(
        r.body.contains("I understand this will sign me out here"),
        "{}",
        r.body
    );
    assert!(entries_stored(&t).await.is_empty());
    // Ticked: saved, and this session ends at its next request.
    let r = save(&t, &cookie, ELSEWHERE, true, &[(OFFICE, "office")], true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(entries_stored(&t).await, ["198.51.100.7/32"]);
    let r = t
        .call_with(
            "sessions",
            &[],
            Some(&cookie),
            &[("x-forwarded-for", ELSEWHERE)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A page asked for by such a session leads to the sign-in page, saying why.
    let cookie2 = sign_in_from(&t, "al@example.com", PASSWORD, OFFICE)
        .await
        .session_cookie();
    let page = t
        .send(
            Request::builder()
                .uri("/settings/security")
                .header("cookie", &cookie2)
                .header("x-forwarded-for", ELSEWHERE)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers["location"], "/signin?signed_out=allowlist");
    let kinds = t.event_kinds().await;
    assert!(kinds.iter().any(|k| k == "allowlist_refused"));
    // The owner is told, once an hour at most.
    let told = t
        .mail_to("al@example.com", 1)
        .await
        .into_iter()
        .filter(|m| m.subject == "An address outside your IP allowlist was refused")
        .count();
    assert_eq!(told, 1);
}

#[tokio::test]
async fn sign_in_from_outside_gets_the_wrong_password_answer_and_inside_gets_in() {
    let t = app_with(&PROXY).await;
    let cookie = owner_at(&t, "bea@example.com", OFFICE).await;
    let r = save(
        &t,
        &cookie,
        OFFICE,
        true,
        &[(OFFICE, ""), (HOME_NET, "home")],
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Four right passwords from outside at once: all refused, each logged, and the
    // owner told once (once an hour at most).
    let form = [("email", "bea@example.com"), ("password", PASSWORD)];
    let forms = vec![form.to_vec(); 4];
    let replies = t
        .call_each_at_once_with("sign_in", &forms, None, &[("x-forwarded-for", ELSEWHERE)])
        .await;
    assert_eq!(count_status(&replies, StatusCode::UNAUTHORIZED), 4);
    let outside = &replies[0];
    let wrong = sign_in_from(&t, "bea@example.com", "Wrong-Password-1!", OFFICE).await;
    let nobody = sign_in_from(&t, "nobody@example.com", PASSWORD, ELSEWHERE).await;
    assert_eq!(outside.body, wrong.body);
    assert_eq!(outside.body, nobody.body);
    let refused = t.event_kinds().await;
    assert_eq!(
        refused.iter().filter(|k| *k == "allowlist_refused").count(),
        4
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(told(&t, "bea@example.com").await, 1);
    assert_eq!(
        sign_in_from(&t, "bea@example.com", PASSWORD, "192.0.2.200")
            .await
            .status,
        StatusCode::OK
    );
    // An IPv4 client seen as IPv6 (a dual-stack listener) is the same address.
    assert_eq!(
        sign_in_from(&t, "bea@example.com", PASSWORD, "::ffff:198.51.100.7")
            .await
            .status,
        StatusCode::OK
    );
    // "Test an address" reads the saved list.
    let r = t
        .call_with(
            "test_allowlist_address",
            &[("address", "192.0.2.9")],
            Some(&cookie),
            &[("x-forwarded-for", OFFICE)],
        )
        .await;
    assert_eq!(r.json()["allowed"], true, "{}", r.body);
    assert!(r.json()["because"].as_str().unwrap().contains("home"));
    let r = t
        .call_with(
            "test_allowlist_address",
            &[("address", ELSEWHERE)],
            Some(&cookie),
            &[("x-forwarded-for", OFFICE)],
        )
        .await;
    assert_eq!(r.json()["allowed"], false);
    let r = t
        .call_with(
            "test_allowlist_address",
            &[("address", "no")],
            Some(&cookie),
            &[("x-forwarded-for", OFFICE)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_invalid_entry_is_named_and_nothing_is_saved() {
    let t = app_with(&PROXY).await;
    let cookie = owner_at(&t, "cal@example.com", OFFICE).await;
    let r = save(
        &t,
        &cookie,
        OFFICE,
        true,
        &[(OFFICE, ""), ("10.0.0.0/33", ""), ("intranet", "")],
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body.contains("10.0.0.0/33") && r.body.contains("intranet"),
        "{}",
        r.body
    );
    assert!(entries_stored(&t).await.is_empty());
    let r = t
        .call_with(
            "allowlist",
            &[],
            Some(&cookie),
            &[("x-forwarded-for", OFFICE)],
        )
        .await;
    assert_eq!(r.json()["enabled"], false);
    assert_eq!(r.json()["here"], OFFICE);
    // Saved, the list reads back as typed: single addresses bare, ranges whole (an
    // IPv6 /32 range is not a single IPv4 address's /32).
    let r = save(
        &t,
        &cookie,
        OFFICE,
        false,
        &[
            (OFFICE, ""),
            ("2001:db8::/32", "v6 range"),
            ("2001:db8::1", ""),
        ],
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let values: Vec<String> = r.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(values, [OFFICE, "2001:db8::/32", "2001:db8::1"]);
}

#[tokio::test]
async fn parallel_saves_leave_one_whole_list() {
    let t = app_with(&PROXY).await;
    let cookie = owner_at(&t, "dee@example.com", OFFICE).await;
    let lists: Vec<Vec<(String, String)>> = (0..8)
        .map(|n| {
            let mut form = vec![
                ("enabled".to_string(), "true".to_string()),
                ("understood".to_string(), "false".to_string()),
                ("entries[0][value]".to_string(), OFFICE.to_string()),
                ("entries[0][note]".to_string(), format!("list {n}")),
            ];
            for i in 1..=5 {
                form.push((format!("entries[{i}][value]"), format!("10.{n}.{i}.0/24")));
                form.push((format!("entries[{i}][note]"), format!("list {n}")));
            }
            form
        })
        .collect();
    let forms: Vec<Vec<(&str, &str)>> = lists
        .iter()
        .map(|f| f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect())
        .collect();
    let replies = t
        .call_each_at_once_with(
            "save_allowlist",
            &forms,
            Some(&cookie),
            &[("x-forwarded-for", OFFICE)],
        )
        .await;
    assert_eq!(
        count_status(&replies, StatusCode::OK),
        8,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let notes: Vec<String> = sqlx::query_as::<_, (String,)>("SELECT note FROM allowlist_entries")
        .fetch_all(&t.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(notes.len(), 6, "one list of six, not a mix: {notes:?}");
    assert!(notes.iter().all(|n| n == &notes[0]), "{notes:?}");
}

#[tokio::test]
async fn a_token_from_outside_gets_403_ip_not_allowed() {
    let t = app_with(&PROXY).await;
    let cookie = owner_at(&t, "eve@example.com", OFFICE).await;
    let r = t
        .call_with(
            "create_token",
            &[
                ("name", "CI"),
                ("expiration", "30"),
                ("date", ""),
                ("scopes[0]", "account:read"),
            ],
            Some(&cookie),
            &[("x-forwarded-for", OFFICE)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r.json()["secret"].as_str().unwrap().to_string();
    let r = save(&t, &cookie, OFFICE, true, &[(OFFICE, "")], false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let call = |ip: &str| {
        Request::builder()
            .uri("/api/v1/account")
            .header("authorization", format!("Bearer {secret}"))
            .header("x-forwarded-for", ip)
            .body(Body::empty())
            .unwrap()
    };
    let outside = t.send(call(ELSEWHERE)).await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN, "{}", outside.body);
    assert_eq!(outside.headers["content-type"], "application/problem+json");
    assert_eq!(
        outside.json()["type"],
        "urn:latchkey:problem:ip_not_allowed"
    );
    // A script calling from outside over and over: every call refused, logged (and
    // told) once a minute, not once per call.
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let app = t.app.clone();
            let req = call(ELSEWHERE);
            tokio::spawn(async move {
                use tower::ServiceExt;
                app.oneshot(req).await.unwrap().status()
            })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap(), StatusCode::FORBIDDEN);
    }
    let kinds = t.event_kinds().await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "allowlist_refused").count(),
        1
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(told(&t, "eve@example.com").await, 1);
    assert_eq!(t.send(call(OFFICE)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_password_reset_turns_the_list_off_and_says_so() {
    let t = app_with(&PROXY).await;
    let cookie = owner_at(&t, "fox@example.com", OFFICE).await;
    let r = save(&t, &cookie, OFFICE, true, &[(OFFICE, "")], false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Locked out elsewhere: the reset link works from any address.
    let r = t
        .call_with(
            "request_password_reset",
            &[("email", "fox@example.com")],
            None,
            &[("x-forwarded-for", ELSEWHERE)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mail = t
        .mail_with_subject("fox@example.com", "Reset your password")
        .await;
    let token = crate::common::reset_token(&mail);
    let new = "Fresh-Harbor-Lantern-77";
    let r = t
        .call_with(
            "reset_password",
            &[
                ("token", &token),
                ("new_password", new),
                ("new_password_repeat", new),
            ],
            None,
            &[("x-forwarded-for", ELSEWHERE)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        true,
        "the answer says the allowlist was turned off"
    );
    let notice = t
        .mail_with_subject("fox@example.com", "Your password was reset")
        .await;
    assert!(
        notice.text_body.contains("IP allowlist was turned off"),
        "{}",
        notice.text_body
    );
    assert_eq!(
        sign_in_from(&t, "fox@example.com", new, ELSEWHERE)
            .await
            .status,
        StatusCode::OK
    );
    assert!(t
        .event_kinds()
        .await
        .iter()
        .any(|k| k == "allowlist_turned_off"));
}
