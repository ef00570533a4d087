//! The database under an operator's feet: connections that PostgreSQL closed while
//! they waited in the pool (a restart, a failover, an idle timeout) cost no request,
//! and housekeeping never waits for rows a sign-in holds.
mod common;

use axum::http::StatusCode;
use common::{app, on_postgres, PASSWORD};
use latchkey::server::store::throttles;
use std::time::Duration;

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
    let mut counting = throttles::begin(&t.state.db).await.unwrap();
    let inside: String = sqlx::query_scalar(show)
        .fetch_one(&mut *counting)
        .await
        .unwrap();
    assert_eq!(inside, "off");
    counting.commit().await.unwrap();
    // The same connection, back in the pool, waits for the disk again.
    for _ in 0..4 {
        let after: String = sqlx::query_scalar(show)
            .fetch_one(&t.state.db)
            .await
            .unwrap();
        assert_eq!(after, "on");
    }
}
