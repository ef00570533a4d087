//! New sign-in notices (Settings > Notifications) and their "This wasn't me" link, and
//! the locations the installed country database gives (issue 25).
use crate::common::{app, app_with, count_status, Reply, TestApp, PASSWORD};
use axum::http::StatusCode;

const LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const MAC_FIREFOX: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0";
const NOTICE: &str = "New sign-in to your account";

/// Signs in from a browser (`user_agent`, and the device cookie `device` if it has
/// one, and an address through the trusted proxy if `from`): the reply.
async fn sign_in(
    t: &TestApp,
    email: &str,
    user_agent: &str,
    device: Option<&str>,
    from: Option<&str>,
) -> Reply {
    let mut headers = vec![("user-agent", user_agent)];
    if let Some(ip) = from {
        headers.push(("x-forwarded-for", ip));
    }
    let r = t
        .call_with(
            "sign_in",
            &[("email", email), ("password", PASSWORD)],
            device,
            &headers,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

/// `latchkey_device=...` as the reply set it.
fn device_cookie(r: &Reply) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("latchkey_device="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

async fn notices_to(t: &TestApp, to: &str) -> Vec<latchkey::server::store::outbox::StoredMail> {
    // Delivery runs in the background: give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    latchkey::server::store::outbox::latest(&t.state.db, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.to_addr == to && m.subject == NOTICE)
        .collect()
}

fn not_me_token(mail: &latchkey::server::store::outbox::StoredMail) -> String {
    let start = mail
        .text_body
        .find("/not-me?token=")
        .expect("a This wasn't me link")
        + "/not-me?token=".len();
    mail.text_body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

async fn log_details(t: &TestApp) -> Vec<serde_json::Value> {
    latchkey::server::store::events::all(&t.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "new_sign_in_notice")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect()
}

#[tokio::test]
async fn a_new_device_and_browser_are_told_and_a_known_device_is_not() {
    let t = app().await;
    t.sign_up_verified("ann@example.com", PASSWORD).await;
    // The account's first sign-in is no news (it was just made), and it is logged so.
    let first = sign_in(&t, "ann@example.com", LINUX, None, None).await;
    let laptop = device_cookie(&first).expect("a device cookie at sign-in");
    assert!(first
        .headers
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().contains("HttpOnly")));
    assert!(notices_to(&t, "ann@example.com").await.is_empty());
    assert_eq!(log_details(&t).await[0]["held_back"], "first_sign_in");

    // The same browser again (its cookie): nothing new, no cookie set again.
    let again = sign_in(&t, "ann@example.com", LINUX, Some(&laptop), None).await;
    assert_eq!(device_cookie(&again), None);
    assert!(notices_to(&t, "ann@example.com").await.is_empty());

    // Another browser, without the cookie: a new device and a new browser.
    sign_in(&t, "ann@example.com", MAC_FIREFOX, None, None).await;
    let mails = notices_to(&t, "ann@example.com").await;
    assert_eq!(mails.len(), 1);
    let text = &mails[0].text_body;
    assert!(
        text.contains("from a new device and a new browser"),
        "{text}"
    );
    assert!(text.contains("Firefox on Mac OSX"), "{text}");
    assert!(text.contains("203.0.113.7"), "{text}");
    assert!(
        text.contains("This wasn't me") || text.contains("If this wasn't you"),
        "{text}"
    );
    let sent = log_details(&t).await;
    assert_eq!(
        sent.last().unwrap()["new"],
        serde_json::json!(["device", "browser"])
    );

    // A forged device cookie is no device: a new id, and a notice (the browser now
    // is known, so only "a new device").
    let forged = format!("{}x", &laptop[..laptop.len() - 1]);
    let r = sign_in(
        &t,
        "ann@example.com",
        LINUX,
        Some(&forged),
        Some("203.0.113.9"),
    )
    .await;
    assert!(device_cookie(&r).is_some());
}

#[tokio::test]
async fn switches_off_mean_no_mail_and_the_log_says_it_was_held_back() {
    let t = app().await;
    t.sign_up_verified("bo@example.com", PASSWORD).await;
    let first = sign_in(&t, "bo@example.com", LINUX, None, None).await;
    let session = first.session_cookie();
    let r = t
        .call(
            "set_notification_switches",
            &[
                ("new_device", "false"),
                ("new_location", "false"),
                ("new_browser", "false"),
            ],
            Some(&session),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.call("notification_switches", &[], Some(&session)).await;
    assert_eq!(r.json()["new_device"], false);
    sign_in(&t, "bo@example.com", MAC_FIREFOX, None, None).await;
    assert!(notices_to(&t, "bo@example.com").await.is_empty());
    assert_eq!(
        log_details(&t).await.last().unwrap()["held_back"],
        "switched_off"
    );
    // Signed out, the switches are not there to read or set.
    let r = t.call("notification_switches", &[], None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn one_notice_a_day_per_device_even_from_parallel_sign_ins() {
    let t = app().await;
    t.sign_up_verified("cy@example.com", PASSWORD).await;
    sign_in(&t, "cy@example.com", LINUX, None, None).await;
    // A browser that keeps no cookie, signing in five times at once (the account's
    // attempt limit lets five through).
    let replies = t
        .call_parallel(
            5,
            "sign_in",
            &[("email", "cy@example.com"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(count_status(&replies, StatusCode::OK), 5);
    sign_in(&t, "cy@example.com", LINUX_OTHER, None, None).await;
    let mails = notices_to(&t, "cy@example.com").await;
    // The five parallel sign-ins (one device: the same browser and address) made one
    // notice; the other browser its own.
    assert_eq!(
        mails.len(),
        2,
        "{:?}",
        mails.iter().map(|m| &m.text_body).collect::<Vec<_>>()
    );
    let held = log_details(&t)
        .await
        .iter()
        .filter(|d| d["held_back"] == "daily_limit")
        .count();
    assert_eq!(held, 4);
}

const LINUX_OTHER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0";

#[tokio::test]
async fn this_wasn_t_me_signs_that_session_out_once_and_leads_to_a_new_password() {
    let t = app().await;
    t.sign_up_verified("di@example.com", PASSWORD).await;
    let mine = sign_in(&t, "di@example.com", LINUX, None, None).await;
    let my_session = mine.session_cookie();
    let theirs = sign_in(&t, "di@example.com", MAC_FIREFOX, None, None).await;
    let their_session = theirs.session_cookie();
    let mail = notices_to(&t, "di@example.com")
        .await
        .pop()
        .expect("a notice");
    let token = not_me_token(&mail);

    let info = t.call("not_me_info", &[("token", &token)], None).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    assert_eq!(info.json()["browser"], "Firefox on Mac OSX");
    assert_eq!(info.json()["used"], false);

    // Ten presses at once: one signs the session out and gets a reset link.
    let replies = t
        .call_parallel(10, "not_me", &[("token", &token)], None)
        .await;
    assert_eq!(count_status(&replies, StatusCode::OK), 1);
    assert_eq!(count_status(&replies, StatusCode::BAD_REQUEST), 9);
    let reset = replies
        .iter()
        .find(|r| r.status == StatusCode::OK)
        .unwrap()
        .json()
        .as_str()
        .unwrap()
        .to_string();
    // That session is gone; mine is not.
    assert_eq!(
        t.call("sessions", &[], Some(&their_session)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.call("sessions", &[], Some(&my_session)).await.status,
        StatusCode::OK
    );
    let again = t.call("not_me", &[("token", &token)], None).await;
    assert!(again.body.contains("already been used"), "{}", again.body);
    assert_eq!(
        t.call("not_me_info", &[("token", &token)], None)
            .await
            .json()["used"],
        true
    );
    let kinds = t.event_kinds().await;
    assert!(kinds.contains(&"session_revoked".to_string()));

    // "Sign out all other sessions" with the reset link it gave, then the new password.
    let r = t
        .call(
            "not_me_sign_out_all",
            &[("reset", &reset)],
            Some(&my_session),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        t.call("sessions", &[], Some(&my_session)).await.status,
        StatusCode::OK
    );
    let new = "Fresh-Harbor-Lantern-77";
    let r = t
        .call(
            "reset_password",
            &[
                ("token", &reset),
                ("new_password", new),
                ("new_password_repeat", new),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A forged or cut link is refused with a message, not a 500.
    let r = t.call("not_me", &[("token", "abc")], None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_sign_in_after_a_reset_from_the_same_browser_is_no_news() {
    let t = app().await;
    t.sign_up_verified("ed@example.com", PASSWORD).await;
    sign_in(&t, "ed@example.com", LINUX, None, None).await;
    // A new browser asks for a reset link and sets a new password with it.
    let r = t
        .call_with(
            "request_password_reset",
            &[("email", "ed@example.com")],
            None,
            &[("user-agent", MAC_FIREFOX)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mail = t
        .mail_with_subject("ed@example.com", "Reset your password")
        .await;
    let token = crate::common::reset_token(&mail);
    let new = "Fresh-Harbor-Lantern-77";
    let r = t
        .call_with(
            "reset_password",
            &[
                ("token", &token),
                ("new_password", new),
                ("new_password_repeat", new),
            ],
            None,
            &[("user-agent", MAC_FIREFOX)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let device = device_cookie(&r).expect("the reset gives the browser a device cookie");
    let r = t
        .call_with(
            "sign_in",
            &[("email", "ed@example.com"), ("password", new)],
            Some(&device),
            &[("user-agent", MAC_FIREFOX)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(notices_to(&t, "ed@example.com").await.is_empty());
}

/// Two public addresses of different countries, read from the installed database.
fn two_countries() -> [(String, String); 2] {
    use maxminddb::{Reader, WithinOptions};
    #[derive(serde::Deserialize)]
    struct R<'a> {
        country_code: Option<&'a str>,
    }
    let path = latchkey::server::config::geoip::INSTALLED;
    let reader =
        Reader::open_readfile(path).expect("scripts/setup.sh installs the country database");
    let mut found: Vec<(String, String)> = Vec::new();
    for item in reader
        .within("1.0.0.0/8".parse().unwrap(), WithinOptions::default())
        .unwrap()
    {
        let item = item.unwrap();
        let Some(r) = item.decode::<R>().unwrap() else {
            continue;
        };
        let Some(cc) = r.country_code else { continue };
        if found.iter().any(|(_, c)| c == cc) {
            continue;
        }
        let net = item.network().unwrap();
        // An address inside the network (not its first).
        let ip = match net.ip() {
            std::net::IpAddr::V4(v4) => std::net::Ipv4Addr::from(u32::from(v4) + 1).to_string(),
            other => other.to_string(),
        };
        found.push((ip, cc.to_string()));
        if found.len() == 2 {
            break;
        }
    }
    [found[0].clone(), found[1].clone()]
}

#[tokio::test]
async fn places_come_from_the_installed_database_and_a_new_country_is_news() {
    let t = app_with(&[("LATCHKEY_SERVER_TRUSTED_PROXIES", "203.0.113.0/24")]).await;
    let [(home, home_cc), (away, away_cc)] = two_countries();
    let home_name = latchkey::server::domain::geo::country_name(&home_cc);
    let away_name = latchkey::server::domain::geo::country_name(&away_cc);
    t.sign_up_verified("fay@example.com", PASSWORD).await;
    let first = sign_in(&t, "fay@example.com", LINUX, None, Some(&home)).await;
    let laptop = device_cookie(&first).unwrap();
    // The Sessions list places the session.
    let r = t.call("sessions", &[], Some(&first.session_cookie())).await;
    assert_eq!(r.json()[0]["location"], home_name.as_str(), "{}", r.body);
    // The same browser family and OS from another device and another country.
    sign_in(&t, "fay@example.com", LINUX, None, Some(&away)).await;
    let mails = notices_to(&t, "fay@example.com").await;
    assert_eq!(mails.len(), 1);
    let text = &mails[0].text_body;
    assert!(
        text.contains("from a new device and a new location"),
        "{text}"
    );
    assert!(text.contains(&format!("Place: {away_name}")), "{text}");
    assert!(text.contains(&away), "{text}");
    // The known laptop from the other country: no notice (a device seen before).
    sign_in(&t, "fay@example.com", LINUX, Some(&laptop), Some(&away)).await;
    assert_eq!(notices_to(&t, "fay@example.com").await.len(), 1);
    // The log places the sign-ins too.
    let r = t
        .call("security_log", &[], Some(&first.session_cookie()))
        .await;
    assert!(r.body.contains(&away_name), "{}", r.body);
}

#[tokio::test]
async fn the_notice_gives_the_time_in_the_owner_s_zone_too() {
    let t = app().await;
    t.sign_up_verified("gil@example.com", PASSWORD).await;
    let first = sign_in(&t, "gil@example.com", LINUX, None, None).await;
    let session = first.session_cookie();
    // A settings page tells the browser's zone; an unknown one is refused.
    let r = t
        .call(
            "remember_time_zone",
            &[("zone", "Mars/Olympus")],
            Some(&session),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = t
        .call(
            "remember_time_zone",
            &[("zone", "Asia/Tokyo")],
            Some(&session),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        t.call("remember_time_zone", &[("zone", "Asia/Tokyo")], None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = t.call("current_account", &[], Some(&session)).await;
    assert_eq!(r.json()["time_zone"], "Asia/Tokyo");
    sign_in(&t, "gil@example.com", MAC_FIREFOX, None, None).await;
    let mail = notices_to(&t, "gil@example.com")
        .await
        .pop()
        .expect("a notice");
    assert!(mail.text_body.contains(" UTC ("), "{}", mail.text_body);
    assert!(
        mail.text_body.contains("in Asia/Tokyo)"),
        "{}",
        mail.text_body
    );
}
