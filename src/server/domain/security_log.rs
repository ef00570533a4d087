//! The security log in words: which events make up each category of the Security log
//! page, and how each event reads ("Wrong password", "Authenticator app turned on").
//! The log stores a kind and a small JSON detail; the words are made when it is read,
//! so the page and both exports say the same.
use crate::model::security_log::{Category, Outcome};
use serde_json::Value;

/// Every kind of event the log holds, by category.
const SIGN_IN: &[&str] = &[
    "sign_in_succeeded",
    "sign_in_failed",
    "sign_in_password_accepted",
    "second_factor_limit_reached",
    "sign_out",
];
const PASSWORD: &[&str] = &[
    "password_changed",
    "password_change_failed",
    "password_reset_requested",
    "password_reset",
];
const MFA: &[&str] = &[
    "mfa_enabled",
    "mfa_disabled",
    "mfa_code_sent",
    "mfa_code_failed",
    "mfa_code_send_refused",
    "mfa_identity_failed",
    "sms_send_failed",
    "totp_code_failed",
    "totp_code_replayed",
    "recovery_codes_viewed",
    "recovery_codes_regenerated",
];
const SESSIONS: &[&str] = &["session_revoked", "other_sessions_revoked"];
const TOKENS: &[&str] = &[];
const SETTINGS: &[&str] = &[
    "sign_up",
    "sign_up_existing_email",
    "verification_email_sent",
    "email_verified",
];

/// The kinds of event a category shows.
pub fn kinds(category: Category) -> &'static [&'static str] {
    match category {
        Category::SignIn => SIGN_IN,
        Category::Password => PASSWORD,
        Category::Mfa => MFA,
        Category::Sessions => SESSIONS,
        Category::Tokens => TOKENS,
        Category::Settings => SETTINGS,
    }
}

/// The category an event kind belongs to.
pub fn category_of(kind: &str) -> Option<Category> {
    Category::ALL
        .into_iter()
        .find(|c| kinds(*c).contains(&kind))
}

fn method_name(method: &str) -> &'static str {
    match method {
        "totp" => "Authenticator app",
        "email" => "Email codes",
        "sms" => "SMS codes",
        _ => "Two-factor authentication",
    }
}

fn channel_name(channel: &str) -> &'static str {
    match channel {
        "sms" => "SMS",
        _ => "email",
    }
}

/// An event in words, and whether what was tried went through.
pub fn describe(kind: &str, detail: &Value) -> (String, Outcome) {
    known(kind, detail).unwrap_or_else(|| {
        // A kind this version does not know (written by a newer one): its name.
        let words = kind.replace('_', " ");
        let mut chars = words.chars();
        let words = match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => words,
        };
        (words, Outcome::Success)
    })
}

fn known(kind: &str, detail: &Value) -> Option<(String, Outcome)> {
    use Outcome::{Refused, Success};
    let field = |name: &str| detail.get(name).and_then(Value::as_str).unwrap_or("");
    let (words, outcome): (String, Outcome) = match kind {
        "sign_in_succeeded" => match field("second_factor") {
            "recovery_code" => ("Signed in (recovery code used)".into(), Success),
            "totp" => ("Signed in with the authenticator app".into(), Success),
            "email" => ("Signed in with an email code".into(), Success),
            "sms" => ("Signed in with an SMS code".into(), Success),
            _ => ("Signed in".into(), Success),
        },
        "sign_in_failed" => match field("reason") {
            "throttled" => ("Sign-in refused: too many attempts".into(), Refused),
            "second_factor" => ("Wrong two-factor code at sign-in".into(), Refused),
            _ => ("Wrong password".into(), Refused),
        },
        "sign_in_password_accepted" => ("Password accepted; code asked".into(), Success),
        "second_factor_limit_reached" => {
            ("Sign-in stopped after too many wrong codes".into(), Refused)
        }
        "sign_out" => ("Signed out".into(), Success),
        "password_changed" => ("Password changed".into(), Success),
        "password_change_failed" | "mfa_identity_failed" => match field("reason") {
            "throttled" => ("Identity check refused: too many attempts".into(), Refused),
            _ if kind == "password_change_failed" => (
                "Password change refused: wrong current password".into(),
                Refused,
            ),
            _ => ("Identity check failed: wrong password".into(), Refused),
        },
        "password_reset_requested" => ("Password reset requested".into(), Success),
        "password_reset" => ("Password reset by email link".into(), Success),
        "mfa_enabled" => (
            format!("{} turned on", method_name(field("method"))),
            Success,
        ),
        "mfa_disabled" => (
            format!("{} turned off", method_name(field("method"))),
            Success,
        ),
        "mfa_code_sent" => (
            format!("Code sent by {}", channel_name(field("channel"))),
            Success,
        ),
        "mfa_code_failed" => {
            let channel = channel_name(field("channel"));
            match field("reason") {
                "expired" => (format!("Expired {channel} code"), Refused),
                "too_many_tries" => (format!("Too many wrong {channel} codes"), Refused),
                _ => (format!("Wrong {channel} code"), Refused),
            }
        }
        "mfa_code_send_refused" => (
            format!(
                "Code not sent by {}: asked too often",
                channel_name(field("channel"))
            ),
            Refused,
        ),
        "sms_send_failed" => ("SMS could not be delivered".into(), Refused),
        "totp_code_failed" => ("Wrong authenticator code".into(), Refused),
        "totp_code_replayed" => ("Authenticator code used twice".into(), Refused),
        "recovery_codes_viewed" => ("Recovery codes viewed".into(), Success),
        "recovery_codes_regenerated" => ("Recovery codes regenerated".into(), Success),
        "session_revoked" => ("Session revoked".into(), Success),
        "other_sessions_revoked" => ("All other sessions signed out".into(), Success),
        "sign_up" => ("Account created".into(), Success),
        "sign_up_existing_email" => ("Sign-up tried with your email address".into(), Refused),
        "verification_email_sent" => ("Verification email sent".into(), Success),
        "email_verified" => ("Email address verified".into(), Success),
        _ => return None,
    };
    Some((words, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_is_in_exactly_one_category() {
        let mut seen = std::collections::HashSet::new();
        for c in Category::ALL {
            for k in kinds(c) {
                assert!(seen.insert(*k), "{k} is in two categories");
                assert_eq!(category_of(k), Some(c));
            }
        }
        assert_eq!(category_of("no_such_kind"), None);
    }

    #[test]
    fn every_kind_of_every_category_has_words_of_its_own() {
        // Each kind of every category has words of its own, not its raw name.
        for c in Category::ALL {
            for k in kinds(c) {
                assert!(known(k, &json!({})).is_some(), "{k} has no words");
            }
        }
    }

    #[test]
    fn details_choose_the_words() {
        let d = |k: &str, v: Value| describe(k, &v);
        assert_eq!(
            d("sign_in_succeeded", json!({})),
            ("Signed in".into(), Outcome::Success)
        );
        assert_eq!(
            d(
                "sign_in_succeeded",
                json!({"second_factor": "recovery_code"})
            )
            .0,
            "Signed in (recovery code used)"
        );
        assert_eq!(
            d("sign_in_failed", json!({"reason": "wrong_password"})),
            ("Wrong password".into(), Outcome::Refused)
        );
        assert_eq!(
            d("sign_in_failed", json!({"reason": "throttled"})).0,
            "Sign-in refused: too many attempts"
        );
        assert_eq!(
            d("mfa_enabled", json!({"method": "totp"})).0,
            "Authenticator app turned on"
        );
        assert_eq!(
            d("mfa_disabled", json!({"method": "sms"})).0,
            "SMS codes turned off"
        );
        assert_eq!(
            d("mfa_enabled", json!({"method": "email"})).0,
            "Email codes turned on"
        );
        assert_eq!(
            d(
                "mfa_code_failed",
                json!({"channel": "sms", "reason": "expired"})
            ),
            ("Expired SMS code".into(), Outcome::Refused)
        );
        assert_eq!(
            d("mfa_code_sent", json!({"channel": "email"})).0,
            "Code sent by email"
        );
        assert_eq!(
            d(
                "password_change_failed",
                json!({"reason": "wrong_password"})
            )
            .0,
            "Password change refused: wrong current password"
        );
        assert_eq!(d("future_thing_done", json!({})).0, "Future thing done");
        // A detail of the wrong shape is not an error.
        assert_eq!(
            d("mfa_enabled", json!({"method": 7})).0,
            "Two-factor authentication turned on"
        );
        assert_eq!(
            d("mfa_enabled", Value::Null).0,
            "Two-factor authentication turned on"
        );
    }
}
