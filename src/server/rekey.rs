//! Moving what was sealed or keyed under a previous secret (`server.previous_secrets`)
//! to the current one, so that the previous secrets can be dropped: authenticator
//! secrets are sealed again, recovery codes sealed and hashed again. Passwords cannot
//! be (their plaintext is never kept): each moves at its owner's next sign-in, and the
//! report says how many still wait. Run as `latchkey rekey` after a rotation; an
//! account's rows also move as soon as its authenticator or recovery codes are used.
use crate::server::domain::tokens::Purpose;
use crate::server::error::{internal, Result};
use crate::server::store;
use crate::server::AppState;

/// What a rekey moved, and what still needs a previous secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub authenticators_moved: u64,
    pub recovery_codes_moved: u64,
    /// Rows no known secret opens (they cannot be moved, and never worked).
    pub unreadable: u64,
    /// Passwords still peppered under a previous secret.
    pub passwords_waiting: u64,
}

impl Report {
    /// Whether the previous secrets can be dropped now without anyone losing access.
    pub fn previous_secrets_unused(&self) -> bool {
        self.passwords_waiting == 0
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "moved to the current secret: {} authenticator secret(s), {} recovery code(s)",
            self.authenticators_moved, self.recovery_codes_moved
        )?;
        if self.unreadable > 0 {
            writeln!(
                f,
                "{} row(s) open under no known secret and were left alone",
                self.unreadable
            )?;
        }
        if self.passwords_waiting == 0 {
            write!(
                f,
                "nothing uses a previous secret now: server.previous_secrets can be emptied"
            )
        } else {
            write!(
                f,
                "{} password(s) still use a previous secret; each moves at its owner's next sign-in. Keep server.previous_secrets until then (run this again to see)",
                self.passwords_waiting
            )
        }
    }
}

/// Moves every account's rows (see the module's text) and reports.
pub async fn all(state: &AppState) -> Result<Report> {
    let mut report = Report::default();
    for user_id in store::mfa::users_with_secrets(&state.db).await? {
        let moved = account(state, user_id).await?;
        report.authenticators_moved += moved.authenticators_moved;
        report.recovery_codes_moved += moved.recovery_codes_moved;
        report.unreadable += moved.unreadable;
    }
    for hash in store::users::password_hashes(&state.db).await? {
        if !state.hasher.is_current(&hash) {
            report.passwords_waiting += 1;
        }
    }
    Ok(report)
}

/// Moves one account's authenticator secret and recovery codes. Each row is replaced
/// only if it is still the one that was read (a change in between wins).
pub async fn account(state: &AppState, user_id: i64) -> Result<Report> {
    let mut report = Report::default();
    if let Some(row) = store::mfa::totp(&state.db, user_id).await? {
        if !state.sealer.is_current(&row.secret_sealed) {
            let context = crate::server::auth::factor::authenticator_context(user_id);
            match state.sealer.open(&row.secret_sealed, &context) {
                Some(secret) => {
                    let fresh = state.sealer.seal(&secret, &context);
                    if store::mfa::replace_totp_secret(
                        &state.db,
                        user_id,
                        &row.secret_sealed,
                        &fresh,
                    )
                    .await?
                    {
                        report.authenticators_moved += 1;
                    }
                }
                None => report.unreadable += 1,
            }
        }
    }
    let context = format!("recovery:{user_id}");
    for row in store::mfa::recovery_codes(&state.db, user_id).await? {
        let Some(plain) = state.sealer.open(&row.code_sealed, &context) else {
            report.unreadable += 1;
            continue;
        };
        let code = String::from_utf8(plain).map_err(internal)?;
        let hash = state
            .keys
            .hash(Purpose::RecoveryCode, &format!("{user_id}:{code}"));
        if state.sealer.is_current(&row.code_sealed) && hash == row.code_hash {
            continue;
        }
        let sealed = state.sealer.seal(code.as_bytes(), &context);
        if store::mfa::replace_recovery_code(&state.db, row.id, &row.code_hash, &sealed, &hash)
            .await?
        {
            report.recovery_codes_moved += 1;
        }
    }
    Ok(report)
}
