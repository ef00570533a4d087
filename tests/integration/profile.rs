//! Settings > Profile (issue 26): the email change by link (single use under parallel
//! use, expiry, the undo link and its 7 days, an address another account has), and
//! recovery codes for every method. Time is passed in where a rule depends on it.
use crate::common::Wire;
use crate::common::{app, count_status, TestApp, PASSWORD};
use axum::http::StatusCode;
use latchkey::model::error::ApiError;
use latchkey::model::mfa::Method;
use latchkey::server::auth::{Caller, Principal, Session};
use latchkey::server::domain::totp;
use latchkey::server::flows::{accounts, codes, mfa, password, profile, second_step};
use latchkey::server::now;

const CONFIRM: &str = "Confirm your new email address";
const CHANGED: &str = "Your email address was changed";
const TAKEN: &str = "Someone tried to use your email address";

fn caller(session: Option<Session>) -> Caller {
    Caller {
        ip: "198.51.100.40".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0".into(),
        principal: session.map(Principal::Session),
        device_cookie: None,
    }
}

async fn owner(t: &TestApp, email: &str, at: i64) -> Caller {
    t.owner(email, at, caller(None)).await
}

/// The token of a link to `path` in `mail`.
fn link_token(mail: &latchkey::server::store::outbox::StoredMail, path: &str) -> String {
    let marker = format!("{path}?token=");
    let start = mail
        .text_body
        .find(&marker)
        .unwrap_or_else(|| panic!("a {path} link in {}", mail.text_body))
        + marker.len();
    mail.text_body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

async fn address_of(t: &TestApp, user_id: i64) -> String {
    let (email,): (String,) = sqlx::query_as("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&t.state.db)
        .await
        .unwrap();
    email
}

fn user_of(who: &Caller) -> i64 {
    who.session().unwrap().user_id
}

#[tokio::test]
async fn a_change_takes_effect_once_by_its_link_and_the_old_address_can_undo_it() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "old@example.com", t0).await;
    let user = user_of(&who);
    // A second browser signed in: the change signs it out.
    t.sign_in("old@example.com", PASSWORD).await;
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 2);

    let pending = profile::start_email_change(&t.state, &who, " New@Example.COM ", None, t0 + 1)
        .await
        .wire()
        .unwrap();
    assert_eq!(pending.new_email, "new@example.com");
    assert_eq!(pending.expires_at, t0 + 1 + 24 * 3600);
    let shown = profile::profile(&t.state, &who, t0 + 2)
        .await
        .wire()
        .unwrap();
    assert_eq!(shown.pending.unwrap().new_email, "new@example.com");
    // Nothing changes until the link is used; the link is stored only as a hash.
    assert_eq!(address_of(&t, user).await, "old@example.com");
    let mail = t.mail_with_subject("new@example.com", CONFIRM).await;
    let token = link_token(&mail, "/email-change");

    // Ten uses of the link at once: exactly one makes the change.
    let replies = t
        .call_parallel(10, "confirm_email_change", &[("token", &token)], None)
        .await;
    assert_eq!(
        count_status(&replies, StatusCode::OK),
        1,
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(count_status(&replies, StatusCode::BAD_REQUEST), 9);
    assert_eq!(address_of(&t, user).await, "new@example.com");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM security_events WHERE kind = 'email_changed'")
            .await,
        1
    );
    // Opened without a session: every session of the account ended.
    assert_eq!(t.count("SELECT COUNT(*) FROM sessions").await, 0);
    // Used links say so.
    let again = profile::change_link(&t.state, &token, t0 + 5).await.wire();
    assert!(
        matches!(&again, Err(ApiError::Invalid { message, .. }) if message.contains("used already")),
        "{again:?}"
    );

    // The new address signs in, the old one no longer does; Email Code mails the new.
    assert_eq!(
        t.sign_in("old@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let who = owner_again(&t, "new@example.com", t0 + 10).await;
    codes::start_email_code(&t.state, &who, PASSWORD, "", t0 + 10)
        .await
        .wire()
        .unwrap();
    t.mail_with_subject(
        "new@example.com",
        "Your Latchkey code to turn on email codes",
    )
    .await;

    // The old address got the notice with its undo link (single use under racing too).
    let notice = t.mail_with_subject("old@example.com", CHANGED).await;
    assert!(
        notice.text_body.contains("new@example.com"),
        "{}",
        notice.text_body
    );
    let undo = link_token(&notice, "/undo-email-change");
    let replies = t
        .call_parallel(5, "undo_email_change", &[("token", &undo)], None)
        .await;
    assert_eq!(
        count_status(&replies, StatusCode::OK),
        1,
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    let winner = replies.iter().find(|r| r.status == StatusCode::OK).unwrap();
    let reset: String = serde_json::from_str(&winner.body).unwrap();
    assert_eq!(address_of(&t, user).await, "old@example.com");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM sessions").await,
        0,
        "undo signs out every session"
    );
    // It leads to a password reset: the link it gave works.
    password::check_reset_link(&t.state, &reset, now())
        .await
        .wire()
        .unwrap();
    assert_eq!(
        t.count("SELECT COUNT(*) FROM security_events WHERE kind = 'email_change_undone'")
            .await,
        1
    );
}

/// Signs in again (the change ended every session).
async fn owner_again(t: &TestApp, email: &str, at: i64) -> Caller {
    match accounts::sign_in(&t.state, &caller(None), email, PASSWORD, None, at)
        .await
        .wire()
        .unwrap()
    {
        accounts::SignInOutcome::Session { token, .. } => {
            t.session_caller(&token, caller(None)).await
        }
        _ => panic!("expected a session"),
    }
}

#[tokio::test]
async fn an_address_another_account_has_gets_the_same_answer() {
    let t = app().await;
    let t0 = now();
    t.sign_up_verified("taken@example.com", PASSWORD).await;
    let who = owner(&t, "mover@example.com", t0).await;
    let other = owner(&t, "other@example.com", t0).await;

    let started = std::time::Instant::now();
    let taken = profile::start_email_change(&t.state, &who, "taken@example.com", None, t0 + 1)
        .await
        .wire()
        .unwrap();
    let taken_took = started.elapsed();
    let started = std::time::Instant::now();
    let free = profile::start_email_change(&t.state, &other, "free@example.com", None, t0 + 1)
        .await
        .wire()
        .unwrap();
    let free_took = started.elapsed();
    // Neither answers before the floor, so the timing tells nothing either.
    for took in [taken_took, free_took] {
        assert!(took >= std::time::Duration::from_millis(300), "{took:?}");
    }
    // The same answer and the same pending state either way.
    assert_eq!(taken.expires_at, free.expires_at);
    let p = profile::profile(&t.state, &who, t0 + 2)
        .await
        .wire()
        .unwrap();
    assert_eq!(p.pending.unwrap().new_email, "taken@example.com");
    // The log entries look alike too (the owner reads them).
    let details: Vec<String> = sqlx::query_as::<_, (String,)>(
        "SELECT detail FROM security_events WHERE kind = 'email_change_requested' ORDER BY id",
    )
    .fetch_all(&t.state.db)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.0.replace("taken@", "X@").replace("free@", "X@"))
    .collect();
    assert_eq!(details.len(), 2);
    assert_eq!(details[0], details[1]);
    // The address's owner hears of it; no link exists that would take their address.
    let mail = t.mail_with_subject("taken@example.com", TAKEN).await;
    assert!(!mail.text_body.contains("token="), "{}", mail.text_body);
    t.mail_with_subject("free@example.com", CONFIRM).await;
    // A resend is refused within the minute, then sends a new link.
    let soon = profile::resend_email_change(&t.state, &other, t0 + 30)
        .await
        .wire();
    assert!(
        matches!(soon, Err(ApiError::TooManyRequests { .. })),
        "{soon:?}"
    );
    // Five at once past the minute: one new link, the others refused.
    let (a, b, c, d, e) = tokio::join!(
        profile::resend_email_change(&t.state, &other, t0 + 62),
        profile::resend_email_change(&t.state, &other, t0 + 62),
        profile::resend_email_change(&t.state, &other, t0 + 62),
        profile::resend_email_change(&t.state, &other, t0 + 62),
        profile::resend_email_change(&t.state, &other, t0 + 62),
    );
    let answers = [a, b, c, d, e].map(|r| r.wire());
    assert_eq!(
        answers.iter().filter(|r| r.is_ok()).count(),
        1,
        "{answers:?}"
    );
    assert!(answers
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(ApiError::TooManyRequests { .. }))));
    let confirms = t
        .mail_to("free@example.com", 2)
        .await
        .into_iter()
        .filter(|m| m.subject == CONFIRM)
        .count();
    assert_eq!(confirms, 2, "the first link and one resend");
    // Cancel: nothing waits any more.
    profile::cancel_email_change(&t.state, &who, t0 + 70)
        .await
        .wire()
        .unwrap();
    let p = profile::profile(&t.state, &who, t0 + 71)
        .await
        .wire()
        .unwrap();
    assert!(p.pending.is_none());
}

#[tokio::test]
async fn links_expire_after_a_day_and_undo_after_seven() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "slow@example.com", t0).await;
    let user = user_of(&who);
    profile::start_email_change(&t.state, &who, "later@example.com", None, t0 + 1)
        .await
        .wire()
        .unwrap();
    let token = link_token(
        &t.mail_with_subject("later@example.com", CONFIRM).await,
        "/email-change",
    );
    let late = profile::confirm_email_change(&t.state, &caller(None), &token, t0 + 1 + 24 * 3600)
        .await
        .wire();
    assert!(
        matches!(&late, Err(ApiError::Invalid { message, .. }) if message.contains("expired")),
        "{late:?}"
    );
    assert_eq!(address_of(&t, user).await, "slow@example.com");

    // Asked again a day later: the recent proof is gone, so the password is asked.
    let t1 = t0 + 2 * 24 * 3600;
    let asked = profile::start_email_change(&t.state, &who, "later@example.com", None, t1)
        .await
        .wire();
    assert!(matches!(asked, Err(ApiError::ProofNeeded(_))), "{asked:?}");
    profile::start_email_change(&t.state, &who, "later@example.com", Some(PASSWORD), t1)
        .await
        .wire()
        .unwrap();
    let mails: Vec<_> = t
        .mail_to("later@example.com", 2)
        .await
        .into_iter()
        .filter(|m| m.subject == CONFIRM)
        .collect();
    let token = link_token(&mails[0], "/email-change");
    profile::confirm_email_change(&t.state, &caller(None), &token, t1 + 10)
        .await
        .wire()
        .unwrap();
    let undo = link_token(
        &t.mail_with_subject("slow@example.com", CHANGED).await,
        "/undo-email-change",
    );
    let week = 7 * 24 * 3600;
    let late = profile::undo_email_change(&t.state, &caller(None), &undo, t1 + 10 + week)
        .await
        .wire();
    assert!(
        matches!(&late, Err(ApiError::Invalid { message, .. }) if message.contains("expired")),
        "{late:?}"
    );
    assert_eq!(address_of(&t, user).await, "later@example.com");
    profile::undo_email_change(&t.state, &caller(None), &undo, t1 + 10 + week - 1)
        .await
        .wire()
        .unwrap();
    assert_eq!(address_of(&t, user).await, "slow@example.com");
}

#[tokio::test]
async fn an_email_code_only_account_gets_recovery_codes_and_signs_in_with_one() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "codes@example.com", t0).await;
    codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let code =
        crate::email_code_api::code_from_mail(&t, "codes@example.com", "to turn on email codes", 1)
            .await;
    let on = codes::confirm_email_code(&t.state, &who, &code, t0 + 1)
        .await
        .wire()
        .unwrap();
    let issued: Vec<String> = on
        .codes
        .expect("the first method brings codes")
        .codes
        .into_iter()
        .map(|c| c.code)
        .collect();
    assert_eq!(issued.len(), 10);
    let who = t.session_caller(&on.session_token, caller(None)).await;

    // A second method keeps the codes already saved.
    let setup = mfa::start_totp(&t.state, &who, PASSWORD, "", t0 + 2)
        .await
        .wire();
    // With Email Code on, adding the app asks for an email code, not the password.
    assert!(setup.is_err(), "{setup:?}");
    codes::request_identity_code(&t.state, &who, Method::Totp, t0 + 2)
        .await
        .wire()
        .unwrap();
    let identity =
        crate::email_code_api::code_from_mail(&t, "codes@example.com", "to confirm it is you", 1)
            .await;
    let setup = mfa::start_totp(&t.state, &who, "", &identity, t0 + 3)
        .await
        .wire()
        .unwrap();
    let secret = data_encoding::BASE32_NOPAD
        .decode(setup.secret.replace(' ', "").as_bytes())
        .unwrap();
    let app_on = mfa::confirm_totp(
        &t.state,
        &who,
        &totp::code_at(&secret, (t0 + 3) as u64),
        t0 + 3,
    )
    .await
    .wire()
    .unwrap();
    assert!(app_on.codes.is_none(), "the saved codes stay");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL")
            .await,
        10
    );
    let who = t.session_caller(&app_on.session_token, caller(None)).await;
    // The app off again: Email Code is still on, so the codes stay.
    mfa::disable_totp(
        &t.state,
        &who,
        &totp::code_at(&secret, (t0 + 65) as u64),
        t0 + 65,
    )
    .await
    .wire()
    .unwrap();
    assert_eq!(t.count("SELECT COUNT(*) FROM recovery_codes").await, 10);

    // Signing in offers the codes beside Email Code; one signs in, once.
    let pending = match accounts::sign_in(
        &t.state,
        &caller(None),
        "codes@example.com",
        PASSWORD,
        None,
        t0 + 100,
    )
    .await
    .wire()
    .unwrap()
    {
        accounts::SignInOutcome::SecondFactor { pending_token } => pending_token,
        _ => panic!("expected the second step"),
    };
    let options = second_step::sign_in_options(&t.state, Some(&pending), t0 + 100)
        .await
        .wire()
        .unwrap();
    assert_eq!(options.methods, vec![Method::Email, Method::Recovery]);
    second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&pending),
        Method::Recovery,
        &issued[0],
        t0 + 101,
    )
    .await
    .wire()
    .unwrap();
    assert_eq!(
        t.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL")
            .await,
        9
    );
}

#[tokio::test]
async fn recovery_codes_are_shown_with_an_email_code_and_go_with_the_last_method() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "view@example.com", t0).await;
    codes::start_email_code(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let code =
        crate::email_code_api::code_from_mail(&t, "view@example.com", "to turn on email codes", 1)
            .await;
    let on = codes::confirm_email_code(&t.state, &who, &code, t0 + 1)
        .await
        .wire()
        .unwrap();
    let who = t.session_caller(&on.session_token, caller(None)).await;
    // A code sent for this and nothing else shows them.
    codes::request_codes_code(&t.state, &who, t0 + 2)
        .await
        .wire()
        .unwrap();
    let sent =
        crate::email_code_api::code_from_mail(&t, "view@example.com", "to confirm it is you", 1)
            .await;
    let wrong = mfa::view_codes(
        &t.state,
        &who,
        if sent == "000000" { "111111" } else { "000000" },
        t0 + 3,
    )
    .await
    .wire();
    assert!(wrong.is_err());
    let shown = mfa::view_codes(&t.state, &who, &sent, t0 + 3)
        .await
        .wire()
        .unwrap();
    assert_eq!(shown.codes.len(), 10);
    assert_eq!(shown.codes[0].code, on.codes.unwrap().codes[0].code);
    // Used once: the same code shows nothing more.
    assert!(mfa::view_codes(&t.state, &who, &sent, t0 + 4)
        .await
        .wire()
        .is_err());
    // Regenerate within the recent proof.
    let fresh = mfa::regenerate_codes(&t.state, &who, t0 + 5)
        .await
        .wire()
        .unwrap();
    assert_ne!(fresh.codes[0].code, shown.codes[0].code);

    // Email Code off, the last method: the codes go with it.
    codes::request_code(
        &t.state,
        &who,
        latchkey::server::domain::sent_code::CodePurpose::Disable,
        latchkey::server::domain::sent_code::Channel::Email,
        t0 + 70,
    )
    .await
    .wire()
    .unwrap();
    let off =
        crate::email_code_api::code_from_mail(&t, "view@example.com", "to turn off email codes", 1)
            .await;
    codes::disable_email_code(&t.state, &who, &off, t0 + 71)
        .await
        .wire()
        .unwrap();
    assert_eq!(t.count("SELECT COUNT(*) FROM recovery_codes").await, 0);
}

#[tokio::test]
async fn the_checklist_reads_the_account_in_one_query_on_both_databases() {
    use latchkey::model::profile::Mark;
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "lines@example.com", t0).await;
    let marks = |lines: &[latchkey::model::profile::CheckLine]| {
        lines
            .iter()
            .map(|l| (l.key.clone(), l.mark))
            .collect::<std::collections::HashMap<_, _>>()
    };
    let lines = profile::checklist(&t.state, &who, t0 + 1)
        .await
        .wire()
        .unwrap();
    let m = marks(&lines);
    assert_eq!(m["password"], Mark::Done, "{lines:#?}");
    assert_eq!(m["two_step"], Mark::Todo);
    assert_eq!(m["recovery_codes"], Mark::Todo);
    assert_eq!(m["sessions"], Mark::Done, "one session: nothing to review");
    assert_eq!(m["email"], Mark::Done);

    // Email Code on: two-step could be stronger, ten codes; another browser signs in.
    codes::start_email_code(&t.state, &who, PASSWORD, "", t0 + 1)
        .await
        .wire()
        .unwrap();
    let code =
        crate::email_code_api::code_from_mail(&t, "lines@example.com", "to turn on email codes", 1)
            .await;
    let on = codes::confirm_email_code(&t.state, &who, &code, t0 + 2)
        .await
        .wire()
        .unwrap();
    let who = t.session_caller(&on.session_token, caller(None)).await;
    let pending = match accounts::sign_in(
        &t.state,
        &caller(None),
        "lines@example.com",
        PASSWORD,
        None,
        t0 + 3,
    )
    .await
    .wire()
    .unwrap()
    {
        accounts::SignInOutcome::SecondFactor { pending_token } => pending_token,
        _ => panic!("expected the second step"),
    };
    let first_code = on.codes.unwrap().codes[0].code.clone();
    second_step::finish_second_step_with(
        &t.state,
        &caller(None),
        Some(&pending),
        Method::Recovery,
        &first_code,
        t0 + 3,
    )
    .await
    .wire()
    .unwrap();
    let lines = profile::checklist(&t.state, &who, t0 + 4)
        .await
        .wire()
        .unwrap();
    let m = marks(&lines);
    assert_eq!(m["two_step"], Mark::Improve, "{lines:#?}");
    assert_eq!(m["recovery_codes"], Mark::Done);
    assert!(
        lines[2].detail.starts_with("9 codes left"),
        "{}",
        lines[2].detail
    );
    // Another browser signed in since: the sessions ask for a review, until the owner
    // opens Settings > Sessions.
    assert_eq!(m["sessions"], Mark::Todo, "{lines:#?}");
    assert!(
        lines[3].detail.contains("signed in on 2"),
        "{}",
        lines[3].detail
    );
    latchkey::server::flows::sessions::list(&t.state, &who, t0 + 5)
        .await
        .wire()
        .unwrap();
    let m = marks(
        &profile::checklist(&t.state, &who, t0 + 6)
            .await
            .wire()
            .unwrap(),
    );
    assert_eq!(m["sessions"], Mark::Done);
}

#[tokio::test]
async fn the_display_name_is_kept_tidy_removed_and_greets_in_notices() {
    let t = app().await;
    let t0 = now();
    let who = owner(&t, "named@example.com", t0).await;
    let bad = profile::set_display_name(&t.state, &who, &"x".repeat(65), t0)
        .await
        .wire();
    assert!(
        matches!(&bad, Err(ApiError::Invalid { field: Some(f), .. }) if f == "display_name"),
        "{bad:?}"
    );
    let kept = profile::set_display_name(&t.state, &who, "  Ada   Lovelace ", t0)
        .await
        .wire()
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Ada Lovelace"));
    // The same name again changes nothing and logs nothing more.
    profile::set_display_name(&t.state, &who, "Ada Lovelace", t0 + 1)
        .await
        .wire()
        .unwrap();
    assert_eq!(
        t.count("SELECT COUNT(*) FROM security_events WHERE kind = 'display_name_changed'")
            .await,
        1
    );
    let who = t
        .session_caller(&who_token(&t, "named@example.com").await, caller(None))
        .await;
    assert_eq!(
        who.session().unwrap().display_name.as_deref(),
        Some("Ada Lovelace")
    );
    // A security notice greets by it.
    profile::start_email_change(
        &t.state,
        &who,
        "renamed@example.com",
        Some(PASSWORD),
        t0 + 2,
    )
    .await
    .wire()
    .unwrap();
    let mail = t.mail_with_subject("renamed@example.com", CONFIRM).await;
    assert!(
        mail.text_body.starts_with("Hello Ada Lovelace,"),
        "{}",
        mail.text_body
    );
    // Empty removes it (NULL on both databases).
    let gone = profile::set_display_name(&t.state, &who, "   ", t0 + 3)
        .await
        .wire()
        .unwrap();
    assert_eq!(gone, None);
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM users WHERE display_name IS NULL AND email = 'named@example.com'"
        )
        .await,
        1
    );
}

/// A fresh session of the account (its row read anew).
async fn who_token(t: &TestApp, email: &str) -> String {
    match accounts::sign_in(&t.state, &caller(None), email, PASSWORD, None, now())
        .await
        .wire()
        .unwrap()
    {
        accounts::SignInOutcome::Session { token, .. } => token,
        _ => panic!("expected a session"),
    }
}
