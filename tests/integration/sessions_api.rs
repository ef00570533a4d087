//! Settings > Sessions over the server functions: the list, "Revoke" and "Sign out
//! all other sessions".

use crate::common;
use crate::common::{app, TestApp, PASSWORD};
use axum::http::StatusCode;
use latchkey::server::temp_dir::TempDir;

const LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Signs in from a browser with that user agent; its session cookie.
async fn browser(t: &TestApp, email: &str, user_agent: &str) -> String {
    let r = t
        .call_with(
            "sign_in",
            &[("email", email), ("password", PASSWORD)],
            None,
            &[("user-agent", user_agent)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.session_cookie()
}

#[tokio::test]
async fn the_list_marks_this_device_and_describes_the_others() {
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    let laptop = browser(&t, "ann@example.com", LINUX).await;
    let phone = browser(&t, "ann@example.com", IPHONE).await;
    let r = t.call("sessions", &[], Some(&laptop)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let current: Vec<_> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["device"], "Chrome on Linux");
    assert_eq!(current[0]["kind"], "Desktop");
    let other = list.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["kind"], "Phone");
    assert!(
        other["device"].as_str().unwrap().contains("Safari"),
        "{other}"
    );
    // Test requests come from 203.0.113.7, placed by the installed country database
    // (tests/integration/notices.rs checks places read from the file).
    assert_eq!(other["ip"], "203.0.113.7");
    assert_eq!(other["location"], current[0]["location"]);
    assert!(!other["location"].as_str().unwrap().is_empty());
    // Newest activity first: this device was active just now.
    assert_eq!(list[0]["current"], true);
    // No token, hash or cookie in the answer.
    let body = r.body.to_lowercase();
    assert!(!body.contains("token") && !body.contains(&phone.to_lowercase()));
    // Signed out: no list.
    assert_eq!(
        t.call("sessions", &[], None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_revoked_session_is_refused_at_its_next_request() {
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    let laptop = browser(&t, "ann@example.com", LINUX).await;
    let phone = browser(&t, "ann@example.com", IPHONE).await;
    let list = t.call("sessions", &[], Some(&laptop)).await.json();
    let me = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .to_string();
    let other = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .to_string();
    // Not this device: that is what signing out is for.
    let r = t
        .call("revoke_session", &[("id", &me)], Some(&laptop))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = t
        .call("revoke_session", &[("id", &other)], Some(&laptop))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The phone's next server-function call finds no session.
    assert_eq!(
        t.call("sessions", &[], Some(&phone)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = t
        .call("revoke_session", &[("id", &other)], Some(&laptop))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(t
        .event_kinds()
        .await
        .contains(&"session_revoked".to_string()));
    // Nonsense ids are a 400, not a 500.
    let r = t
        .call(
            "revoke_session",
            &[("id", "x'; DROP TABLE sessions")],
            Some(&laptop),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
}

#[tokio::test]
async fn nobody_revokes_another_accounts_session() {
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    t.sign_up_verified("eve@example.com", PASSWORD).await;
    let ann = browser(&t, "ann@example.com", LINUX).await;
    let eve = browser(&t, "eve@example.com", LINUX).await;
    let list = t.call("sessions", &[], Some(&ann)).await.json();
    let ann_id = list[0]["id"].to_string();
    let r = t
        .call("revoke_session", &[("id", &ann_id)], Some(&eve))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        t.call("sessions", &[], Some(&ann)).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_out_all_other_sessions_keeps_this_one_even_raced() {
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    let laptop = browser(&t, "ann@example.com", LINUX).await;
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(browser(&t, "ann@example.com", IPHONE).await);
    }
    let replies = t
        .call_parallel(4, "revoke_other_sessions", &[], Some(&laptop))
        .await;
    assert_eq!(common::count_status(&replies, StatusCode::OK), 4);
    let ended: i64 = replies.iter().map(|r| r.json().as_i64().unwrap()).sum();
    assert_eq!(ended, 3, "each other session ended once");
    for cookie in &others {
        assert_eq!(
            t.call("sessions", &[], Some(cookie)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let list = t.call("sessions", &[], Some(&laptop)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(t
        .event_kinds()
        .await
        .contains(&"other_sessions_revoked".to_string()));
}

#[tokio::test]
async fn sessions_are_placed_with_the_configured_city_database() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("GeoLite2-City.mmdb");
    std::fs::write(
        &path,
        common::mmdb::city_database(&[("203.0.113.0".parse().unwrap(), 24, "Tokyo", "Japan")]),
    )
    .unwrap();
    let t = common::app_with(&[("LATCHKEY_GEOIP_DATABASE", path.to_str().unwrap())]).await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    let laptop = browser(&t, "ann@example.com", LINUX).await;
    let list = t.call("sessions", &[], Some(&laptop)).await.json();
    assert_eq!(list[0]["location"], "Tokyo, Japan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_devices_signing_each_other_out_at_once_leave_one_signed_in() {
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    for round in 0..8 {
        let laptop = browser(&t, "ann@example.com", LINUX).await;
        let phone = browser(&t, "ann@example.com", IPHONE).await;
        let (a, b) = tokio::join!(
            t.call("revoke_other_sessions", &[], Some(&laptop)),
            t.call("revoke_other_sessions", &[], Some(&phone)),
        );
        let left = t.count("SELECT COUNT(*) FROM sessions").await;
        assert_eq!(
            left, 1,
            "round {round}: {} {} / {} {}",
            a.status, a.body, b.status, b.body
        );
        let ok = [&a, &b]
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        assert_eq!(ok, 1, "round {round}: one of them was already signed out");
        // Start the next round from nothing.
        sqlx::query("DELETE FROM sessions")
            .execute(&t.state.db)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn last_activity_is_written_at_most_once_a_minute() {
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    let laptop = browser(&t, "ann@example.com", LINUX).await;
    let phone = browser(&t, "ann@example.com", IPHONE).await;
    // The phone's session is the newest.
    let phone_seen = "SELECT last_seen_at FROM sessions ORDER BY id DESC LIMIT 1";
    let shift = |secs: i64| format!("UPDATE sessions SET last_seen_at = last_seen_at - {secs}");
    // 50 seconds after its last record, requests do not write.
    sqlx::query(&shift(50)).execute(&t.state.db).await.unwrap();
    let before = t.count(phone_seen).await;
    for _ in 0..5 {
        assert_eq!(
            t.call("sessions", &[], Some(&phone)).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(t.count(phone_seen).await, before);
    // A minute after it, the next request records it, and the laptop sees it.
    sqlx::query(&shift(15)).execute(&t.state.db).await.unwrap();
    t.call("sessions", &[], Some(&phone)).await;
    let list = t.call("sessions", &[], Some(&laptop)).await.json();
    let phone_row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()
        .clone();
    let now = latchkey::server::now();
    assert!(
        phone_row["last_active_at"].as_i64().unwrap() >= now - 2,
        "{phone_row}"
    );
}

/// Issue 22: the one recent-proof rule. Revoking sessions needs no password shortly
/// after signing in; once the proof is older than `session.reauth_seconds`, the
/// revocation answers "proof needed" (403), and with the password (throttled, a wrong
/// one refused) it goes through and the proof is fresh again.
#[tokio::test]
async fn revoking_asks_for_the_password_once_the_last_proof_is_old() {
    use latchkey::model::error::ApiError;
    use latchkey::server::auth::Caller;
    use latchkey::server::flows::{accounts, sessions};
    let t = crate::common::app().await;
    let t0 = latchkey::server::now();
    let base = Caller::new("198.51.100.30", "test", None);
    let me = t.owner("proof@example.com", t0, base.clone()).await;
    let other = |at: i64| {
        let base = base.clone();
        let t = &t;
        async move {
            match accounts::sign_in(&t.state, &base, "proof@example.com", PASSWORD, None, at)
                .await
                .map_err(ApiError::from)
                .unwrap()
            {
                accounts::SignInOutcome::Session { token, .. } => {
                    t.session_caller(&token, base.clone()).await
                }
                _ => panic!("expected a session"),
            }
        }
    };
    // Just signed in: no password asked.
    let second = other(t0 + 1).await;
    sessions::revoke(
        &t.state,
        &me,
        second.session().unwrap().session_id,
        None,
        t0 + 2,
    )
    .await
    .map_err(ApiError::from)
    .unwrap();
    // Long after: asked for.
    let late = t0 + t.state.config.session.reauth_secs + 10;
    let third = other(late - 5).await;
    let id = third.session().unwrap().session_id;
    let e = sessions::revoke(&t.state, &me, id, None, late)
        .await
        .map_err(ApiError::from)
        .unwrap_err();
    assert!(matches!(e, ApiError::ProofNeeded(_)), "{e:?}");
    assert_eq!(e.status(), 403);
    let e = sessions::revoke_others(&t.state, &me, None, late)
        .await
        .map_err(ApiError::from)
        .unwrap_err();
    assert!(matches!(e, ApiError::ProofNeeded(_)), "{e:?}");
    let e = sessions::revoke(&t.state, &me, id, Some("Wrong-Password-1!"), late)
        .await
        .map_err(ApiError::from)
        .unwrap_err();
    assert!(e.for_field("password").is_some(), "{e:?}");
    sessions::revoke(&t.state, &me, id, Some(PASSWORD), late)
        .await
        .map_err(ApiError::from)
        .unwrap();
    // The password was a proof: the next one needs none.
    other(late + 1).await;
    assert_eq!(
        sessions::revoke_others(&t.state, &me, None, late + 2)
            .await
            .map_err(ApiError::from)
            .unwrap(),
        1
    );
}
