//! The session cookie: HttpOnly, SameSite=Lax, Path=/; Secure and the __Host- prefix
//! whenever the public base URL is https.
use crate::server::config::Config;

pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-latchkey_session"
    } else {
        "latchkey_session"
    }
}

fn attributes(config: &Config) -> &'static str {
    if config.is_https() {
        "Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Lax"
    }
}

pub fn set_session(config: &Config, token: &str) -> String {
    format!(
        "{}={token}; {}",
        session_cookie_name(config),
        attributes(config)
    )
}

pub fn clear_session(config: &Config) -> String {
    format!(
        "{}=; Max-Age=0; {}",
        session_cookie_name(config),
        attributes(config)
    )
}

/// The half-done sign-in waiting for a second factor (ten minutes at most).
pub fn pending_cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-latchkey_pending"
    } else {
        "latchkey_pending"
    }
}

pub fn set_pending(config: &Config, token: &str) -> String {
    format!(
        "{}={token}; Max-Age=600; {}",
        pending_cookie_name(config),
        attributes(config)
    )
}

pub fn clear_pending(config: &Config) -> String {
    format!(
        "{}=; Max-Age=0; {}",
        pending_cookie_name(config),
        attributes(config)
    )
}

/// A passkey sign-in under way: the random id of its ceremony (five minutes), so that
/// only this browser can finish it.
pub fn passkey_cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-latchkey_passkey"
    } else {
        "latchkey_passkey"
    }
}

pub fn set_passkey_ceremony(config: &Config, id: &str) -> String {
    format!(
        "{}={id}; Max-Age=300; {}",
        passkey_cookie_name(config),
        attributes(config)
    )
}

pub fn clear_passkey_ceremony(config: &Config) -> String {
    format!(
        "{}=; Max-Age=0; {}",
        passkey_cookie_name(config),
        attributes(config)
    )
}

pub fn passkey_ceremony(config: &Config, headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(passkey_cookie_name(config), headers)
}

/// The device cookie: a signed random id that tells a browser this account has seen
/// from one it has not (new sign-in notices). Long-lived (400 days, the most browsers
/// keep), HttpOnly, never a fingerprint.
pub fn device_cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-latchkey_device"
    } else {
        "latchkey_device"
    }
}

pub fn set_device(config: &Config, value: &str) -> String {
    format!(
        "{}={value}; Max-Age=34560000; {}",
        device_cookie_name(config),
        attributes(config)
    )
}

pub fn device_cookie_value(config: &Config, headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(device_cookie_name(config), headers)
}

/// The session token from a request's Cookie headers.
pub fn session_token(config: &Config, headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(session_cookie_name(config), headers)
}

pub fn pending_token(config: &Config, headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(pending_cookie_name(config), headers)
}

fn cookie_value(name: &str, headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| cookie::Cookie::parse(pair.trim().to_string()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(base: &str) -> Config {
        let env = HashMap::from([
            (
                "LATCHKEY_SERVER_PUBLIC_BASE_URL".to_string(),
                base.to_string(),
            ),
            ("LATCHKEY_SERVER_MODE".to_string(), "production".to_string()),
            ("LATCHKEY_SERVER_SECRET".to_string(), "ef".repeat(32)),
            ("LATCHKEY_MAIL_TRANSPORT".to_string(), "smtp".to_string()),
        ]);
        Config::parse(include_str!("../../../Leptos.toml"), "Leptos.toml", &env).unwrap()
    }

    #[test]
    fn https_gets_secure_and_host_prefix() {
        let c = config("https://account.example.com");
        let v = set_session(&c, "tok");
        assert!(v.starts_with("__Host-latchkey_session=tok;"));
        for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(v.contains(attr), "{v} lacks {attr}");
        }
        assert!(!v.contains("Domain"));
    }

    #[test]
    fn plain_http_has_no_secure_flag() {
        let c = config("http://127.0.0.1:3000");
        let v = set_session(&c, "tok");
        assert!(v.starts_with("latchkey_session=tok;"));
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Lax") && !v.contains("Secure"));
        assert!(clear_session(&c).contains("Max-Age=0"));
    }

    #[test]
    fn reads_the_token_among_other_cookies() {
        let c = config("http://127.0.0.1:3000");
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; latchkey_session=abc; b=2".parse().unwrap());
        assert_eq!(session_token(&c, &h).as_deref(), Some("abc"));
    }
}
