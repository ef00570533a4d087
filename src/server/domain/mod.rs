//! Rules of the product. Everything here that depends on time takes `now`
//! (Unix seconds, UTC) as an argument so tests can set it.
pub mod access_token;
pub mod allowlist;
pub mod checklist;
pub mod client_address;
pub mod common_passwords;
pub mod crypto;
pub mod device;
pub mod email;
pub mod export;
pub mod geo;
pub mod passkey;
pub mod phone;
pub mod recovery;
pub mod security_log;
pub mod sent_code;
pub mod session;
pub mod sign_in_notice;
pub mod strength;
pub mod throttle;
pub mod tokens;
pub mod totp;
