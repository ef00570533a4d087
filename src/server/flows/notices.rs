//! New sign-in notices (Settings > Notifications, seed 002 "Login Notifications"): after
//! every sign-in that made a session, the device, browser and place are compared with
//! what the account has seen, and the owner is told by email what was new, with a
//! single-use "This wasn't me" link that signs that session out and leads to a new
//! password. The device is the browser's device cookie: a random id the server set,
//! signed, HttpOnly; never a fingerprint.
use crate::model::notifications::{NotMeInfo, NotificationSwitches};
use crate::server::audit::{deliver_or_hold, log, log_within};
use crate::server::auth::{device, Caller};
use crate::server::delivery::templates;
use crate::server::domain::geo::Located;
use crate::server::domain::security_log::EventKind;
use crate::server::domain::sign_in_notice::{
    self as rules, browser_key, decide, Decision, HeldBack, Novelty, SignInFacts, Switches,
};
use crate::server::domain::tokens::{looks_like_token, new_token, Purpose};
use crate::server::error::{Error, Result};
use crate::server::flows::password;
use crate::server::{store, AppState};
use serde_json::json;

/// "Chrome on Linux" from the caller's user agent, without versions.
fn browser_of(caller: &Caller) -> String {
    match woothee::parser::Parser::new().parse(&caller.user_agent) {
        Some(r) => browser_key(r.name, r.os),
        None => browser_key("UNKNOWN", "UNKNOWN"),
    }
}

/// What follows every sign-in that made a session (here, or at the second step): the
/// new sign-in notice. The session stands whatever happens to the notice; a failure
/// is in the server log. The device cookie to set, if any.
pub async fn signed_in_now(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    session_id: i64,
    now: i64,
) -> Option<String> {
    match after_sign_in(state, caller, user_id, session_id, now).await {
        Ok(cookie) => cookie,
        Err(e) => {
            tracing::error!(error = %e, "the new sign-in notice failed");
            None
        }
    }
}

/// After a sign-in made the session `session_id`: records the device and the sign-in,
/// decides whether the owner is told, and tells them (or logs why not). The device
/// cookie to set, when the browser had none.
pub async fn after_sign_in(
    state: &AppState,
    caller: &Caller,
    user_id: i64,
    session_id: i64,
    now: i64,
) -> Result<Option<String>> {
    let (id, cookie) = device::id_or_new(state, caller);
    let device_hash = device::stored(state, &id);
    // The daily limit's key: the device cookie, or without one the browser and address
    // (a browser that keeps no cookie gets a new id at every sign-in).
    let device_key = match cookie {
        None => device_hash.clone(),
        Some(_) => device::stored(
            state,
            &format!("no-cookie:{}|{}", caller.user_agent, caller.ip),
        ),
    };
    let browser = browser_of(caller);
    let (place_key, place) = match state.geo.lookup(&caller.ip) {
        Located::At(p) => (p.key(), p.describe()),
        Located::Local => (None, crate::server::domain::geo::LOCAL.to_string()),
        Located::Unknown => (None, crate::server::domain::geo::UNKNOWN.to_string()),
    };

    let mut tx = state.db.begin().await?;
    let switches = store::notices::lock_switches(&mut tx, user_id).await?;
    let known_device = store::notices::see_device(&mut tx, user_id, &device_hash, now).await?;
    let (earlier_sign_ins, browser_seen, place_seen) = store::notices::seen(
        &mut tx,
        user_id,
        now - rules::SEEN_WINDOW_SECS,
        &browser,
        place_key.as_deref(),
    )
    .await?;
    store::notices::add_sign_in(&mut tx, user_id, now, &browser, place_key.as_deref()).await?;
    let facts = SignInFacts {
        known_device,
        earlier_sign_ins,
        browser_seen,
        place_seen,
        device_notified_at: store::notices::device_notified_at(&mut tx, user_id, &device_key)
            .await?,
    };
    let names = |new: &[Novelty]| new.iter().map(|n| n.as_str()).collect::<Vec<_>>();
    let held = |new: &[Novelty], why: HeldBack| json!({"new": names(new), "held_back": why.as_str(), "session": session_id});
    let mail = match decide(&facts, switches, now) {
        Decision::Nothing => None,
        Decision::Hold(new, why) => {
            log_within(
                &mut tx,
                caller,
                Some(user_id),
                EventKind::NewSignInNotice,
                now,
                held(&new, why),
            )
            .await?;
            None
        }
        Decision::Send(new) => {
            if store::notices::claim_notice(
                &mut tx,
                user_id,
                &device_key,
                now,
                rules::NOTICE_EVERY_SECS,
            )
            .await?
            {
                let link = new_token();
                store::notices::insert_notice(
                    &mut tx,
                    &store::notices::NewNotice {
                        link_hash: &state.keys.hash(Purpose::NotMe, &link),
                        user_id,
                        session_id,
                        signed_in_at: now,
                        ip: &caller.ip,
                        place: &place,
                        browser: &crate::server::domain::device::describe(&caller.user_agent),
                        expires_at: now + rules::LINK_SECS,
                    },
                )
                .await?;
                log_within(
                    &mut tx,
                    caller,
                    Some(user_id),
                    EventKind::NewSignInNotice,
                    now,
                    json!({"new": names(&new), "session": session_id}),
                )
                .await?;
                Some((new, link))
            } else {
                // A parallel sign-in from this device took the day's notice.
                log_within(
                    &mut tx,
                    caller,
                    Some(user_id),
                    EventKind::NewSignInNotice,
                    now,
                    held(&new, HeldBack::DailyLimit),
                )
                .await?;
                None
            }
        }
    };
    tx.commit().await?;
    if let Some((new, link)) = mail {
        let (email, zone, name) = store::notices::owner(&state.db, user_id)
            .await?
            .unwrap_or_default();
        // UTC, and the owner's own zone when a settings page told us it.
        let utc = crate::model::time::format_datetime(now);
        let when = match zone.as_deref().and_then(|z| rules::in_zone(now, z)) {
            Some(local) => format!("{utc} ({local})"),
            None => utc,
        };
        let device = crate::server::domain::device::describe(&caller.user_agent);
        let words: Vec<&str> = new.iter().map(|n| n.words()).collect();
        let held = deliver_or_hold(
            state,
            templates::new_sign_in(
                &email,
                name.as_deref(),
                &join_words(&words),
                &templates::Origin {
                    when: &when,
                    ip: &caller.ip,
                    device: &device,
                },
                &place,
                &state.config.link(&format!("/not-me?token={link}")),
                rules::LINK_SECS / 86_400,
            ),
            now,
        )
        .await?;
        if held.is_some() {
            // The owner's inbox had its hour's share of mail from us.
            log(
                state,
                caller,
                Some(user_id),
                EventKind::NewSignInNotice,
                now,
                json!({"new": names(&new), "held_back": "mail_limit", "session": session_id}),
            )
            .await?;
        }
    }
    Ok(cookie)
}

/// "a new device, a new browser and a new location".
fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Records the time zone the owner's browser reports (a settings page does, when it
/// differs from the one the server knows). An unknown zone is refused.
pub async fn remember_zone(state: &AppState, caller: &Caller, zone: &str) -> Result<()> {
    let me = caller.signed_in()?;
    if !rules::known_zone(zone) {
        return Err(Error::field("zone", "Unknown time zone."));
    }
    if me.time_zone.as_deref() != Some(zone) {
        store::notices::set_time_zone(&state.db, me.user_id, zone).await?;
    }
    Ok(())
}

/// Settings > Notifications: the signed-in account's switches.
pub async fn switches(state: &AppState, caller: &Caller) -> Result<NotificationSwitches> {
    let me = caller.signed_in()?;
    let s = store::notices::switches(&state.db, me.user_id).await?;
    Ok(NotificationSwitches {
        new_device: s.new_device,
        new_location: s.new_location,
        new_browser: s.new_browser,
    })
}

/// Saves the switches (each flip saves at once), logged.
pub async fn set_switches(
    state: &AppState,
    caller: &Caller,
    to: NotificationSwitches,
    now: i64,
) -> Result<NotificationSwitches> {
    let me = caller.signed_in()?;
    let mut tx = state.db.begin().await?;
    crate::server::auth::session::still_signed_in(&mut tx, me.user_id, me.session_id).await?;
    store::notices::set_switches(
        &mut tx,
        me.user_id,
        Switches {
            new_device: to.new_device,
            new_location: to.new_location,
            new_browser: to.new_browser,
        },
    )
    .await?;
    log_within(
        &mut tx,
        caller,
        Some(me.user_id),
        EventKind::NotificationSettingsChanged,
        now,
        json!({"new_device": to.new_device, "new_location": to.new_location, "new_browser": to.new_browser}),
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

fn link_problem() -> Error {
    Error::invalid("This link is not valid. Check that you copied the whole link from the email.")
}

/// What the "This wasn't me" page shows about the sign-in its link names.
pub async fn not_me_info(state: &AppState, token: &str, now: i64) -> Result<NotMeInfo> {
    if !looks_like_token(token) {
        return Err(link_problem());
    }
    let n = store::notices::notice(&state.db, &state.keys.hash(Purpose::NotMe, token))
        .await?
        .ok_or_else(link_problem)?;
    Ok(NotMeInfo {
        when: crate::model::time::format_datetime(n.signed_in_at),
        ip: n.ip,
        place: n.place,
        browser: n.browser,
        used: n.used_at.is_some(),
        expired: n.used_at.is_none() && n.expires_at <= now,
    })
}

/// "Sign out that session": ends the session the notice was about (once: a second use
/// does nothing), logs it, and gives a fresh password-reset link's token, so that the
/// owner sets a new password at once (the reset signs out every other session).
pub async fn not_me(state: &AppState, caller: &Caller, token: &str, now: i64) -> Result<String> {
    if !looks_like_token(token) {
        return Err(link_problem());
    }
    let mut tx = state.db.begin().await?;
    let Some(n) =
        store::notices::use_notice(&mut tx, &state.keys.hash(Purpose::NotMe, token), now).await?
    else {
        tx.rollback().await?;
        let info = not_me_info(state, token, now).await?;
        return Err(Error::invalid(if info.used {
            "This link has already been used: that session is signed out."
        } else {
            "This link has expired. If you still think someone else signed in, reset your password."
        }));
    };
    let ended = store::sessions::delete_of_user(&mut *tx, n.user_id, n.session_id).await?;
    let reset = password::new_reset_link(&mut tx, state, n.user_id, now).await?;
    log_within(
        &mut tx,
        caller,
        Some(n.user_id),
        EventKind::SessionRevoked,
        now,
        json!({"session": n.session_id, "reason": "not_me", "was_signed_in": ended}),
    )
    .await?;
    tx.commit().await?;
    Ok(reset)
}

/// "Sign out all other sessions" after "This wasn't me", proven by the reset link it
/// gave (still unused): ends every session of the account but the caller's own.
pub async fn sign_out_all(state: &AppState, caller: &Caller, reset: &str, now: i64) -> Result<u64> {
    // The reset link "This wasn't me" gave, still unused and live.
    let user_id = password::reset_link_owner(state, reset, now).await?;
    let mine = caller
        .session()
        .filter(|s| s.user_id == user_id)
        .map(|s| s.session_id);
    let mut tx = state.db.begin().await?;
    let ended = store::sessions::delete_for_user(&mut tx, user_id, mine).await?;
    log_within(
        &mut tx,
        caller,
        Some(user_id),
        EventKind::OtherSessionsRevoked,
        now,
        json!({"count": ended, "reason": "not_me"}),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}
