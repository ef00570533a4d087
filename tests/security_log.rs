//! Groundwork of the Sessions page and the security log (issue 12): locations from a
//! GeoIP City database, the log read a page at a time, its retention.
mod common;

use common::{app, mmdb};
use latchkey::server::domain::geo::{Geo, LOCAL, UNKNOWN};
use latchkey::server::now;
use latchkey::server::store::events::{self, Cursor, Filter, NewEvent};

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
    let dir = tempfile::tempdir().unwrap();
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
    t.sign_up_verified(email, common::PASSWORD).await;
    latchkey::server::store::users::by_email(&t.state.db, email)
        .await
        .unwrap()
        .unwrap()
        .id
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
    assert_eq!(t.state.config.log_retention_secs, 400 * 24 * 3600);
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
