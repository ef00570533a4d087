//! `[session]`: how long a session lives without a request and at most, and how long
//! a proof of identity counts (the recent-proof rule).
use super::source::Source;
use super::ConfigError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub idle_secs: i64,
    pub absolute_secs: i64,
    /// How long a proof of identity is remembered on the session.
    pub reauth_secs: i64,
}

impl Session {
    pub(super) fn parse(src: &Source) -> Result<Session, ConfigError> {
        let session_idle_secs = src.int("session.idle_timeout_minutes", 1, 60 * 24 * 30)? * 60;
        let session_absolute_secs = src.int("session.absolute_timeout_hours", 1, 24 * 365)? * 3600;
        let session_reauth_secs = src.int("session.reauth_seconds", 5, 24 * 3600)?;
        if session_absolute_secs < session_idle_secs {
            return Err(src.error(
                "session.absolute_timeout_hours",
                "must not be shorter than session.idle_timeout_minutes",
            ));
        }

        Ok(Session {
            idle_secs: session_idle_secs,
            absolute_secs: session_absolute_secs,
            reauth_secs: session_reauth_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn the_absolute_limit_is_not_shorter_than_the_idle_one() {
        let e = parse(&[
            ("LATCHKEY_SESSION_IDLE_TIMEOUT_MINUTES", "600"),
            ("LATCHKEY_SESSION_ABSOLUTE_TIMEOUT_HOURS", "2"),
        ])
        .unwrap_err();
        assert!(e.0.contains("session.absolute_timeout_hours"), "{e}");
        let e = parse(&[("LATCHKEY_SESSION_REAUTH_SECONDS", "1")]).unwrap_err();
        assert!(e.0.contains("session.reauth_seconds"), "{e}");
        let c = parse(&[("LATCHKEY_SESSION_REAUTH_SECONDS", "5")]).unwrap();
        assert_eq!(c.session.reauth_secs, 5);
    }
}
