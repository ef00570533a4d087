//! Data steps run once at start-up, after the schema migrations: what SQL alone cannot
//! do (it cannot open a sealed value, nor send mail).
use crate::server::audit::{log_within, notify};
use crate::server::auth::Caller;
use crate::server::domain::recovery::LEGACY_SEALED_LENGTHS;
use crate::server::domain::security_log::EventKind;
use crate::server::error::Result;
use crate::server::{store, AppState};
use serde_json::json;

/// Recovery codes of the old 10-character format (about 50 bits) are no longer
/// accepted: they are removed, the account is marked (its Security page asks to
/// regenerate), the log has it, and the owner is told by email. Gives how many
/// accounts it retired codes of: nothing happens on a second run, and of instances
/// starting together on one database, one does each account.
pub async fn retire_legacy_recovery_codes(state: &AppState, now: i64) -> Result<u64> {
    let server = Caller {
        ip: "this server".into(),
        user_agent: "Latchkey".into(),
        principal: None,
        device_cookie: None,
    };
    let owners = store::mfa::owners_of_codes_sealed_as(&state.db, &LEGACY_SEALED_LENGTHS).await?;
    let mut retired = 0;
    for &user_id in &owners {
        let mut tx = state.db.begin().await?;
        let removed =
            store::mfa::retire_codes_sealed_as(&mut tx, user_id, &LEGACY_SEALED_LENGTHS, now)
                .await?;
        if removed == 0 {
            // Another instance got there first (or the owner regenerated meanwhile).
            continue;
        }
        retired += 1;
        log_within(
            &mut tx,
            &server,
            Some(user_id),
            EventKind::RecoveryCodesRetired,
            now,
            json!({ "removed": removed }),
        )
        .await?;
        tx.commit().await?;
        if let Some(user) = store::users::by_id(&state.db, user_id).await? {
            notify(
                state,
                &server,
                &user.email,
                "Your recovery codes no longer work",
                "your recovery codes were of an older, shorter kind that is no longer accepted. Sign in, open View Recovery Codes on the Security page and choose Regenerate to get ten new ones",
                now,
            )
            .await?;
        }
    }
    if retired > 0 {
        tracing::info!(
            accounts = retired,
            "recovery codes of the old format retired; their owners were mailed"
        );
    }
    Ok(retired)
}
