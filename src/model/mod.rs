//! Types and rules that both the server and the browser compile.
pub mod account;
pub mod allowlist;
pub mod error;
pub mod mfa;
pub mod notifications;
pub mod password;
pub mod profile;
pub mod security_log;
pub mod sessions;
pub mod time;
pub mod tokens;
