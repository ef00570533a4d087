//! `[password]`: the policy a new password must meet, the rotation reminder, and the
//! breached-password check.
use super::source::Source;
use super::ConfigError;
use crate::model::password::PasswordPolicy;
use url::Url;

#[derive(Clone, Debug)]
pub struct Password {
    pub policy: PasswordPolicy,
    pub rotation_reminder_days: i64,
    /// Where the Have I Been Pwned range API answers; `None`: the check is off.
    pub pwned_api: Option<Url>,
}

impl Password {
    pub(super) fn parse(src: &Source) -> Result<Password, ConfigError> {
        let pwned_api = if src.bool("password.pwned_check")? {
            Some(
                Url::parse(&src.string("password.pwned_api")?)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        src.error("password.pwned_api", "must be an http or https URL")
                    })?,
            )
        } else {
            None
        };
        let min_length = src.int("password.min_length", 8, 128)? as usize;
        let max_length = src.int("password.max_length", 64, 128)? as usize;
        if max_length < min_length {
            return Err(src.error(
                "password.max_length",
                "must not be below password.min_length",
            ));
        }
        let password = PasswordPolicy {
            min_length,
            max_length,
            require_uppercase: src.bool("password.require_uppercase")?,
            require_lowercase: src.bool("password.require_lowercase")?,
            require_digit: src.bool("password.require_digit")?,
            require_special: src.bool("password.require_special")?,
            min_strength: src.int("password.min_strength", 0, 4)? as u8,
        };

        let rotation_reminder_days = src.int("password.rotation_reminder_days", 0, 3650)?;
        Ok(Password {
            policy: password,
            rotation_reminder_days,
            pwned_api,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn lengths_are_bounded_and_ordered() {
        let e = parse(&[("LATCHKEY_PASSWORD_MIN_LENGTH", "4")]).unwrap_err();
        assert!(e.0.contains("password.min_length"), "{e}");
        let e = parse(&[
            ("LATCHKEY_PASSWORD_MIN_LENGTH", "100"),
            ("LATCHKEY_PASSWORD_MAX_LENGTH", "64"),
        ])
        .unwrap_err();
        assert!(e.0.contains("password.max_length"), "{e}");
    }
}
