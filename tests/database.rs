//! The connection pool: connections that PostgreSQL closed while they waited in the
//! pool (a restart, a failover, an idle timeout) cost no request.
mod common;

use axum::http::StatusCode;
use common::{app, on_postgres, PASSWORD};

#[tokio::test]
async fn connections_the_server_closed_while_idle_are_replaced_not_failed() {
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    let cookie = t
        .sign_in("ann@example.com", PASSWORD)
        .await
        .session_cookie();
    // Several connections in the pool, then all idle.
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
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    if on_postgres() {
        // The server ends every other connection of this database, as a restart would.
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&t.state.db)
        .await
        .unwrap();
        assert!(!ended.is_empty(), "the pool held other connections");
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    }
    for _ in 0..6 {
        let r = t.call("sessions", &[], Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
}
