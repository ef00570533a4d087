//! The server's tests through its router, server functions, flows and store, on a
//! temporary SQLite database (or, with LATCHKEY_TEST_POSTGRES set, a fresh PostgreSQL
//! database each). One test binary for all of them: each further binary would link
//! the whole server again (scripts/test.sh measures the build).
mod common;

mod accounts_api;
mod allowlist;
mod database;
mod email_code_api;
mod mfa_api;
mod notices;
mod passkeys;
mod password_api;
mod plain_forms;
mod profile;
mod schema;
mod security_log;
mod sessions_api;
mod sms_api;
mod static_assets;
mod tokens_api;
