//! The database under an operator's feet: connections that PostgreSQL closed while
//! they waited in the pool (a restart, a failover, an idle timeout) cost no request,
//! housekeeping never waits for rows a sign-in holds, sign-ins never hold a connection
//! while they wait for another, and the session a password alone completes is only
//! stored for an account without a second factor.

use crate::common::{app, app_with, on_postgres, Reply, PASSWORD};
use axum::http::StatusCode;
use latchkey::server::store::{sessions, throttles};
use std::time::Duration;

/// A session of `user_id`'s, as the tests below store it.
fn new_session(user_id: i64, token_hash: &[u8]) -> sessions::NewSession<'_> {
    sessions::NewSession {
        token_hash,
        user_id,
        signed_in_at: 1000,
        now: 1000,
        expires_at: 9000,
        ip: "203.0.113.7",
        user_agent: "test",
    }
}

#[tokio::test]
async fn a_session_is_stored_by_a_password_alone_only_without_a_second_factor() {
    let t = app().await;
    let ann = t.verified_user("ann@example.com").await;
    let mut n = 0u8;
    let mut insert = || {
        n += 1;
        let token_hash = vec![n; 32];
        let db = t.state.db.clone();
        async move {
            sessions::insert_unless_second_factor(&db, new_session(ann, &token_hash), 0)
                .await
                .unwrap()
        }
    };
    let sessions_now = || t.count("SELECT COUNT(*) FROM sessions");
    let before = sessions_now().await;
    assert!(insert().await.is_some(), "no method: a session");
    assert_eq!(sessions_now().await, before + 1);
    let exec = |sql: &'static str| {
        let db = t.state.db.clone();
        async move {
            sqlx::query(sql).bind(ann).execute(&db).await.unwrap();
        }
    };
    // An authenticator being set up (not yet confirmed) does not count.
    sqlx::query("INSERT INTO totp_methods (user_id, secret_sealed, created_at) VALUES ($1, $2, 1)")
        .bind(ann)
        .bind(b"sealed".as_slice())
        .execute(&t.state.db)
        .await
        .unwrap();
    assert!(insert().await.is_some(), "an unconfirmed authenticator");
    exec("UPDATE totp_methods SET enabled_at = 2 WHERE user_id = $1").await;
    assert!(insert().await.is_none(), "an enabled authenticator");
    exec("DELETE FROM totp_methods WHERE user_id = $1").await;
    exec("INSERT INTO code_methods (user_id, channel, enabled_at) VALUES ($1, 'email', 3)").await;
    assert!(insert().await.is_none(), "email codes");
    exec("UPDATE code_methods SET channel = 'sms', destination = '+15550100' WHERE user_id = $1")
        .await;
    assert!(insert().await.is_none(), "SMS codes");
    exec("DELETE FROM code_methods WHERE user_id = $1").await;
    assert!(insert().await.is_some(), "every method off again");
    assert_eq!(sessions_now().await, before + 3);
}

/// The end of a sign-in by password (one statement on PostgreSQL, a transaction on
/// SQLite): the old session ends either way; the new one and its log entry are stored
/// only without a second factor.
#[tokio::test]
async fn a_sign_in_ends_the_old_session_and_starts_one_with_its_entry_only_without_a_second_factor()
{
    let t = app().await;
    let ann = t.verified_user("ann@example.com").await;
    static HASHES: [[u8; 32]; 4] = [[0; 32], [1; 32], [2; 32], [3; 32]];
    let session = |n: u8| new_session(ann, &HASHES[n as usize]);
    let entry = || latchkey::server::store::events::NewEvent {
        user_id: Some(ann),
        kind: "sign_in_succeeded",
        at: 1000,
        ip: "203.0.113.7",
        user_agent: "test",
        detail: serde_json::json!({"n": 1}),
    };
    let count = |sql: &'static str| t.count(sql);
    let entries = "SELECT COUNT(*) FROM security_events WHERE kind = 'sign_in_succeeded' AND detail = '{\"n\":1}'";
    let mut conn = t.state.db.acquire().await.unwrap();
    let started = sessions::start_for_sign_in(&mut conn, None, session(1), 0, entry())
        .await
        .unwrap()
        .expect("stored");
    let first: i64 = sqlx::query_scalar("SELECT id FROM sessions WHERE token_hash = $1")
        .bind(vec![1u8; 32])
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(started, first, "the id of the session it stored");
    assert_eq!(count(entries).await, 1);
    // Signing in again from that browser replaces its session.
    let restarted = sessions::start_for_sign_in(&mut conn, Some(first), session(2), 0, entry())
        .await
        .unwrap()
        .expect("stored");
    // (By its token: SQLite may give the new row the id the old one had.)
    let gone: Option<i64> = sqlx::query_scalar("SELECT id FROM sessions WHERE token_hash = $1")
        .bind(vec![1u8; 32])
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
    assert_eq!(gone, None, "the browser's old session ended");
    let second: i64 = sqlx::query_scalar("SELECT id FROM sessions WHERE token_hash = $1")
        .bind(vec![2u8; 32])
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(restarted, second);
    assert_eq!(count(entries).await, 2);
    // With an authenticator on: the old session ends, nothing else is written.
    sqlx::query("INSERT INTO totp_methods (user_id, secret_sealed, created_at, enabled_at) VALUES ($1, $2, 1, 2)")
        .bind(ann)
        .bind(b"sealed".as_slice())
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(
        sessions::start_for_sign_in(&mut conn, Some(second), session(3), 0, entry())
            .await
            .unwrap(),
        None
    );
    for n in [1u8, 2, 3] {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM sessions WHERE token_hash = $1")
                .bind(vec![n; 32])
                .fetch_optional(&mut *conn)
                .await
                .unwrap();
        assert_eq!(
            found, None,
            "session {n}: the old one ended, no new one started"
        );
    }
    assert_eq!(count(entries).await, 2);
}

/// Sign-ins hold a connection of the pool around their queries and give it back before
/// the hash and before anything that takes another one: with a pool of one, sign-ins
/// of every outcome sent at once all finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_ins_of_every_outcome_at_once_all_finish_on_a_pool_of_one_connection() {
    let t = app_with(&[("LATCHKEY_DATABASE_MAX_CONNECTIONS", "1")]).await;
    for who in ["ann", "bob", "carol", "dan"] {
        t.sign_up_verified(&format!("{who}@example.com"), PASSWORD)
            .await;
    }
    // Bob has an authenticator on; Carol must wait.
    sqlx::query(
        "INSERT INTO totp_methods (user_id, secret_sealed, created_at, enabled_at)
         SELECT id, $1, 1, 2 FROM users WHERE email = 'bob@example.com'",
    )
    .bind(b"sealed".as_slice())
    .execute(&t.state.db)
    .await
    .unwrap();
    // (Her counter for this address, written as after twenty failures: fifteen
    // minutes to wait, however long the sign-ins below take.)
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    sqlx::query("INSERT INTO throttles (key, failures, last_failure) VALUES ($1, 20, $2)")
        .bind(t.state.keys.hash(
            latchkey::server::domain::tokens::Purpose::Throttle,
            "sign-in:account-ip:carol@example.com|203.0.113.7",
        ))
        .bind(now)
        .execute(&t.state.db)
        .await
        .unwrap();
    let attempts = [
        ("ann@example.com", PASSWORD),
        ("bob@example.com", PASSWORD),
        ("carol@example.com", PASSWORD),
        ("dan@example.com", "Wrong-Password-1!"),
        ("nobody@example.com", PASSWORD),
    ];
    let forms: Vec<Vec<(&str, &str)>> = attempts
        .iter()
        .flat_map(|&(email, password)| {
            std::iter::repeat_n(vec![("email", email), ("password", password)], 4)
        })
        .collect();
    let replies = tokio::time::timeout(
        Duration::from_secs(120),
        t.call_each_at_once("sign_in", &forms),
    )
    .await
    .expect("every sign-in finishes");
    let replies: Vec<(&str, Reply)> = forms.iter().map(|f| f[0].1).zip(replies).collect();
    for (email, reply) in &replies {
        let cookie = reply.set_cookie().unwrap_or_default();
        match *email {
            "ann@example.com" => {
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                assert!(cookie.contains("latchkey_session="), "{cookie}");
            }
            "bob@example.com" => {
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                assert!(reply.body.contains("/signin/verify"), "{}", reply.body);
                assert!(!cookie.contains("latchkey_session="), "{cookie}");
            }
            "carol@example.com" => {
                assert_eq!(
                    reply.status,
                    StatusCode::TOO_MANY_REQUESTS,
                    "{}",
                    reply.body
                )
            }
            _ => assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body),
        }
    }
    assert_eq!(replies.len(), 20);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM pending_sign_ins").await,
        4,
        "one second step per sign-in of Bob's"
    );
}

#[tokio::test]
async fn connections_the_server_closed_while_idle_are_replaced_not_failed() {
    if !on_postgres() {
        return; // An in-process SQLite database never closes a connection.
    }
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    let cookie = t
        .sign_in("ann@example.com", PASSWORD)
        .await
        .session_cookie();
    // Several connections in the pool.
    let c = Some(cookie.as_str());
    let (a, b, d, e) = tokio::join!(
        t.call("sessions", &[], c),
        t.call("sessions", &[], c),
        t.call("sessions", &[], c),
        t.call("sessions", &[], c),
    );
    for r in [a, b, d, e] {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // The server ends every other connection of this database, as a restart would,
    // and the pool's connections then wait a while.
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&t.state.db)
    .await
    .unwrap();
    assert!(!ended.is_empty(), "the pool held other connections");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for _ in 0..6 {
        let r = t.call("sessions", &[], c).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
}

#[tokio::test]
async fn housekeeping_leaves_a_counter_a_sign_in_holds_for_its_next_round() {
    let t = app().await;
    sqlx::query(
        "INSERT INTO throttles (key, failures, last_failure) VALUES ($1, 3, 100), ($2, 3, 100)",
    )
    .bind(b"held".as_slice())
    .bind(b"free".as_slice())
    .execute(&t.state.db)
    .await
    .unwrap();
    if on_postgres() {
        // A sign-in's transaction holds one stale counter. Waiting for it while
        // holding others could deadlock with a sign-in that locks rows in another
        // order, so the round removes what it can and does not wait.
        let mut sign_in = t.state.db.begin().await.unwrap();
        sqlx::query("UPDATE throttles SET failures = 4 WHERE key = $1")
            .bind(b"held".as_slice())
            .execute(&mut *sign_in)
            .await
            .unwrap();
        let pruned =
            tokio::time::timeout(Duration::from_secs(3), throttles::prune(&t.state.db, 1000))
                .await
                .expect("housekeeping does not wait for a sign-in's counters")
                .unwrap();
        assert_eq!(pruned, 1);
        sign_in.commit().await.unwrap();
        assert_eq!(t.count("SELECT COUNT(*) FROM throttles").await, 1);
    }
    // The next round (or, on SQLite, whose writers take turns, this one) removes the rest.
    let pruned = throttles::prune(&t.state.db, 1000).await.unwrap();
    assert_eq!(pruned, if on_postgres() { 1 } else { 2 });
    assert_eq!(t.count("SELECT COUNT(*) FROM throttles").await, 0);
}

#[tokio::test]
async fn only_the_counting_of_attempts_skips_waiting_for_the_disk() {
    if !on_postgres() {
        return; // SQLite's durability is one setting for the whole file (synchronous = NORMAL).
    }
    let t = app().await;
    let show = "SELECT current_setting('synchronous_commit')";
    let mut conn = t.state.db.acquire().await.unwrap();
    let mut counting = throttles::begin(&mut conn).await.unwrap();
    let inside: String = sqlx::query_scalar(show)
        .fetch_one(&mut *counting)
        .await
        .unwrap();
    assert_eq!(inside, "off");
    counting.commit().await.unwrap();
    let after: String = sqlx::query_scalar(show)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(after, "on");
    // The one-round-trip counting functions relax it for their own transaction only.
    let one: [(&[u8], u32, i64); 1] = [(b"k", 5, 60)];
    throttles::count_all_within_allowance(&mut conn, &one, 1000)
        .await
        .unwrap();
    throttles::clear_and_refund_at_once(&mut conn, &[b"k"], &[])
        .await
        .unwrap();
    let after: String = sqlx::query_scalar(show)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(after, "on");
    drop(conn);
    // What they do, seen inside a transaction (the store never calls them in one: the
    // whole transaction would then skip waiting for the disk).
    let mut tx = t.state.db.begin().await.unwrap();
    sqlx::query(
        "SELECT throttles_count_within_allowance($1, $2, 5, 60,
             NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    .bind(1000i64)
    .bind(b"k2".as_slice())
    .execute(&mut *tx)
    .await
    .unwrap();
    let inside: String = sqlx::query_scalar(show).fetch_one(&mut *tx).await.unwrap();
    assert_eq!(inside, "off");
    tx.rollback().await.unwrap();
    // The same connection, back in the pool, waits for the disk again.
    for _ in 0..4 {
        let after: String = sqlx::query_scalar(show)
            .fetch_one(&t.state.db)
            .await
            .unwrap();
        assert_eq!(after, "on");
    }
}

/// PostgreSQL counts attempts in one round trip (migration 0007's functions): all of a
/// request's counters or none, exactly up to the allowance under parallel requests;
/// SQLite leaves them to the transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counting_in_one_round_trip_is_all_or_nothing_and_exact_in_parallel() {
    let t = app().await;
    let failures = |key: &'static [u8]| {
        let db = t.state.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT failures FROM throttles WHERE key = $1")
                .bind(key)
                .fetch_optional(&db)
                .await
                .unwrap()
        }
    };
    let mut conn = t.state.db.acquire().await.unwrap();
    let three: [(&[u8], u32, i64); 3] = [(b"a", 5, 3600), (b"b", 2, 3600), (b"c", 5, 3600)];
    let counted = throttles::count_all_within_allowance(&mut conn, &three, 1000)
        .await
        .unwrap();
    if !on_postgres() {
        assert_eq!(counted, None);
        assert!(
            !throttles::clear_and_refund_at_once(&mut conn, &[b"a"], &[b"c"])
                .await
                .unwrap()
        );
        assert_eq!(failures(b"a").await, None, "nothing written");
        return;
    }
    assert_eq!(counted, Some(true));
    assert_eq!(
        throttles::count_all_within_allowance(&mut conn, &three, 1001)
            .await
            .unwrap(),
        Some(true)
    );
    // "b" has used its two: nothing at all is counted, not even "a" before it.
    assert_eq!(
        throttles::count_all_within_allowance(&mut conn, &three, 1002)
            .await
            .unwrap(),
        Some(false)
    );
    assert_eq!(
        (
            failures(b"a").await,
            failures(b"b").await,
            failures(b"c").await
        ),
        (Some(2), Some(2), Some(2))
    );
    // A counter past its allowance is seen without waiting for its row's lock (nor
    // taking it): a throttled storm does not queue on the row every sign-in updates.
    let mut holder = t.state.db.begin().await.unwrap();
    sqlx::query("UPDATE throttles SET failures = failures WHERE key = $1")
        .bind(b"b".as_slice())
        .execute(&mut *holder)
        .await
        .unwrap();
    let past: [(&[u8], u32, i64); 1] = [(b"b", 2, 3600)];
    let seen = tokio::time::timeout(
        Duration::from_secs(3),
        throttles::count_all_within_allowance(&mut conn, &past, 1003),
    )
    .await
    .expect("no wait for a held row past its allowance")
    .unwrap();
    assert_eq!(seen, Some(false));
    holder.rollback().await.unwrap();
    // A counter past the time it is remembered is left to the caller too.
    let stale: [(&[u8], u32, i64); 1] = [(b"a", 5, 10)];
    assert_eq!(
        throttles::count_all_within_allowance(&mut conn, &stale, 2000)
            .await
            .unwrap(),
        Some(false)
    );
    // More counters than one call takes: the caller's transaction does them.
    let five: Vec<(&[u8], u32, i64)> = vec![(b"x", 5, 60); 5];
    assert_eq!(
        throttles::count_all_within_allowance(&mut conn, &five, 1000)
            .await
            .unwrap(),
        None
    );
    // A right secret: "a" and "b" forgotten, "c" given one back (never below zero).
    assert!(
        throttles::clear_and_refund_at_once(&mut conn, &[b"a", b"b"], &[b"c"])
            .await
            .unwrap()
    );
    assert_eq!(
        (
            failures(b"a").await,
            failures(b"b").await,
            failures(b"c").await
        ),
        (None, None, Some(1))
    );
    for _ in 0..2 {
        assert!(
            throttles::clear_and_refund_at_once(&mut conn, &[], &[b"c", b"none"])
                .await
                .unwrap()
        );
    }
    assert_eq!(failures(b"c").await, Some(0));
    drop(conn);

    // Thirty requests at once on two shared counters allowing ten: ten are counted.
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let db = t.state.db.clone();
            tokio::spawn(async move {
                let mut conn = db.acquire().await.unwrap();
                let two: [(&[u8], u32, i64); 2] = [(b"hot1", 10, 3600), (b"hot2", 12, 3600)];
                throttles::count_all_within_allowance(&mut conn, &two, 5000)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut yes = 0;
    for task in tasks {
        if task.await.unwrap() == Some(true) {
            yes += 1;
        }
    }
    assert_eq!(yes, 10);
    assert_eq!(
        (failures(b"hot1").await, failures(b"hot2").await),
        (Some(10), Some(10))
    );
}
