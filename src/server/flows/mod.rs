//! Use cases: one per action. Each checks its input, applies the domain rules, writes
//! through the store (a change in one transaction with its security-log entry) and
//! sends its mail after the commit. They take the caller (`auth::Caller`) and `now`,
//! never an HTTP type, and fail with the server's [`Error`](crate::server::error::Error).
//! Server functions and HTTP handlers call them; tests call them too.
pub mod accounts;
pub mod allowlist;
pub mod codes;
pub mod mfa;
pub mod notices;
pub mod passkeys;
pub mod password;
pub mod profile;
pub mod second_step;
pub mod security_log;
pub mod sessions;
pub mod tokens;

/// Answers no sooner than `floor` after `started`, so that the answer's timing does not
/// tell which path a request took (used where no password hash evens it out).
pub async fn answer_after(started: std::time::Instant, floor: std::time::Duration) {
    if let Some(rest) = floor.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
}
