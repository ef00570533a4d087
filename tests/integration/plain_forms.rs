//! Signed-out forms sent as plain HTML forms (script off, or pressed before the page's
//! script runs): the browser asks for a page (`Accept: text/html`), and every answer is
//! a redirect to a page that shows the outcome, never data, never what was typed in a
//! URL. The same checks as a script's call hold on this path.
use crate::common::{app, TestApp, ORIGIN, PASSWORD};
use axum::body::Body;
use axum::http::{Request, StatusCode};

const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// A plain form's POST to the server function `name`, sent from the page `from`.
async fn submit(
    t: &TestApp,
    name: &str,
    from: &str,
    form: &[(&str, &str)],
    origin: &str,
) -> crate::common::Reply {
    submit_as(t, name, from, form, origin, None).await
}

/// [`submit`] with the browser's cookie.
async fn submit_as(
    t: &TestApp,
    name: &str,
    from: &str,
    form: &[(&str, &str)],
    origin: &str,
    cookie: Option<&str>,
) -> crate::common::Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let req = Request::post(format!("/api/{name}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", BROWSER_ACCEPT)
        .header("origin", origin)
        .header(
            "sec-fetch-site",
            if origin == ORIGIN {
                "same-origin"
            } else {
                "cross-site"
            },
        )
        .header("referer", format!("{ORIGIN}{from}"))
        .header("user-agent", "latchkey-tests/1.0");
    let req = match cookie {
        Some(c) => req.header("cookie", c),
        None => req,
    };
    t.send(req.body(Body::from(body)).unwrap()).await
}

/// Where a redirect goes, as a path and query on this server.
fn location(r: &crate::common::Reply) -> String {
    assert!(
        r.status.is_redirection(),
        "a redirect, not {}: {}",
        r.status,
        r.body
    );
    let to = r.headers["location"].to_str().unwrap();
    to.strip_prefix(ORIGIN).unwrap_or(to).to_string()
}

/// Follows a plain form's answer: the page it leads to, rendered by the server.
async fn page_after(t: &TestApp, r: &crate::common::Reply, cookie: Option<&str>) -> String {
    let page = t.get(&location(r), cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body
}

#[tokio::test]
async fn sign_in_by_plain_form_ends_on_a_page_with_its_outcome() {
    let t = app().await;
    let email = "plain@example.com";
    t.sign_up_verified(email, PASSWORD).await;
    let wrong = "Wrong-Password-1!";

    // A wrong password: back to the sign-in page (its `next` kept), which says so; no
    // raw answer, no session, nothing typed in the URL.
    let r = submit(
        &t,
        "sign_in",
        "/signin?next=%2Fsettings%2Fsessions",
        &[
            ("email", email),
            ("password", wrong),
            ("next", "/settings/sessions"),
        ],
        ORIGIN,
    )
    .await;
    let to = location(&r);
    assert!(to.starts_with("/signin?"), "{to}");
    assert!(to.contains("next=%2Fsettings%2Fsessions"), "{to}");
    assert!(!to.contains("plain") && !to.contains("Wrong"), "{to}");
    assert!(r.set_cookie().is_none());
    assert!(!r.headers.contains_key("serverfnerror"));
    let page = page_after(&t, &r, None).await;
    assert!(page.contains("Invalid email or password"), "{page}");
    assert!(
        page.contains(r#"name="next""#),
        "the form keeps next: {page}"
    );

    // The right one: straight to `next`, signed in.
    let r = submit(
        &t,
        "sign_in",
        "/signin?next=%2Fsettings%2Fsessions",
        &[
            ("email", email),
            ("password", PASSWORD),
            ("next", "/settings/sessions"),
        ],
        ORIGIN,
    )
    .await;
    assert_eq!(location(&r), "/settings/sessions");
    let cookie = r.session_cookie();
    let page = page_after(&t, &r, Some(&cookie)).await;
    assert!(page.contains("Sessions"), "{page}");
}

#[tokio::test]
async fn plain_form_sign_ins_are_throttled_and_checked_for_cross_site_use_the_same() {
    let t = app().await;
    let email = "plain-throttle@example.com";
    t.sign_up_verified(email, PASSWORD).await;
    for _ in 0..5 {
        let r = submit(
            &t,
            "sign_in",
            "/signin",
            &[("email", email), ("password", "Wrong-Password-1!")],
            ORIGIN,
        )
        .await;
        assert!(page_after(&t, &r, None)
            .await
            .contains("Invalid email or password"));
    }
    // Even the right password now waits, and the page says how long.
    let r = submit(
        &t,
        "sign_in",
        "/signin",
        &[("email", email), ("password", PASSWORD)],
        ORIGIN,
    )
    .await;
    assert!(r.set_cookie().is_none());
    let page = page_after(&t, &r, None).await;
    assert!(page.contains("Too many attempts"), "{page}");

    // A form on another site is refused before anything is judged.
    let r = submit(
        &t,
        "sign_in",
        "/signin",
        &[("email", email), ("password", PASSWORD)],
        "https://evil.example",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}

#[tokio::test]
async fn sign_up_by_plain_form_says_check_your_email_whether_or_not_the_address_is_taken() {
    let t = app().await;
    let form = |email: &'static str, repeat: &'static str| {
        vec![
            ("email", email),
            ("password", PASSWORD),
            ("password_repeat", repeat),
        ]
    };
    let r = submit(
        &t,
        "sign_up",
        "/signup",
        &form("new@example.com", PASSWORD),
        ORIGIN,
    )
    .await;
    assert_eq!(location(&r), "/signup?sent");
    let page = page_after(&t, &r, None).await;
    assert!(page.contains("Check your email"), "{page}");
    assert!(page.contains("the address you entered"), "{page}");
    t.mail_to("new@example.com", 1).await;

    // The same address again: the same answer (no enumeration).
    let again = submit(
        &t,
        "sign_up",
        "/signup",
        &form("new@example.com", PASSWORD),
        ORIGIN,
    )
    .await;
    assert_eq!(location(&again), "/signup?sent");

    // A field error comes back on the form, with its words.
    let r = submit(
        &t,
        "sign_up",
        "/signup",
        &form("other@example.com", "Granite-Kettle-43!"),
        ORIGIN,
    )
    .await;
    let to = location(&r);
    assert!(to.starts_with("/signup?") && !to.contains("other"), "{to}");
    let page = page_after(&t, &r, None).await;
    assert!(page.contains("The passwords do not match."), "{page}");
    assert!(!page.contains("Check your email"), "{page}");
}

#[tokio::test]
async fn forgot_password_by_plain_form_answers_alike_for_any_address() {
    let t = app().await;
    t.sign_up_verified("known@example.com", PASSWORD).await;
    let mut places = Vec::new();
    for email in ["known@example.com", "nobody@example.com"] {
        let r = submit(
            &t,
            "request_password_reset",
            "/forgot-password",
            &[("email", email)],
            ORIGIN,
        )
        .await;
        places.push(location(&r));
        let page = page_after(&t, &r, None).await;
        assert!(
            page.contains("If an account exists for the address you entered"),
            "{page}"
        );
    }
    assert_eq!(places[0], places[1]);
    assert!(
        places[0].starts_with("/forgot-password?sent="),
        "{places:?}"
    );
    assert!(!places[0].contains("example"), "{places:?}");
    t.mail_with_subject("known@example.com", "Reset your password")
        .await;

    // Not an address: the form says so.
    let r = submit(
        &t,
        "request_password_reset",
        "/forgot-password",
        &[("email", "not-an-address")],
        ORIGIN,
    )
    .await;
    let to = location(&r);
    assert!(
        to.starts_with("/forgot-password?") && to.contains("__err="),
        "{to}"
    );
    let page = page_after(&t, &r, None).await;
    assert!(!page.contains("If an account exists"), "{page}");
    assert!(page.contains(r#"aria-invalid="true""#), "{page}");
}

/// The whole link as a person copies it out of the email (`path#token=...`).
fn link_in(mail: &latchkey::server::store::outbox::StoredMail, path: &str) -> String {
    let at = mail.text_body.find(path).expect("the link in the mail");
    let start = mail.text_body[..at]
        .rfind("http")
        .expect("an absolute link");
    mail.text_body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_pasted_verification_link_verifies_by_plain_form() {
    let t = app().await;
    let email = "pasted@example.com";
    t.sign_up(email, PASSWORD).await;
    let mail = t
        .mail_with_subject(email, "Verify your email address")
        .await;
    let link = link_in(&mail, "/verify-email#token=");

    // A link cut short: the page says so, and nothing is verified.
    let short = &link[..link.len() - 4];
    let r = submit(
        &t,
        "verify_email",
        "/verify-email",
        &[("token", short)],
        ORIGIN,
    )
    .await;
    let to = location(&r);
    assert!(
        to.starts_with("/verify-email?") && to.contains("__err="),
        "{to}"
    );
    let page = page_after(&t, &r, None).await;
    assert!(page.contains("not valid"), "{page}");
    assert!(!page.contains("is verified"), "{page}");

    let r = submit(
        &t,
        "verify_email",
        "/verify-email",
        &[("token", &link)],
        ORIGIN,
    )
    .await;
    assert_eq!(location(&r), "/verify-email?verified");
    let page = page_after(&t, &r, None).await;
    assert!(page.contains("Your email address is verified"), "{page}");
    let again = submit(
        &t,
        "verify_email",
        "/verify-email",
        &[("token", &link)],
        ORIGIN,
    )
    .await;
    assert_eq!(location(&again), "/verify-email?already");
    assert!(page_after(&t, &again, None)
        .await
        .contains("was already verified"));
}

#[tokio::test]
async fn a_pasted_reset_link_and_a_new_password_reset_by_plain_form() {
    let t = app().await;
    let email = "pasted-reset@example.com";
    t.sign_up_verified(email, PASSWORD).await;
    t.call("request_password_reset", &[("email", email)], None)
        .await;
    let mail = t.mail_with_subject(email, "Reset your password").await;
    let link = link_in(&mail, "/reset-password#token=");
    let new = "Basalt-Harbour-77?";

    // The repeat differs: back on the page, with its words.
    let r = submit(
        &t,
        "reset_password",
        "/reset-password",
        &[
            ("token", link.as_str()),
            ("new_password", new),
            ("new_password_repeat", "Basalt-Harbour-78?"),
        ],
        ORIGIN,
    )
    .await;
    let to = location(&r);
    assert!(
        to.starts_with("/reset-password?") && !to.contains("Basalt"),
        "{to}"
    );
    let page = page_after(&t, &r, None).await;
    assert!(page.contains("do not match"), "{page}");

    let r = submit(
        &t,
        "reset_password",
        "/reset-password",
        &[
            ("token", link.as_str()),
            ("new_password", new),
            ("new_password_repeat", new),
        ],
        ORIGIN,
    )
    .await;
    assert_eq!(location(&r), "/reset-password?done");
    let page = page_after(&t, &r, None).await;
    assert!(page.contains("Your password has been changed."), "{page}");
    assert_eq!(t.sign_in(email, new).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_second_step_by_plain_form_takes_an_authenticator_code() {
    use crate::common::Wire;
    use latchkey::server::auth::Caller;
    use latchkey::server::domain::totp;
    use latchkey::server::flows::mfa;
    let t = app().await;
    let email = "plain-2fa@example.com";
    let t0 = latchkey::server::now();
    let base = Caller {
        ip: "198.51.100.9".into(),
        user_agent: "latchkey-tests/1.0".into(),
        principal: None,
        device_cookie: None,
    };
    let who = t.owner(email, t0, base).await;
    let setup = mfa::start_totp(&t.state, &who, PASSWORD, "", t0)
        .await
        .wire()
        .unwrap();
    let secret = data_encoding::BASE32_NOPAD
        .decode(setup.secret.replace(' ', "").as_bytes())
        .unwrap();
    mfa::confirm_totp(&t.state, &who, &totp::code_at(&secret, t0 as u64), t0)
        .await
        .wire()
        .unwrap();

    let r = submit(
        &t,
        "sign_in",
        "/signin",
        &[("email", email), ("password", PASSWORD)],
        ORIGIN,
    )
    .await;
    assert_eq!(location(&r), "/signin/verify");
    let pending = r.session_cookie();
    // The page is the whole form, rendered by the server (no script needed to fill it).
    let page = page_after(&t, &r, Some(&pending)).await;
    assert!(page.contains(r#"action="/api/verify_sign_in""#), "{page}");
    assert!(page.contains(r#"name="code""#), "{page}");

    let wrong = submit_as(
        &t,
        "verify_sign_in",
        "/signin/verify",
        &[
            ("code", "000000"),
            ("recovery_code", ""),
            ("method", "totp"),
        ],
        ORIGIN,
        Some(&pending),
    )
    .await;
    let to = location(&wrong);
    assert!(
        to.starts_with("/signin/verify?") && !to.contains("000000"),
        "{to}"
    );
    assert!(wrong.set_cookie().is_none());
    let page = page_after(&t, &wrong, Some(&pending)).await;
    assert!(page.contains("Invalid code"), "{page}");

    // The next step's code (the current one went to turning the app on).
    let right = totp::code_at(&secret, t0 as u64 + 30);
    let r = submit_as(
        &t,
        "verify_sign_in",
        "/signin/verify",
        &[("code", &right), ("recovery_code", ""), ("method", "totp")],
        ORIGIN,
        Some(&pending),
    )
    .await;
    assert!(location(&r).starts_with("/settings/"), "{}", location(&r));
    let cookies: Vec<_> = r.headers.get_all("set-cookie").iter().collect();
    assert!(
        cookies.len() >= 2,
        "the pending cookie cleared, a session set"
    );
}

#[tokio::test]
async fn the_second_step_by_plain_form_sends_an_email_code_on_request_and_takes_it() {
    use crate::email_code_api::{code_from_mail, email_on, SIGN_IN_SUBJECT};
    let t = app().await;
    let email = "plain-email-code@example.com";
    email_on(&t, email, latchkey::server::now()).await;
    let r = submit(
        &t,
        "sign_in",
        "/signin",
        &[("email", email), ("password", PASSWORD)],
        ORIGIN,
    )
    .await;
    assert_eq!(location(&r), "/signin/verify");
    let pending = r.session_cookie();
    // Without script nothing is sent on opening the page (a GET changes nothing): the
    // page offers "Request Code" as a plain form of its own.
    let page = page_after(&t, &r, Some(&pending)).await;
    assert!(
        page.contains(r#"action="/api/send_sign_in_code""#),
        "{page}"
    );
    assert!(page.contains(r#"form="send-code-email""#), "{page}");
    assert!(!page.contains("We sent a 6-digit code"), "{page}");
    assert_eq!(sign_in_mails(&t, email).await, 0);

    // Another site's form sends nothing.
    let r = submit_as(
        &t,
        "send_sign_in_code",
        "/signin/verify",
        &[("channel", "email")],
        "https://evil.example",
        Some(&pending),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let r = submit_as(
        &t,
        "send_sign_in_code",
        "/signin/verify",
        &[("channel", "email")],
        ORIGIN,
        Some(&pending),
    )
    .await;
    assert_eq!(location(&r), "/signin/verify?method=email");
    let code = code_from_mail(&t, email, SIGN_IN_SUBJECT, 1).await;
    // The page says where the code went, and counts down to the next one.
    let page = page_after(&t, &r, Some(&pending)).await;
    assert!(page.contains("We sent a 6-digit code to"), "{page}");
    assert!(page.contains("Request Code ("), "{page}");

    // Pressed again at once: refused by the resend interval, the page still says the
    // code went out, and no second mail.
    let again = submit_as(
        &t,
        "send_sign_in_code",
        "/signin/verify?method=email",
        &[("channel", "email")],
        ORIGIN,
        Some(&pending),
    )
    .await;
    let to = location(&again);
    assert!(to.starts_with("/signin/verify?method=email"), "{to}");
    let page = page_after(&t, &again, Some(&pending)).await;
    assert!(page.contains("We sent a 6-digit code to"), "{page}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(sign_in_mails(&t, email).await, 1);

    let r = submit_as(
        &t,
        "verify_sign_in",
        "/signin/verify?method=email",
        &[("code", &code), ("recovery_code", ""), ("method", "email")],
        ORIGIN,
        Some(&pending),
    )
    .await;
    assert!(location(&r).starts_with("/settings/"), "{}", location(&r));
}

#[tokio::test]
async fn a_code_sent_for_an_earlier_sign_in_is_not_shown_as_sent_for_the_next() {
    use crate::email_code_api::email_on;
    let t = app().await;
    let email = "plain-earlier-code@example.com";
    email_on(&t, email, latchkey::server::now()).await;
    let first = submit(
        &t,
        "sign_in",
        "/signin",
        &[("email", email), ("password", PASSWORD)],
        ORIGIN,
    )
    .await
    .session_cookie();
    let r = submit_as(
        &t,
        "send_sign_in_code",
        "/signin/verify",
        &[("channel", "email")],
        ORIGIN,
        Some(&first),
    )
    .await;
    assert!(page_after(&t, &r, Some(&first))
        .await
        .contains("We sent a 6-digit code to"));
    crate::email_code_api::code_from_mail(&t, email, crate::email_code_api::SIGN_IN_SUBJECT, 1)
        .await;
    // A sign-in begun later (in another browser): the code went to the first one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = submit(
        &t,
        "sign_in",
        "/signin",
        &[("email", email), ("password", PASSWORD)],
        ORIGIN,
    )
    .await
    .session_cookie();
    let page = t.get("/signin/verify", Some(&second)).await.body;
    assert!(!page.contains("We sent a 6-digit code to"), "{page}");
    assert_eq!(sign_in_mails(&t, email).await, 1);
}

/// How many sign-in codes went to `email`.
async fn sign_in_mails(t: &TestApp, email: &str) -> usize {
    t.mail_to(email, 0)
        .await
        .into_iter()
        .filter(|m| m.subject.contains(crate::email_code_api::SIGN_IN_SUBJECT))
        .count()
}
