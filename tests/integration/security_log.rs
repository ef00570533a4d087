//! Groundwork of the Sessions page and the security log (issue 12): locations from a
//! GeoIP City database, the log read a page at a time, its retention.

use crate::common;
use crate::common::{app, mmdb};
use axum::http::StatusCode;
use latchkey::server::domain::geo::{Geo, LOCAL, UNKNOWN};
use latchkey::server::now;
use latchkey::server::store::events::{self, Cursor, Filter, NewEvent};
use latchkey::server::temp_dir::TempDir;

#[test]
fn locations_come_from_the_city_database() {
    let bytes = mmdb::city_database(&[
        ("81.2.69.0".parse().unwrap(), 24, "London", "United Kingdom"),
        ("89.160.20.112".parse().unwrap(), 28, "Linköping", "Sweden"),
        ("203.0.113.0".parse().unwrap(), 24, "", "Japan"),
    ]);
    let geo = Geo::from_bytes(bytes).unwrap();
    assert_eq!(geo.locate("81.2.69.142"), "London, United Kingdom");
    assert_eq!(geo.locate("81.2.69.1"), "London, United Kingdom");
    assert_eq!(geo.locate("89.160.20.120"), "Linköping, Sweden");
    // Just outside the /28.
    assert_eq!(geo.locate("89.160.20.128"), UNKNOWN);
    assert_eq!(geo.locate("203.0.113.9"), "Japan");
    assert_eq!(geo.locate("8.8.8.8"), UNKNOWN);
    // An IPv6 address in an IPv4 database is not an error, only unknown.
    assert_eq!(geo.locate("2001:db8::1"), UNKNOWN);
    assert_eq!(geo.locate("192.168.0.7"), LOCAL);
    // A file that is not a database is refused at start, with its name.
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("broken.mmdb");
    std::fs::write(&path, b"not a database").unwrap();
    let err = Geo::open(&path).err().unwrap();
    assert!(err.contains("broken.mmdb"), "{err}");
}

async fn write(t: &common::TestApp, user_id: i64, kind: &str, at: i64) {
    events::insert(
        &t.state.db,
        NewEvent {
            user_id: Some(user_id),
            kind,
            at,
            ip: "203.0.113.7",
            user_agent: "test",
            detail: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
}

async fn user(t: &common::TestApp, email: &str) -> i64 {
    t.verified_user(email).await
}

#[tokio::test]
async fn pages_of_the_log_neither_repeat_nor_skip_events_of_the_same_second() {
    let t = app().await;
    let ann = user(&t, "ann@example.com").await;
    let bob = user(&t, "bob@example.com").await;
    let t0 = 1_800_000_000;
    // 7 events in one second, 3 in the next, and Bob's in between.
    for _ in 0..7 {
        write(&t, ann, "sign_in_failed", t0).await;
        write(&t, bob, "sign_in_failed", t0).await;
    }
    for _ in 0..3 {
        write(&t, ann, "password_changed", t0 + 1).await;
    }
    let everything = Filter {
        from: Some(t0 - 10),
        ..Filter::default()
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = events::page(&t.state.db, ann, &everything, after, 4)
            .await
            .unwrap();
        assert!(page.len() <= 4);
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        after = Some(Cursor {
            at: last.at,
            id: last.id,
        });
        // An event written meanwhile (newer) does not shift the pages.
        write(&t, ann, "sign_out", t0 + 5).await;
        seen.extend(page.into_iter().filter(|e| e.at <= t0 + 1));
    }
    let ids: Vec<i64> = seen.iter().map(|e| e.id).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids.len(), 10, "{ids:?}");
    assert_eq!(unique, ids, "no event twice");
    // Newest first: time, then id.
    assert!(seen
        .windows(2)
        .all(|w| (w[0].at, w[0].id) > (w[1].at, w[1].id)));
    assert!(seen.iter().all(|e| e.user_id == Some(ann)));
}

async fn kinds(t: &common::TestApp, user_id: i64, filter: Filter<'_>) -> Vec<String> {
    events::page(&t.state.db, user_id, &filter, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn filters_keep_a_category_and_a_date_range() {
    let t = app().await;
    let ann = user(&t, "ann@example.com").await;
    let t0 = 1_800_000_000;
    write(&t, ann, "sign_in_failed", t0).await;
    write(&t, ann, "password_changed", t0 + 100).await;
    write(&t, ann, "mfa_enabled", t0 + 200).await;
    write(&t, ann, "password_reset", t0 + 300).await;
    let password = ["password_changed", "password_reset"];
    assert_eq!(
        kinds(
            &t,
            ann,
            Filter {
                kinds: Some(&password),
                ..Filter::default()
            }
        )
        .await,
        ["password_reset", "password_changed"]
    );
    assert_eq!(
        kinds(
            &t,
            ann,
            Filter {
                from: Some(t0 + 100),
                until: Some(t0 + 300),
                ..Filter::default()
            }
        )
        .await,
        ["mfa_enabled", "password_changed"]
    );
    assert_eq!(
        kinds(
            &t,
            ann,
            Filter {
                kinds: Some(&password),
                from: Some(t0 + 200),
                until: None,
            }
        )
        .await,
        ["password_reset"]
    );
    assert!(kinds(
        &t,
        ann,
        Filter {
            kinds: Some(&[]),
            ..Filter::default()
        }
    )
    .await
    .is_empty());
}

#[tokio::test]
async fn housekeeping_removes_events_past_the_retention() {
    use latchkey::server::state::housekeeping;
    let t = app().await;
    assert_eq!(t.state.config.log.retention_secs, 400 * 24 * 3600);
    let ann = user(&t, "ann@example.com").await;
    let t0 = now();
    let day = 24 * 3600;
    write(&t, ann, "sign_in_failed", t0 - 401 * day).await;
    write(&t, ann, "password_changed", t0 - 399 * day).await;
    let before = t.count("SELECT COUNT(*) FROM security_events").await;
    assert!(housekeeping(&t.state, t0).await);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM security_events").await,
        before - 1
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM security_events WHERE kind = 'password_changed'")
            .await,
        1
    );
}

/// Ann, signed in, with a log of `n` failed sign-ins at one second plus what her own
/// sign-up and sign-in wrote; gives her session cookie.
async fn ann_with_events(t: &common::TestApp, n: usize, at: i64) -> (i64, String) {
    let ann = user(t, "ann@example.com").await;
    for _ in 0..n {
        write(t, ann, "sign_in_failed", at).await;
    }
    let cookie = t
        .sign_in("ann@example.com", common::PASSWORD)
        .await
        .session_cookie();
    (ann, cookie)
}

#[tokio::test]
async fn the_log_page_reads_in_words_fifty_at_a_time() {
    let t = app().await;
    let (_, cookie) = ann_with_events(&t, 120, now() - 60).await;
    let bob = user(&t, "bob@example.com").await;
    write(&t, bob, "password_changed", now()).await;
    let mut after = String::new();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = t
            .call("security_log", &[("after", after.as_str())], Some(&cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = r.json();
        let entries = page["entries"].as_array().unwrap().clone();
        assert!(entries.len() <= 50);
        pages += 1;
        seen.extend(entries);
        match page["next"].as_str() {
            Some(next) => after = next.to_string(),
            None => break,
        }
    }
    // 120 wrong passwords + sign-up, verification, the sign-in and its notice (held
    // back: the first sign-in): three pages.
    assert_eq!(pages, 3);
    let ids: std::collections::HashSet<i64> =
        seen.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), seen.len(), "no event twice");
    assert_eq!(
        seen[0]["event"],
        "New sign-in notice held back (the account's first sign-in): new device, new browser, new location"
    );
    assert_eq!(seen[1]["event"], "Signed in");
    assert_eq!(seen[1]["outcome"], "Success");
    let wrong = seen
        .iter()
        .filter(|e| e["event"] == "Wrong password")
        .count();
    assert_eq!(wrong, 120);
    assert!(seen
        .iter()
        .filter(|e| e["event"] == "Wrong password")
        .all(|e| e["outcome"] == "Refused" && e["ip"] == "203.0.113.7"));
    // Bob's password change is not in Ann's log.
    assert!(!seen.iter().any(|e| e["event"] == "Password changed"));
    // Filters: a category, and a date range that leaves out the older events.
    let r = t
        .call("security_log", &[("category", "password")], Some(&cookie))
        .await;
    assert!(r.json()["entries"].as_array().unwrap().is_empty());
    let from = (now() - 30).to_string();
    let r = t
        .call("security_log", &[("from", from.as_str())], Some(&cookie))
        .await;
    let recent = r.json()["entries"].as_array().unwrap().clone();
    assert!(!recent.is_empty() && recent.iter().all(|e| e["event"] != "Wrong password"));
    // Bad input is a 400 with words; signed out is a 401.
    for form in [
        [("category", "everything"), ("after", "")],
        [("category", ""), ("after", "not-a-cursor")],
    ] {
        let r = t.call("security_log", &form, Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    }
    let r = t
        .call(
            "security_log",
            &[("from", "100"), ("until", "50")],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        t.call("security_log", &[], None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn exports_stream_every_event_as_csv_and_json_lines() {
    let t = app().await;
    let (ann, cookie) = ann_with_events(&t, 2_345, now() - 60).await;
    // A hostile user agent: a formula, quotes, a line break and markup.
    let hostile = "=HYPERLINK(\"http://evil\")\n<script>alert(1)</script>, \"x\"";
    events::insert(
        &t.state.db,
        NewEvent {
            user_id: Some(ann),
            kind: "password_changed",
            at: now() - 30,
            ip: "203.0.113.7",
            user_agent: hostile,
            detail: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
    // Bob's events, older and newer, are in nobody's export but his.
    let bob = user(&t, "bob@example.com").await;
    for at in [now() - 90, now() - 45, now()] {
        write(&t, bob, "mfa_enabled", at).await;
    }
    let total = t
        .count(&format!(
            "SELECT COUNT(*) FROM security_events WHERE user_id = {ann}"
        ))
        .await as usize;

    let csv = t
        .get("/api/security-log/export?format=csv", Some(&cookie))
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let day = &latchkey::model::time::format_iso(now())[..10];
    assert_eq!(
        csv.headers["content-disposition"],
        format!("attachment; filename=\"security-log-ann_example.com-{day}.csv\"").as_str()
    );
    let mut reader = csv.body.as_bytes();
    let rows = parse_csv(&mut reader);
    assert_eq!(rows[0][0], "Time (UTC)");
    assert_eq!(rows.len(), total + 1, "a header and every event");
    let changed = rows.iter().find(|r| r[1] == "Password changed").unwrap();
    // The formula is neutralised, the rest kept as it was, in one cell.
    assert_eq!(changed[6], format!("'{hostile}"));
    assert_eq!(
        rows.iter().filter(|r| r[1] == "Wrong password").count(),
        2_345
    );

    let jsonl = t
        .get("/api/security-log/export?format=jsonl", Some(&cookie))
        .await;
    assert_eq!(jsonl.status, StatusCode::OK);
    let lines: Vec<serde_json::Value> = jsonl
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), total);
    let changed = lines
        .iter()
        .find(|l| l["event"] == "Password changed")
        .unwrap();
    assert_eq!(changed["user_agent"], hostile);
    assert!(!jsonl.body.contains("<script>"), "markup escaped in JSON");
    // Newest first, as on the page.
    assert!(lines
        .windows(2)
        .all(|w| w[0]["unix_time"].as_i64() >= w[1]["unix_time"].as_i64()));

    // Filters are honoured.
    let only = t
        .get(
            "/api/security-log/export?format=jsonl&category=password",
            Some(&cookie),
        )
        .await;
    assert_eq!(only.body.lines().count(), 1);
    assert!(!csv.body.contains("turned on") && !jsonl.body.contains("turned on"));
    // So is a date range (the 2,345 wrong passwords are a minute old).
    let from = now() - 40;
    let recent = t
        .get(
            &format!(
                "/api/security-log/export?format=jsonl&from={from}&until={}",
                now() + 5
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(recent.status, StatusCode::OK, "{}", recent.body);
    let recent: Vec<serde_json::Value> = recent
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!recent.is_empty());
    assert!(recent
        .iter()
        .all(|l| l["unix_time"].as_i64().unwrap() >= from && l["event"] != "Wrong password"));
    let old = t
        .get(
            &format!("/api/security-log/export?format=csv&until={from}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(old.status, StatusCode::OK, "{}", old.body);
    let old_rows = parse_csv(&mut old.body.as_bytes());
    assert_eq!(old_rows.len(), 1 + 2_345);
    assert!(old_rows[1..]
        .iter()
        .all(|r| r[1] == "Wrong password" && r[7].parse::<i64>().unwrap() < from));
    // Another site cannot start a download for a signed-in visitor.
    let cross = t
        .send(
            axum::http::Request::get("/api/security-log/export?format=csv")
                .header("cookie", &cookie)
                .header("sec-fetch-site", "cross-site")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    // Signed out, a bad format or category: an error, not a file.
    let r = t.get("/api/security-log/export?format=csv", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = t
        .get("/api/security-log/export?format=xls", Some(&cookie))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = t
        .get(
            "/api/security-log/export?format=csv&category=nope",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = t
        .get("/api/security-log/export?format=csv&from=x", Some(&cookie))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// A small RFC 4180 reader (quoted cells, doubled quotes, line breaks in cells).
fn parse_csv(input: &mut &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(input).unwrap();
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

/// Issue 22: exports read the whole log, so they are counted per account: many at once
/// from one account get "too many" past the allowance.
#[tokio::test]
async fn exports_are_throttled_per_account_even_all_at_once() {
    use latchkey::server::domain::throttle::EXPORTS_ACCOUNT;
    let t = app().await;
    let (_, cookie) = ann_with_events(&t, 3, now() - 60).await;
    let n = EXPORTS_ACCOUNT.free as usize + 5;
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let app = t.app.clone();
            let cookie = cookie.clone();
            tokio::spawn(async move {
                let req = axum::http::Request::get("/api/security-log/export?format=csv")
                    .header("cookie", &cookie)
                    .header("host", "127.0.0.1:3000")
                    .body(axum::body::Body::empty())
                    .unwrap();
                tower::ServiceExt::oneshot(app, req).await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (ok, refused),
        (EXPORTS_ACCOUNT.free as usize, 5),
        "{statuses:?}"
    );
}

/// Issue 22: an export stops when its session ends while it is being sent (revoked
/// from another device, signed out): the rest of the log is not sent.
#[tokio::test]
async fn an_export_stops_when_its_session_ends_mid_stream() {
    use http_body_util::BodyExt;
    let t = app().await;
    let (ann, cookie) = ann_with_events(&t, 6_000, now() - 60).await;
    let req = axum::http::Request::get("/api/security-log/export?format=jsonl")
        .header("cookie", &cookie)
        .header("host", "127.0.0.1:3000")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(t.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    // The first batch arrives; then the session is revoked.
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(!first.is_empty());
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(ann)
        .execute(&t.state.db)
        .await
        .unwrap();
    let mut lines = first.iter().filter(|b| **b == b'\n').count();
    let mut ended_with_error = false;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    lines += data.iter().filter(|b| **b == b'\n').count();
                }
            }
            Err(_) => {
                ended_with_error = true;
                break;
            }
        }
    }
    assert!(ended_with_error, "the download should break off");
    // At most the batches already under way went out, not the 6,000 events.
    assert!(lines < 6_000, "{lines} lines were sent");
}
