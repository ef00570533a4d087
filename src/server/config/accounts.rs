//! `[accounts]`: sign-ups per address, and how long emailed links last.
use super::source::Source;
use super::ConfigError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accounts {
    /// Sign-ups allowed from one address an hour before a wait.
    pub sign_ups_per_address: u32,
    pub verification_link_secs: i64,
    pub reset_link_secs: i64,
}

impl Accounts {
    pub(super) fn parse(src: &Source) -> Result<Accounts, ConfigError> {
        let sign_ups_per_address = src.int("accounts.sign_ups_per_address", 1, 100_000)? as u32;
        let verification_link_secs =
            src.int("accounts.verification_link_hours", 1, 24 * 14)? * 3600;
        let reset_link_secs = src.int("accounts.reset_link_seconds", 5, 24 * 3600)?;
        Ok(Accounts {
            sign_ups_per_address,
            verification_link_secs,
            reset_link_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn links_last_within_bounds() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.accounts.reset_link_secs, 3600);
        assert_eq!(c.accounts.sign_ups_per_address, 10);
        let e = parse(&[("LATCHKEY_ACCOUNTS_RESET_LINK_SECONDS", "2")]).unwrap_err();
        assert!(e.0.contains("accounts.reset_link_seconds"), "{e}");
    }
}
