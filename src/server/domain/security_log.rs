//! The security log in words: which events make up each category of the Security log
//! page, and how each event reads ("Wrong password", "Authenticator app turned on").
//! The log stores a kind and a small JSON detail; the words are made when it is read,
//! so the page and both exports say the same.
use crate::model::security_log::{Category, Outcome};
use serde_json::Value;

/// Declares every kind of event the log holds: its name in the database and its
/// category, in one table (the words are in `known`, one arm per kind).
macro_rules! event_kinds {
    ($($variant:ident = $name:literal in $category:ident,)*) => {
        /// A kind of security event.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $($variant,)*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            /// The name stored in the log.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)*
                }
            }

            /// The Security log page's category that shows it.
            pub fn category(self) -> Category {
                match self {
                    $(EventKind::$variant => Category::$category,)*
                }
            }
        }
    };
}

event_kinds! {
    SignInSucceeded = "sign_in_succeeded" in SignIn,
    SignInFailed = "sign_in_failed" in SignIn,
    SignInPasswordAccepted = "sign_in_password_accepted" in SignIn,
    SecondFactorLimitReached = "second_factor_limit_reached" in SignIn,
    SignOut = "sign_out" in SignIn,
    NewSignInNotice = "new_sign_in_notice" in SignIn,
    AllowlistRefused = "allowlist_refused" in SignIn,
    PasswordChanged = "password_changed" in Password,
    PasswordChangeFailed = "password_change_failed" in Password,
    PasswordResetRequested = "password_reset_requested" in Password,
    PasswordReset = "password_reset" in Password,
    MfaEnabled = "mfa_enabled" in Mfa,
    MfaDisabled = "mfa_disabled" in Mfa,
    MfaCodeSent = "mfa_code_sent" in Mfa,
    MfaCodeFailed = "mfa_code_failed" in Mfa,
    MfaCodeSendRefused = "mfa_code_send_refused" in Mfa,
    MfaIdentityFailed = "mfa_identity_failed" in Mfa,
    SmsSendFailed = "sms_send_failed" in Mfa,
    TotpCodeFailed = "totp_code_failed" in Mfa,
    TotpCodeReplayed = "totp_code_replayed" in Mfa,
    RecoveryCodesViewed = "recovery_codes_viewed" in Mfa,
    RecoveryCodesRegenerated = "recovery_codes_regenerated" in Mfa,
    RecoveryCodesRetired = "recovery_codes_retired" in Mfa,
    PasskeyRenamed = "passkey_renamed" in Mfa,
    PasskeyRefused = "passkey_refused" in Mfa,
    SessionRevoked = "session_revoked" in Sessions,
    OtherSessionsRevoked = "other_sessions_revoked" in Sessions,
    AccessTokenCreated = "access_token_created" in Tokens,
    AccessTokenRegenerated = "access_token_regenerated" in Tokens,
    AccessTokenRevoked = "access_token_revoked" in Tokens,
    AccessTokenNewAddress = "access_token_new_address" in Tokens,
    AccessTokenRefused = "access_token_refused" in Tokens,
    SignUp = "sign_up" in Settings,
    SignUpExistingEmail = "sign_up_existing_email" in Settings,
    VerificationEmailSent = "verification_email_sent" in Settings,
    EmailVerified = "email_verified" in Settings,
    NotificationSettingsChanged = "notification_settings_changed" in Settings,
    AllowlistChanged = "allowlist_changed" in Settings,
    AllowlistTurnedOff = "allowlist_turned_off" in Settings,
    DisplayNameChanged = "display_name_changed" in Settings,
    EmailChangeRequested = "email_change_requested" in Settings,
    EmailChangeCancelled = "email_change_cancelled" in Settings,
    EmailChanged = "email_changed" in Settings,
    EmailChangeUndone = "email_change_undone" in Settings,
}

impl EventKind {
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

/// The names of the kinds a category shows (what the store filters on).
pub fn kinds(category: Category) -> &'static [&'static str] {
    static BY_CATEGORY: std::sync::OnceLock<Vec<(Category, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    let all = BY_CATEGORY.get_or_init(|| {
        Category::ALL
            .into_iter()
            .map(|c| {
                let names = EventKind::ALL
                    .iter()
                    .filter(|k| k.category() == c)
                    .map(|k| k.as_str())
                    .collect();
                (c, names)
            })
            .collect()
    });
    all.iter()
        .find(|(c, _)| *c == category)
        .map_or(&[], |(_, names)| names.as_slice())
}

/// The category an event kind belongs to.
pub fn category_of(kind: &str) -> Option<Category> {
    EventKind::parse(kind).map(EventKind::category)
}

fn method_name(method: &str) -> &'static str {
    match method {
        "totp" => "Authenticator app",
        "email" => "Email codes",
        "sms" => "SMS codes",
        "passkey" => "Passkey",
        _ => "Two-factor authentication",
    }
}

fn channel_name(channel: &str) -> &'static str {
    match channel {
        "sms" => "SMS",
        _ => "email",
    }
}

/// "API token created: CI deploy" (the name, when the entry has one).
fn named(what: &str, name: &str) -> String {
    if name.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {name}")
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

fn known(name: &str, detail: &Value) -> Option<(String, Outcome)> {
    use EventKind as K;
    use Outcome::{Refused, Success};
    let kind = EventKind::parse(name)?;
    let field = |name: &str| detail.get(name).and_then(Value::as_str).unwrap_or("");
    let (words, outcome): (String, Outcome) = match kind {
        K::SignInSucceeded => match field("second_factor") {
            "recovery_code" => ("Signed in (recovery code used)".into(), Success),
            "totp" => ("Signed in with the authenticator app".into(), Success),
            "email" => ("Signed in with an email code".into(), Success),
            "sms" => ("Signed in with an SMS code".into(), Success),
            "passkey" => ("Signed in with a passkey".into(), Success),
            _ => ("Signed in".into(), Success),
        },
        K::SignInFailed => match field("reason") {
            "throttled" => ("Sign-in refused: too many attempts".into(), Refused),
            "second_factor" => ("Wrong two-factor code at sign-in".into(), Refused),
            "credentials_changed" => (
                "Sign-in stopped: the password changed meanwhile".into(),
                Refused,
            ),
            _ => ("Wrong password".into(), Refused),
        },
        K::SignInPasswordAccepted => ("Password accepted; code asked".into(), Success),
        K::SecondFactorLimitReached => {
            ("Sign-in stopped after too many wrong codes".into(), Refused)
        }
        K::SignOut => ("Signed out".into(), Success),
        K::NewSignInNotice => {
            let new: Vec<&str> = detail
                .get("new")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let new = new
                .iter()
                .map(|n| format!("new {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let why = match field("held_back") {
                "" => None,
                "first_sign_in" => Some("the account's first sign-in"),
                "switched_off" => Some("switched off in Settings > Notifications"),
                "daily_limit" => Some("one a day per device"),
                "mail_limit" => Some("too many emails this hour"),
                _ => Some("held back"),
            };
            match why {
                None => (format!("New sign-in notice sent: {new}"), Success),
                Some(why) => (
                    format!("New sign-in notice held back ({why}): {new}"),
                    Success,
                ),
            }
        }
        K::PasswordChanged => ("Password changed".into(), Success),
        K::PasswordChangeFailed | K::MfaIdentityFailed => match field("reason") {
            "throttled" => ("Identity check refused: too many attempts".into(), Refused),
            _ if kind == K::PasswordChangeFailed => (
                "Password change refused: wrong current password".into(),
                Refused,
            ),
            _ => ("Identity check failed: wrong password".into(), Refused),
        },
        K::PasswordResetRequested => ("Password reset requested".into(), Success),
        K::PasswordReset => ("Password reset by email link".into(), Success),
        K::MfaEnabled if field("method") == "passkey" => ("Passkey added".into(), Success),
        K::MfaDisabled if field("method") == "passkey" => ("Passkey removed".into(), Success),
        K::MfaEnabled => (
            format!("{} turned on", method_name(field("method"))),
            Success,
        ),
        K::MfaDisabled => (
            format!("{} turned off", method_name(field("method"))),
            Success,
        ),
        K::MfaCodeSent => (
            format!("Code sent by {}", channel_name(field("channel"))),
            Success,
        ),
        K::MfaCodeFailed => {
            let channel = channel_name(field("channel"));
            match field("reason") {
                "expired" => (format!("Expired {channel} code"), Refused),
                "too_many_tries" => (format!("Too many wrong {channel} codes"), Refused),
                _ => (format!("Wrong {channel} code"), Refused),
            }
        }
        K::MfaCodeSendRefused => match field("reason") {
            "sms_budget" => (
                "Code not sent by SMS: the server's text message limit was reached".into(),
                Refused,
            ),
            _ => (
                format!(
                    "Code not sent by {}: asked too often",
                    channel_name(field("channel"))
                ),
                Refused,
            ),
        },
        K::SmsSendFailed => ("SMS could not be delivered".into(), Refused),
        K::TotpCodeFailed => ("Wrong authenticator code".into(), Refused),
        K::TotpCodeReplayed => ("Authenticator code used twice".into(), Refused),
        K::PasskeyRenamed => ("Passkey renamed".into(), Success),
        K::PasskeyRefused => match field("reason") {
            "counter_went_back" => (
                "Passkey refused: its counter went back (a copy?)".into(),
                Refused,
            ),
            "unknown_passkey" => ("Passkey refused: not registered".into(), Refused),
            "no_ceremony" => ("Passkey refused: the request had expired".into(), Refused),
            _ => ("Passkey refused".into(), Refused),
        },
        K::RecoveryCodesViewed => ("Recovery codes viewed".into(), Success),
        K::RecoveryCodesRegenerated => ("Recovery codes regenerated".into(), Success),
        K::RecoveryCodesRetired => (
            "Old recovery codes retired: regenerate them".into(),
            Refused,
        ),
        K::SessionRevoked => match field("reason") {
            "not_me" => (
                "Session signed out from a new sign-in notice (\"This wasn't me\")".into(),
                Success,
            ),
            _ => ("Session revoked".into(), Success),
        },
        K::OtherSessionsRevoked => ("All other sessions signed out".into(), Success),
        K::AccessTokenCreated => (named("API token created", field("name")), Success),
        K::AccessTokenRegenerated => (named("API token regenerated", field("name")), Success),
        K::AccessTokenRevoked => (named("API token revoked", field("name")), Success),
        K::AccessTokenNewAddress => ("API token used from a new address".into(), Success),
        K::AccessTokenRefused => match field("reason") {
            "revoked" => ("Revoked API token refused".into(), Refused),
            _ => ("Expired API token refused".into(), Refused),
        },
        K::SignUp => ("Account created".into(), Success),
        K::SignUpExistingEmail => ("Sign-up tried with your email address".into(), Refused),
        K::VerificationEmailSent => ("Verification email sent".into(), Success),
        K::EmailVerified => ("Email address verified".into(), Success),
        K::DisplayNameChanged => ("Display name changed".into(), Success),
        K::EmailChangeRequested => (
            format!(
                "Email change to {} asked for: link sent",
                field("new_email")
            ),
            Success,
        ),
        K::EmailChangeCancelled => ("Email change cancelled".into(), Success),
        K::EmailChanged => (
            format!("Email address changed to {}", field("new_email")),
            Success,
        ),
        K::EmailChangeUndone => (
            format!(
                "Email change undone: back to {}, every session signed out",
                field("old_email")
            ),
            Success,
        ),
        K::AllowlistRefused => match field("at") {
            "session" => (
                "Session signed out: address not in the IP allowlist".into(),
                Refused,
            ),
            "token" => (
                "API token refused: address not in the IP allowlist".into(),
                Refused,
            ),
            _ => (
                "Sign-in refused: address not in the IP allowlist".into(),
                Refused,
            ),
        },
        K::AllowlistChanged => {
            let on = detail
                .get("enabled")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let n = detail.get("entries").and_then(Value::as_i64).unwrap_or(0);
            let entries = if n == 1 {
                "1 entry".to_string()
            } else {
                format!("{n} entries")
            };
            (
                format!(
                    "IP allowlist saved ({}, {entries})",
                    if on { "on" } else { "off" }
                ),
                Success,
            )
        }
        K::AllowlistTurnedOff => (
            "IP allowlist turned off by a password reset".into(),
            Success,
        ),
        K::NotificationSettingsChanged => {
            let on = |k: &str| detail.get(k).and_then(Value::as_bool).unwrap_or(true);
            let list: Vec<&str> = [
                ("new_device", "new device"),
                ("new_location", "new location"),
                ("new_browser", "new browser"),
            ]
            .into_iter()
            .filter(|(k, _)| on(k))
            .map(|(_, w)| w)
            .collect();
            let words = if list.is_empty() {
                "Sign-in notices turned off".to_string()
            } else {
                format!("Sign-in notices set: {}", list.join(", "))
            };
            (words, Success)
        }
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
        assert_eq!(
            seen.len(),
            EventKind::ALL.len(),
            "every kind has a category"
        );
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
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
    fn sign_in_notices_say_what_was_new_and_why_one_was_held_back() {
        let words = |v: Value| describe("new_sign_in_notice", &v).0;
        assert_eq!(
            words(json!({"new": ["device", "location"]})),
            "New sign-in notice sent: new device, new location"
        );
        assert_eq!(
            words(json!({"new": ["device"], "held_back": "switched_off"})),
            "New sign-in notice held back (switched off in Settings > Notifications): new device"
        );
        assert_eq!(
            words(json!({"new": ["device"], "held_back": "first_sign_in"})),
            "New sign-in notice held back (the account's first sign-in): new device"
        );
        assert_eq!(
            describe(
                "notification_settings_changed",
                &json!({"new_device": false, "new_location": true, "new_browser": false})
            )
            .0,
            "Sign-in notices set: new location"
        );
        assert_eq!(
            describe("session_revoked", &json!({"reason": "not_me"})).0,
            "Session signed out from a new sign-in notice (\"This wasn't me\")"
        );
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
        assert_eq!(
            d("sign_in_failed", json!({"reason": "credentials_changed"})).0,
            "Sign-in stopped: the password changed meanwhile"
        );
        assert_eq!(
            d(
                "mfa_code_send_refused",
                json!({"channel": "sms", "reason": "sms_budget"})
            )
            .0,
            "Code not sent by SMS: the server's text message limit was reached"
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
