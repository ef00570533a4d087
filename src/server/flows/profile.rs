//! Settings > Profile: the display name and the change of the account's address (a
//! link to the new address makes it the account's; the old address gets an undo link),
//! and the security checklist of the Security page.
use crate::model::mfa::Method;
use crate::model::profile::{display_name, CheckLine, EmailChangeLink, PendingEmail, Profile};
use crate::server::audit::{deliver, log_within};
use crate::server::auth::change::{Change, Notice, Sessions};
use crate::server::auth::identity::require_recent_proof;
use crate::server::auth::Caller;
use crate::server::delivery::templates;
use crate::server::domain::checklist::{self, Facts};
use crate::server::domain::security_log::EventKind;
use crate::server::domain::tokens::{looks_like_token, new_token, Purpose};
use crate::server::domain::{email, throttle};
use crate::server::error::{Error, Result};
use crate::server::flows::{answer_after, password};
use crate::server::{store, AppState};
use serde_json::json;
use std::time::{Duration, Instant};

/// How long the link to the new address works.
pub const LINK_SECS: i64 = 24 * 3600;
/// How long the old address's undo link works.
pub const UNDO_SECS: i64 = 7 * 24 * 3600;
/// The least time between two links for one change.
pub const RESEND_SECS: i64 = 60;
/// Asking for a change answers no sooner than this, whichever way it went (an address
/// another account has, or not), so the timing tells nothing either.
const ANSWER_FLOOR: Duration = Duration::from_millis(300);

pub async fn profile(state: &AppState, caller: &Caller, now: i64) -> Result<Profile, Error> {
    let s = caller.signed_in()?;
    let pending = store::profile::pending(&state.db, s.user_id, now).await?;
    Ok(Profile {
        display_name: s.display_name.clone(),
        email: s.email.clone(),
        email_verified: s.email_verified,
        pending: pending.map(|p| PendingEmail {
            new_email: p.new_email,
            expires_at: p.expires_at,
        }),
    })
}

/// Saves the display name (empty: none); gives it as kept.
pub async fn set_display_name(
    state: &AppState,
    caller: &Caller,
    input: &str,
    now: i64,
) -> Result<Option<String>, Error> {
    let s = caller.signed_in()?;
    let name = display_name(input).map_err(|m| Error::field("display_name", m))?;
    let mut tx = state.db.begin().await?;
    if store::profile::set_display_name(&mut *tx, s.user_id, name.as_deref()).await? {
        log_within(
            &mut tx,
            caller,
            Some(s.user_id),
            EventKind::DisplayNameChanged,
            now,
            json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(name)
}

fn link_hash(state: &AppState, token: &str) -> Vec<u8> {
    state.keys.hash(Purpose::EmailChange, token)
}

fn undo_hash(state: &AppState, token: &str) -> Vec<u8> {
    state.keys.hash(Purpose::EmailChangeUndo, token)
}

/// Mails the link for a change to `new` (or, when another account has that address,
/// tells that account's owner instead: the one asking cannot tell the difference).
async fn send_link(
    state: &AppState,
    name: Option<&str>,
    old: &str,
    new: &str,
    token: &str,
    now: i64,
) -> Result<(), Error> {
    let mail = if store::users::by_email(&state.db, new).await?.is_some() {
        templates::email_change_taken(new, &state.config.link("/signin"))
    } else {
        let link = state.config.link(&format!("/email-change?token={token}"));
        templates::email_change_link(new, name, old, &link, LINK_SECS / 3600)
    };
    deliver(state, mail, now).await
}

/// "Send Verification Link": the recent-proof rule first; then the new address gets a
/// single-use link (24 hours) and nothing changes until it is used. The answer is the
/// same, in the same time, whether or not another account has that address.
pub async fn start_email_change(
    state: &AppState,
    caller: &Caller,
    new_email: &str,
    password: Option<&str>,
    now: i64,
) -> Result<PendingEmail, Error> {
    let s = caller.signed_in()?;
    require_recent_proof(state, caller, password, now).await?;
    let new = email::normalize(new_email).map_err(|m| Error::field("new_email", m))?;
    if new == s.email {
        return Err(Error::field("new_email", "This is already your address."));
    }
    let started = Instant::now();
    let keys = [
        (
            state.keys.hash(
                Purpose::Throttle,
                &format!("email-change:account:{}", s.user_id),
            ),
            throttle::RESET_REQUESTS_ACCOUNT,
        ),
        (
            state.keys.hash(
                Purpose::Throttle,
                &format!("email-change:ip:{}", caller.ip_group()),
            ),
            throttle::RESET_REQUESTS_IP,
        ),
    ];
    crate::server::auth::guard::take(state, &keys, now).await?;
    let token = new_token();
    let mut tx = state.db.begin().await?;
    store::profile::start(
        &mut tx,
        s.user_id,
        &s.email,
        &new,
        &link_hash(state, &token),
        now,
        now + LINK_SECS,
    )
    .await?;
    log_within(
        &mut tx,
        caller,
        Some(s.user_id),
        EventKind::EmailChangeRequested,
        now,
        json!({"new_email": new}),
    )
    .await?;
    tx.commit().await?;
    send_link(
        state,
        s.display_name.as_deref(),
        &s.email,
        &new,
        &token,
        now,
    )
    .await?;
    answer_after(started, ANSWER_FLOOR).await;
    Ok(PendingEmail {
        new_email: new,
        expires_at: now + LINK_SECS,
    })
}

/// "Resend": a new link for the waiting change (the one before stops working), at
/// most one a minute.
pub async fn resend_email_change(
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<PendingEmail, Error> {
    let s = caller.signed_in()?;
    let started = Instant::now();
    let pending = store::profile::pending(&state.db, s.user_id, now)
        .await?
        .ok_or_else(nothing_waiting)?;
    let wait = pending.sent_at + RESEND_SECS - now;
    if wait > 0 {
        return Err(Error::too_many(wait as u64));
    }
    let token = new_token();
    if !store::profile::resend(
        &state.db,
        pending.id,
        &link_hash(state, &token),
        now,
        now + LINK_SECS,
        now - RESEND_SECS,
    )
    .await?
    {
        // A racing resend (or the link's use) got there first.
        return Err(Error::too_many(RESEND_SECS as u64));
    }
    send_link(
        state,
        s.display_name.as_deref(),
        &s.email,
        &pending.new_email,
        &token,
        now,
    )
    .await?;
    answer_after(started, ANSWER_FLOOR).await;
    Ok(PendingEmail {
        new_email: pending.new_email,
        expires_at: now + LINK_SECS,
    })
}

fn nothing_waiting() -> Error {
    Error::invalid("No change of address is waiting.")
}

/// "Cancel Change": the waiting change's link stops working.
pub async fn cancel_email_change(state: &AppState, caller: &Caller, now: i64) -> Result<(), Error> {
    let s = caller.signed_in()?;
    let mut tx = state.db.begin().await?;
    if !store::profile::cancel_pending(&mut tx, s.user_id, now).await? {
        return Err(nothing_waiting());
    }
    log_within(
        &mut tx,
        caller,
        Some(s.user_id),
        EventKind::EmailChangeCancelled,
        now,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn not_valid() -> Error {
    Error::invalid("This link is not valid. Check that you copied the whole link from the email.")
}

/// What a confirmation link would change, or why it cannot be used.
pub async fn change_link(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<EmailChangeLink, Error> {
    if !looks_like_token(token) {
        return Err(not_valid());
    }
    let row = store::profile::by_verify_hash(&state.db, &link_hash(state, token))
        .await?
        .ok_or_else(not_valid)?;
    if row.applied_at.is_some() {
        return Err(Error::invalid(format!(
            "This link was used already: {} is the account's address.",
            row.new_email
        )));
    }
    if row.cancelled_at.is_some() {
        return Err(Error::invalid(
            "This change was cancelled, or another was asked for after it. Nothing changed.",
        ));
    }
    if row.expires_at <= now {
        return Err(Error::invalid(
            "This link has expired. Sign in and ask for the change again in Settings > Profile.",
        ));
    }
    Ok(EmailChangeLink {
        old_email: row.old_email,
        new_email: row.new_email,
    })
}

/// The link to the new address was used: what the page says and sets.
pub struct Confirmed {
    pub new_email: String,
    /// The caller's new session id, when the caller is signed in to this account.
    pub session_token: Option<String>,
}

/// Never prints the session token.
impl std::fmt::Debug for Confirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmed")
            .field("new_email", &self.new_email)
            .finish_non_exhaustive()
    }
}

/// "Confirm New Address": the address becomes the account's (verified, since its
/// mailbox answered). In one transaction: the link used once, the address, reset
/// links sent to the old address retired, every other session ended (the caller's,
/// when it is the owner's, goes on under a new id) and the log entry. Then the old
/// address gets a notice with a link that undoes it (7 days).
pub async fn confirm_email_change(
    state: &AppState,
    caller: &Caller,
    token: &str,
    now: i64,
) -> Result<Confirmed, Error> {
    if !looks_like_token(token) {
        return Err(not_valid());
    }
    let undo = new_token();
    let mut tx = state.db.begin().await?;
    let Some(row) = store::profile::apply(
        &mut tx,
        &link_hash(state, token),
        now,
        &undo_hash(state, &undo),
        now + UNDO_SECS,
    )
    .await?
    else {
        tx.rollback().await?;
        // Why not (used, cancelled, expired, unknown): the page says.
        change_link(state, token, now).await?;
        return Err(Error::invalid("This link was used already."));
    };
    if !store::profile::set_email(&mut tx, row.user_id, &row.new_email, now).await? {
        tx.rollback().await?;
        return Err(Error::invalid(format!(
            "{} now belongs to another account, so this change cannot be made.",
            row.new_email
        )));
    }
    store::email_links::retire_all(
        &mut tx,
        row.user_id,
        store::email_links::RESET_PASSWORD,
        now,
    )
    .await?;
    store::email_links::retire_all(&mut tx, row.user_id, store::email_links::VERIFY_EMAIL, now)
        .await?;
    let owner_here = caller.session().is_some_and(|s| s.user_id == row.user_id);
    let done = Change::within(state, caller, row.user_id, now, tx)
        .commit(
            if owner_here {
                Sessions::ContinueCaller
            } else {
                Sessions::EndAll
            },
            EventKind::EmailChanged,
            json!({"old_email": row.old_email, "new_email": row.new_email}),
            Notice::new(
                "Your email address was changed",
                format!(
                    "this address ({}) became your account's email address in place of {}",
                    row.new_email, row.old_email
                ),
            ),
        )
        .await?;
    // The account has its new address now (committed above).
    let name = store::profile::display_name_of(&state.db, &row.new_email).await?;
    let when = crate::model::time::format_datetime(now);
    let device = crate::server::domain::device::describe(&caller.user_agent);
    let undo_link = state
        .config
        .link(&format!("/undo-email-change?token={undo}"));
    deliver(
        state,
        templates::email_changed(
            &row.old_email,
            name.as_deref(),
            &row.new_email,
            &templates::Origin {
                when: &when,
                ip: &caller.ip,
                device: &device,
            },
            &undo_link,
            UNDO_SECS / 86_400,
        ),
        now,
    )
    .await?;
    Ok(Confirmed {
        new_email: row.new_email,
        session_token: done.session_token,
    })
}

/// What an undo link would restore, or why it cannot be used.
pub async fn undo_link(state: &AppState, token: &str, now: i64) -> Result<EmailChangeLink, Error> {
    if !looks_like_token(token) {
        return Err(not_valid());
    }
    let row = store::profile::by_undo_hash(&state.db, &undo_hash(state, token))
        .await?
        .ok_or_else(not_valid)?;
    if row.undone_at.is_some() {
        return Err(Error::invalid(format!(
            "This link was used already: {} was put back.",
            row.old_email
        )));
    }
    if row.undo_expires_at.is_none_or(|at| at <= now) {
        return Err(Error::invalid(
            "This undo link has expired (it works for 7 days). If you did not make the change, reset your password with the account's current address or contact support.",
        ));
    }
    Ok(EmailChangeLink {
        old_email: row.old_email,
        new_email: row.new_email,
    })
}

/// "Undo the Change" (the old address's link, 7 days): the old address is the
/// account's again, every session ends, API tokens are revoked, any waiting change is
/// cancelled, all in one transaction with the log entry; the answer is a fresh
/// password-reset link's token, for the page's "Set a New Password".
pub async fn undo_email_change(
    state: &AppState,
    caller: &Caller,
    token: &str,
    now: i64,
) -> Result<String, Error> {
    if !looks_like_token(token) {
        return Err(not_valid());
    }
    let mut tx = state.db.begin().await?;
    let Some(row) = store::profile::undo(&mut tx, &undo_hash(state, token), now).await? else {
        tx.rollback().await?;
        undo_link(state, token, now).await?;
        return Err(Error::invalid("This link was used already."));
    };
    if !store::profile::set_email(&mut tx, row.user_id, &row.old_email, now).await? {
        tx.rollback().await?;
        return Err(Error::invalid(format!(
            "{} now belongs to another account, so it cannot be put back. Reset your password from the account's current address, or contact support.",
            row.old_email
        )));
    }
    store::profile::cancel_pending(&mut tx, row.user_id, now).await?;
    let tokens = store::tokens::revoke_all(&mut tx, row.user_id, now).await?;
    let reset = password::new_reset_link(&mut tx, state, row.user_id, now).await?;
    Change::within(state, caller, row.user_id, now, tx)
        .commit(
            Sessions::EndAll,
            EventKind::EmailChangeUndone,
            json!({"old_email": row.old_email, "new_email": row.new_email, "tokens_revoked": tokens}),
            Notice::new(
                "Your email change was undone",
                format!(
                    "the change of your account's address to {} was undone with the link sent to this address: every session was signed out and its API tokens revoked. Set a new password now",
                    row.new_email
                ),
            ),
        )
        .await?;
    Ok(reset)
}

/// The security checklist: each line from the account as it is now.
pub async fn checklist(
    state: &AppState,
    caller: &Caller,
    now: i64,
) -> Result<Vec<CheckLine>, Error> {
    let s = caller.signed_in()?;
    let row = store::profile::checklist_row(
        &state.db,
        s.user_id,
        s.session_id,
        now,
        now - state.config.session.absolute_secs,
        now - state.config.session.idle_secs,
    )
    .await?;
    let methods: Vec<Method> = [
        (row.totp, Method::Totp),
        (row.email, Method::Email),
        (row.sms, Method::Sms),
        (row.passkey, Method::Passkey),
    ]
    .into_iter()
    .filter_map(|(at, m)| at.map(|_| m))
    .collect();
    let facts = Facts {
        password_strength: row.password_strength.and_then(|v| u8::try_from(v).ok()),
        password_set_at: s.password_changed_at.unwrap_or(s.user_created_at),
        rotation_days: state.config.password.rotation_reminder_days,
        methods,
        recovery_left: row.recovery_left,
        recovery_retired: row.recovery_codes_retired_at.is_some(),
        sessions: usize::try_from(row.sessions).unwrap_or(0),
        newest_other_session_at: row.newest_other,
        sessions_reviewed_at: row.sessions_reviewed_at,
        email: s.email.clone(),
        email_verified: s.email_verified,
    };
    Ok(checklist::lines(&facts, now))
}

/// Settings > Sessions was looked at (the checklist's "sessions reviewed"): only the
/// owner's own page counts, not a program with a token.
pub async fn sessions_reviewed(state: &AppState, caller: &Caller, now: i64) -> Result<()> {
    if let Some(s) = caller.session() {
        store::profile::set_sessions_reviewed(&state.db, s.user_id, now).await?;
    }
    Ok(())
}
