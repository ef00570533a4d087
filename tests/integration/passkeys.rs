//! Passkeys (issue 27) with a software authenticator (webauthn-authenticator-rs's
//! SoftPasskey: real keys, real signatures, user verification): adding, the second
//! step, a passkey sign-in; each ceremony finishing once under parallel finishes and
//! expiring after 5 minutes; a counter that goes back refused and logged; ten passkeys
//! at most, also when added at once. The browser's side (Chromium's virtual
//! authenticator) is end2end/tests/passkeys.spec.ts.
use crate::common::{app_with, TestApp, PASSWORD};
use base64::Engine;
use latchkey::model::mfa::Method;
use latchkey::server::auth::{Caller, Principal, Session};
use latchkey::server::error::Error;
use latchkey::server::flows::{accounts, mfa, passkeys, second_step};
use latchkey::server::now;
use serde_json::{json, Value};
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

const SITE: &str = "http://localhost:3000";

async fn passkey_app() -> TestApp {
    app_with(&[("LATCHKEY_SERVER_PUBLIC_BASE_URL", SITE)]).await
}

fn browser(ip: &str) -> Caller {
    Caller {
        ip: ip.into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0".into(),
        principal: None::<Session>.map(Principal::Session),
        device_cookie: None,
    }
}

/// A software authenticator that verifies its user.
struct Device(WebauthnAuthenticator<SoftPasskey>);

impl Device {
    fn new() -> Device {
        Device(WebauthnAuthenticator::new(SoftPasskey::new(true)))
    }

    /// Answers "Add a passkey" (the software key keeps no resident keys, so it is
    /// asked for a plain one; the server does not depend on it). Gives the answer and
    /// the credential's id.
    fn register(&mut self, options: &str) -> (String, String) {
        let mut options: Value = serde_json::from_str(options).unwrap();
        assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
        assert_eq!(
            options["authenticatorSelection"]["userVerification"],
            "required"
        );
        options["authenticatorSelection"]["requireResidentKey"] = false.into();
        let ccr: CreationChallengeResponse =
            serde_json::from_value(json!({ "publicKey": options })).unwrap();
        let answer = self
            .0
            .do_registration(Url::parse(SITE).unwrap(), ccr)
            .unwrap();
        let answer = serde_json::to_value(&answer).unwrap();
        let id = answer["id"].as_str().unwrap().to_string();
        (answer.to_string(), id)
    }

    fn assert(&mut self, options: &str) -> String {
        let rcr: RequestChallengeResponse = serde_json::from_value(
            json!({ "publicKey": serde_json::from_str::<Value>(options).unwrap() }),
        )
        .unwrap();
        let answer = self
            .0
            .do_authentication(Url::parse(SITE).unwrap(), rcr)
            .unwrap();
        serde_json::to_string(&answer).unwrap()
    }

    /// Answers a passkey sign-in as a discoverable credential does: it finds its own
    /// credential (`id`) and names the account by its user handle.
    fn assert_discovered(&mut self, options: &str, id: &str, handle: &str) -> String {
        let mut options: Value = serde_json::from_str(options).unwrap();
        assert_eq!(
            options["allowCredentials"],
            json!([]),
            "any passkey of the site"
        );
        options["allowCredentials"] = json!([{"type": "public-key", "id": id}]);
        let mut answer: Value = serde_json::from_str(&self.assert(&options.to_string())).unwrap();
        let uuid = webauthn_rs::prelude::Uuid::parse_str(handle).unwrap();
        answer["response"]["userHandle"] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid.as_bytes())
            .into();
        answer.to_string()
    }
}

/// An owner signed in, and one passkey added (the first method: ten codes). Gives the
/// owner (under the session id that adding gave), the device, the credential id and
/// the recovery codes.
async fn owner_with_passkey(
    t: &TestApp,
    email: &str,
    at: i64,
) -> (Caller, Device, String, Vec<String>) {
    let who = t.owner(email, at, browser("198.51.100.60")).await;
    let mut device = Device::new();
    let (who, id, codes) = add(t, &who, &mut device, at).await;
    (who, device, id, codes)
}

async fn add(
    t: &TestApp,
    who: &Caller,
    device: &mut Device,
    at: i64,
) -> (Caller, String, Vec<String>) {
    let options = passkeys::begin_add(&t.state, who, None, at).await.unwrap();
    let (answer, id) = device.register(&options);
    let added = passkeys::finish_add(&t.state, who, &answer, at)
        .await
        .unwrap();
    let codes = added
        .codes
        .map(|c| c.codes.into_iter().map(|c| c.code).collect())
        .unwrap_or_default();
    let who = t
        .session_caller(&added.session_token, browser(&who.ip))
        .await;
    (who, id, codes)
}

async fn handle_of(t: &TestApp, email: &str) -> String {
    let (h,): (String,) = sqlx::query_as("SELECT webauthn_handle FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&t.state.db)
        .await
        .unwrap();
    h
}

async fn pending(t: &TestApp, email: &str, at: i64) -> String {
    match accounts::sign_in(
        &t.state,
        &browser("198.51.100.61"),
        email,
        PASSWORD,
        None,
        at,
    )
    .await
    .unwrap()
    {
        accounts::SignInOutcome::SecondFactor { pending_token } => pending_token,
        accounts::SignInOutcome::Session { .. } => panic!("a passkey asks for a second step"),
    }
}

#[tokio::test]
async fn a_passkey_is_added_then_signs_in_alone_and_as_the_second_step() {
    let t = passkey_app().await;
    let t0 = now();
    let email = "pk-owner@example.com";
    let who = t.owner(email, t0, browser("198.51.100.60")).await;
    let mut device = Device::new();
    let options = passkeys::begin_add(&t.state, &who, None, t0).await.unwrap();
    let (answer, id) = device.register(&options);
    let added = passkeys::finish_add(&t.state, &who, &answer, t0 + 1)
        .await
        .unwrap();
    assert_eq!(
        added.codes.as_ref().map(|c| c.codes.len()),
        Some(10),
        "the first method"
    );
    let who = t
        .session_caller(&added.session_token, browser("198.51.100.60"))
        .await;
    let status = mfa::status(&t.state, &who).await.unwrap();
    assert_eq!(status.passkeys.len(), 1);
    assert_eq!(
        status.passkeys[0].name, "Passkey",
        "an unknown authenticator"
    );
    assert_eq!(status.active(), vec![Method::Passkey]);
    assert!(status.passkeys_available);
    assert!(t.event_kinds().await.contains(&"mfa_enabled".to_string()));
    t.mail_with_subject(email, "Passkey added").await;

    // The second step of a password sign-in: the passkey first.
    let p = pending(&t, email, t0 + 10).await;
    let options = second_step::sign_in_options(&t.state, Some(&p), t0 + 10)
        .await
        .unwrap();
    assert_eq!(options.preferred, Method::Passkey);
    let request =
        second_step::passkey_options(&t.state, &browser("198.51.100.61"), Some(&p), t0 + 11)
            .await
            .unwrap();
    let answer = device.assert(&request);
    second_step::finish_second_step_with(
        &t.state,
        &browser("198.51.100.61"),
        Some(&p),
        Method::Passkey,
        &answer,
        t0 + 12,
    )
    .await
    .unwrap();

    // No password at all: the passkey names its account.
    let stranger = browser("198.51.100.62");
    let (options, ceremony) = passkeys::begin_sign_in(&t.state, &stranger, t0 + 20)
        .await
        .unwrap();
    let handle = handle_of(&t, email).await;
    let answer = device.assert_discovered(&options, &id, &handle);
    let done = passkeys::finish_sign_in(&t.state, &stranger, &ceremony, &answer, None, t0 + 21)
        .await
        .unwrap();
    let signed_in = t.session_caller(&done.session_token, stranger).await;
    assert_eq!(signed_in.session().unwrap().email, email);
    let list = mfa::status(&t.state, &signed_in).await.unwrap().passkeys;
    assert_eq!(list[0].last_used_at, Some(t0 + 21));

    // The passkey confirms it is the owner: the recovery codes are shown, and Email
    // Code's first step takes it instead of the password (a password alone is refused).
    let request = passkeys::begin_identity(&t.state, &signed_in, t0 + 22)
        .await
        .unwrap();
    let shown = mfa::view_codes(&t.state, &signed_in, &device.assert(&request), t0 + 23)
        .await
        .unwrap();
    assert_eq!(shown.codes.len(), 10);
    assert!(
        latchkey::server::flows::codes::start_email_code(
            &t.state,
            &signed_in,
            PASSWORD,
            "",
            t0 + 24
        )
        .await
        .is_err(),
        "the passkey is asked, not the password"
    );
    let request = passkeys::begin_identity(&t.state, &signed_in, t0 + 24)
        .await
        .unwrap();
    let answer = device.assert(&request);
    latchkey::server::flows::codes::start_email_code(&t.state, &signed_in, "", &answer, t0 + 25)
        .await
        .unwrap();
    // That proof is used up: the same answer again is refused.
    assert!(latchkey::server::flows::codes::start_email_code(
        &t.state,
        &signed_in,
        "",
        &answer,
        t0 + 26
    )
    .await
    .is_err());

    // Rename, then remove: the last method takes the recovery codes with it.
    let renamed = passkeys::rename(&t.state, &signed_in, list[0].id, "  Work laptop ", t0 + 30)
        .await
        .unwrap();
    assert_eq!(renamed, "Work laptop");
    assert!(
        passkeys::rename(&t.state, &signed_in, list[0].id, " ", t0 + 30)
            .await
            .is_err()
    );
    // Removing always asks the password, even just after signing in.
    assert!(
        passkeys::remove(&t.state, &signed_in, list[0].id, "", t0 + 31)
            .await
            .is_err()
    );
    assert!(
        passkeys::remove(&t.state, &signed_in, list[0].id, "wrong password", t0 + 31)
            .await
            .is_err()
    );
    passkeys::remove(&t.state, &signed_in, list[0].id, PASSWORD, t0 + 31)
        .await
        .unwrap();
    assert_eq!(t.count("SELECT COUNT(*) FROM passkeys").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) FROM recovery_codes").await, 0);
    t.mail_with_subject(email, "Passkey removed").await;
    // Signing in now needs the password only.
    assert!(matches!(
        accounts::sign_in(
            &t.state,
            &browser("198.51.100.63"),
            email,
            PASSWORD,
            None,
            t0 + 40
        )
        .await
        .unwrap(),
        accounts::SignInOutcome::Session { .. }
    ));
}

#[tokio::test]
async fn a_passkey_sign_in_finishes_once_when_its_answer_is_sent_ten_times_at_once() {
    let t = passkey_app().await;
    let t0 = now();
    let email = "pk-race@example.com";
    let (_, mut device, id, _) = owner_with_passkey(&t, email, t0).await;
    let stranger = browser("198.51.100.70");
    let (options, ceremony) = passkeys::begin_sign_in(&t.state, &stranger, t0 + 1)
        .await
        .unwrap();
    let answer = device.assert_discovered(&options, &id, &handle_of(&t, email).await);
    let sessions_before = t.count("SELECT COUNT(*) FROM sessions").await;
    let finishes = (0..10).map(|_| {
        let (state, who, ceremony, answer) = (
            t.state.clone(),
            stranger.clone(),
            ceremony.clone(),
            answer.clone(),
        );
        tokio::spawn(async move {
            match passkeys::finish_sign_in(&state, &who, &ceremony, &answer, None, t0 + 2).await {
                Ok(_) => true,
                // The others: the ceremony is gone, or the address's tries are counted.
                Err(Error::Refused(_) | Error::TooMany { .. }) => false,
                Err(e) => panic!("a finish failed otherwise: {e:?}"),
            }
        })
    });
    let won = futures_count(finishes).await;
    assert_eq!(won, 1, "exactly one finish wins");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM sessions").await,
        sessions_before + 1
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM webauthn_ceremonies").await, 0);

    // The second step's ceremony too: one assertion, five finishes (a half-done
    // sign-in survives five tries), one session.
    let p = pending(&t, email, t0 + 10).await;
    let request =
        second_step::passkey_options(&t.state, &browser("198.51.100.61"), Some(&p), t0 + 10)
            .await
            .unwrap();
    let answer = device.assert(&request);
    let finishes = (0..5).map(|_| {
        let (state, p, answer) = (t.state.clone(), p.clone(), answer.clone());
        tokio::spawn(async move {
            second_step::finish_second_step_with(
                &state,
                &browser("198.51.100.61"),
                Some(&p),
                Method::Passkey,
                &answer,
                t0 + 11,
            )
            .await
            .is_ok()
        })
    });
    assert_eq!(futures_count(finishes).await, 1);
}

async fn futures_count(tasks: impl Iterator<Item = tokio::task::JoinHandle<bool>>) -> usize {
    let mut won = 0;
    for task in tasks.collect::<Vec<_>>() {
        if task.await.unwrap() {
            won += 1;
        }
    }
    won
}

#[tokio::test]
async fn a_ceremony_expires_after_five_minutes() {
    let t = passkey_app().await;
    let t0 = now();
    let email = "pk-late@example.com";
    let (who, mut device, id, _) = owner_with_passkey(&t, email, t0).await;
    let handle = handle_of(&t, email).await;
    let stranger = browser("198.51.100.80");

    // A sign-in answered 300 s after it began: refused, and the ceremony is gone.
    let c = passkeys::begin_sign_in(&t.state, &stranger, t0)
        .await
        .unwrap();
    let answer = device.assert_discovered(&c.0, &id, &handle);
    let late = passkeys::finish_sign_in(&t.state, &stranger, &c.1, &answer, None, t0 + 300).await;
    assert!(matches!(late, Err(Error::Refused(_))), "{late:?}");
    let again = passkeys::finish_sign_in(&t.state, &stranger, &c.1, &answer, None, t0 + 1).await;
    assert!(
        again.is_err(),
        "a ceremony is taken once, even when too late"
    );
    // One answered a second before: accepted.
    let c = passkeys::begin_sign_in(&t.state, &stranger, t0)
        .await
        .unwrap();
    let answer = device.assert_discovered(&c.0, &id, &handle);
    passkeys::finish_sign_in(&t.state, &stranger, &c.1, &answer, None, t0 + 299)
        .await
        .unwrap();

    // Adding: the same.
    let c = passkeys::begin_add(&t.state, &who, None, t0 + 1)
        .await
        .unwrap();
    let (answer, _) = Device::new().register(&c);
    assert!(passkeys::finish_add(&t.state, &who, &answer, t0 + 301)
        .await
        .is_err());
    assert_eq!(t.count("SELECT COUNT(*) FROM passkeys").await, 1);
    // Housekeeping removes ceremonies nobody finished.
    passkeys::begin_sign_in(&t.state, &stranger, t0)
        .await
        .unwrap();
    assert_eq!(t.count("SELECT COUNT(*) FROM webauthn_ceremonies").await, 1);
    latchkey::server::store::passkeys::delete_expired_ceremonies(&t.state.db, t0 + 300)
        .await
        .unwrap();
    assert_eq!(t.count("SELECT COUNT(*) FROM webauthn_ceremonies").await, 0);
}

#[tokio::test]
async fn a_counter_that_goes_back_is_refused_and_logged() {
    let t = passkey_app().await;
    let t0 = now();
    let email = "pk-clone@example.com";
    let (_, mut device, _, _) = owner_with_passkey(&t, email, t0).await;
    // Two sign-ins begun; the authenticator signs the first (counter 1), then the second
    // (counter 2). The second is used first: the first's counter is then behind, as a
    // copy of the key that fell behind would be.
    let first = pending(&t, email, t0 + 1).await;
    let second = pending(&t, email, t0 + 1).await;
    let first_request =
        second_step::passkey_options(&t.state, &browser("198.51.100.61"), Some(&first), t0 + 2)
            .await
            .unwrap();
    let second_request =
        second_step::passkey_options(&t.state, &browser("198.51.100.61"), Some(&second), t0 + 2)
            .await
            .unwrap();
    let behind = device.assert(&first_request);
    let ahead = device.assert(&second_request);
    let finish = |p: String, answer: String| {
        let state = t.state.clone();
        async move {
            second_step::finish_second_step_with(
                &state,
                &browser("198.51.100.90"),
                Some(&p),
                Method::Passkey,
                &answer,
                t0 + 3,
            )
            .await
        }
    };
    finish(second.clone(), ahead).await.unwrap();
    let refused = finish(first.clone(), behind).await;
    assert!(matches!(refused, Err(Error::WrongSecret(_))), "{refused:?}");
    let (detail,): (String,) = sqlx::query_as(
        "SELECT detail FROM security_events WHERE kind = 'passkey_refused' ORDER BY id DESC",
    )
    .fetch_one(&t.state.db)
    .await
    .unwrap();
    assert!(detail.contains("counter_went_back"), "{detail}");
    t.mail_with_subject(email, "A copy of your passkey may exist")
        .await;
    // The stored counter stays where the genuine key left it.
    assert_eq!(t.count("SELECT MAX(sign_count) FROM passkeys").await, 2);
}

#[tokio::test]
async fn ten_passkeys_at_most_even_when_added_at_once() {
    let t = passkey_app().await;
    let t0 = now();
    let email = "pk-ten@example.com";
    let (mut who, _, _, codes) = owner_with_passkey(&t, email, t0).await;
    for _ in 1..9 {
        who = add(&t, &who, &mut Device::new(), t0).await.0;
    }
    assert_eq!(t.count("SELECT COUNT(*) FROM passkeys").await, 9);
    // Two sessions of the owner each add one at once: one gets the tenth place.
    let other = match accounts::sign_in(
        &t.state,
        &browser("198.51.100.99"),
        email,
        PASSWORD,
        None,
        t0,
    )
    .await
    .unwrap()
    {
        accounts::SignInOutcome::SecondFactor { pending_token } => {
            // The second step by a recovery code.
            let done = second_step::finish_second_step_with(
                &t.state,
                &browser("198.51.100.99"),
                Some(&pending_token),
                Method::Recovery,
                &codes[0],
                t0,
            )
            .await
            .unwrap();
            t.session_caller(&done.session_token, browser("198.51.100.99"))
                .await
        }
        accounts::SignInOutcome::Session { .. } => panic!("a second step"),
    };
    let a = passkeys::begin_add(&t.state, &who, None, t0).await.unwrap();
    let b = passkeys::begin_add(&t.state, &other, None, t0)
        .await
        .unwrap();
    let (answer_a, _) = Device::new().register(&a);
    let (answer_b, _) = Device::new().register(&b);
    let (ra, rb) = tokio::join!(
        passkeys::finish_add(&t.state, &who, &answer_a, t0 + 1),
        passkeys::finish_add(&t.state, &other, &answer_b, t0 + 1)
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM passkeys").await, 10);
    // The one that lost counted the winner's passkey (the count is taken under a lock
    // on the account): it is told the account is full.
    let who = match (ra, rb) {
        (Ok(done), Err(lost)) => {
            assert!(lost.to_string().contains("10 passkeys"), "{lost:?}");
            t.session_caller(&done.session_token, browser(&who.ip))
                .await
        }
        (Err(lost), Ok(done)) => {
            assert!(lost.to_string().contains("10 passkeys"), "{lost:?}");
            t.session_caller(&done.session_token, browser("198.51.100.99"))
                .await
        }
        (a, b) => panic!("exactly one of two adds at once: {a:?} {b:?}"),
    };
    let refused = passkeys::begin_add(&t.state, &who, None, t0 + 2).await;
    assert!(
        matches!(&refused, Err(Error::Refused(e)) if e.to_string().contains("10 passkeys")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn passkey_ceremonies_begun_from_one_address_are_limited_even_at_once() {
    let t = passkey_app().await;
    let t0 = now();
    // Each begun ceremony keeps a row for 5 minutes: 80 at once from one address get
    // the 60 free ones, the rest are told to wait.
    let begun = (0..80).map(|_| {
        let state = t.state.clone();
        tokio::spawn(async move {
            passkeys::begin_sign_in(&state, &browser("198.51.100.120"), t0)
                .await
                .is_ok()
        })
    });
    assert_eq!(futures_count(begun).await, 60);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM webauthn_ceremonies").await,
        60
    );
    let refused = passkeys::begin_sign_in(&t.state, &browser("198.51.100.120"), t0).await;
    assert!(matches!(refused, Err(Error::TooMany { .. })), "{refused:?}");
    // Another address is not held back.
    passkeys::begin_sign_in(&t.state, &browser("198.51.100.121"), t0)
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_passkey_sign_ins_are_counted_before_they_are_judged_even_at_once() {
    let t = passkey_app().await;
    let t0 = now();
    let email = "pk-guess@example.com";
    let (_, mut device, id, _) = owner_with_passkey(&t, email, t0).await;
    let handle = handle_of(&t, email).await;
    let guesser = browser("198.51.100.130");
    // An answer signed for one ceremony, sent to twelve others at once: each is wrong
    // (its challenge is another's). The account's counter from this address lets five
    // be judged; the others are refused before any signature is looked at.
    let (options, _) = passkeys::begin_sign_in(&t.state, &guesser, t0)
        .await
        .unwrap();
    let answer = device.assert_discovered(&options, &id, &handle);
    let mut ceremonies = Vec::new();
    for _ in 0..12 {
        ceremonies.push(
            passkeys::begin_sign_in(&t.state, &guesser, t0)
                .await
                .unwrap()
                .1,
        );
    }
    let tries = ceremonies.into_iter().map(|c| {
        let (state, who, answer) = (t.state.clone(), guesser.clone(), answer.clone());
        tokio::spawn(async move {
            match passkeys::finish_sign_in(&state, &who, &c, &answer, None, t0 + 1).await {
                Err(Error::WrongSecret(_)) => "wrong",
                Err(Error::TooMany { .. }) => "too_many",
                other => panic!("{other:?}"),
            }
        })
    });
    let mut judged = 0;
    for task in tries.collect::<Vec<_>>() {
        if task.await.unwrap() == "wrong" {
            judged += 1;
        }
    }
    assert_eq!(judged, 5, "five judged, seven refused unjudged");
    let (refusals,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM security_events WHERE kind = 'passkey_refused'")
            .fetch_one(&t.state.db)
            .await
            .unwrap();
    assert_eq!(refusals, 5);
}

#[tokio::test]
async fn adding_a_passkey_asks_the_password_once_no_proof_is_recent() {
    let t = passkey_app().await;
    let t0 = now();
    let who = t
        .owner("pk-proof@example.com", t0, browser("198.51.100.140"))
        .await;
    // A day after signing in, no proof is recent: the password is asked first.
    let later = t0 + 24 * 3600;
    let asked = passkeys::begin_add(&t.state, &who, None, later).await;
    assert!(
        matches!(
            asked,
            Err(Error::Refused(
                latchkey::model::error::ApiError::ProofNeeded(_)
            ))
        ),
        "{asked:?}"
    );
    assert!(
        passkeys::begin_add(&t.state, &who, Some("wrong password"), later)
            .await
            .is_err()
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM webauthn_ceremonies").await, 0);
    passkeys::begin_add(&t.state, &who, Some(PASSWORD), later)
        .await
        .unwrap();
    assert_eq!(t.count("SELECT COUNT(*) FROM webauthn_ceremonies").await, 1);
}
