//! `[mfa]`: the issuer authenticator apps show, and the rules of codes sent by email
//! and SMS.
use super::source::Source;
use super::ConfigError;
use crate::server::domain::sent_code::CodeRules;

#[derive(Clone, Debug)]
pub struct Mfa {
    /// The issuer shown in authenticator apps.
    pub totp_issuer: String,
    /// Codes sent by email or SMS: lifetime, resend interval, wrong tries.
    pub code_rules: CodeRules,
}

impl Mfa {
    pub(super) fn parse(src: &Source) -> Result<Mfa, ConfigError> {
        let code_rules = CodeRules {
            // The security standard: sent codes expire within 10 minutes, and one
            // survives at most 5 wrong tries.
            ttl_secs: src.int("mfa.code_ttl_seconds", 60, 600)?,
            resend_secs: src.int("mfa.code_resend_seconds", 1, 600)?,
            max_failures: src.int("mfa.code_max_tries", 1, 5)?,
        };
        if code_rules.resend_secs > code_rules.ttl_secs {
            // Otherwise a code could expire while no new one may be sent yet.
            return Err(src.error(
                "mfa.code_resend_seconds",
                "must not be longer than mfa.code_ttl_seconds",
            ));
        }
        let totp_issuer = src.string("mfa.totp_issuer")?;
        if totp_issuer.trim().is_empty() || totp_issuer.contains(':') || totp_issuer.len() > 64 {
            return Err(src.error("mfa.totp_issuer", "must be a short name without a colon"));
        }

        Ok(Mfa {
            totp_issuer,
            code_rules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn sent_codes_never_live_longer_than_ten_minutes() {
        assert!(parse(&[("LATCHKEY_MFA_CODE_TTL_SECONDS", "601")]).is_err());
        assert!(parse(&[("LATCHKEY_MFA_CODE_TTL_SECONDS", "0")]).is_err());
        assert!(parse(&[("LATCHKEY_MFA_CODE_MAX_TRIES", "6")]).is_err());
        assert!(parse(&[
            ("LATCHKEY_MFA_CODE_TTL_SECONDS", "120"),
            ("LATCHKEY_MFA_CODE_RESEND_SECONDS", "121"),
        ])
        .is_err());
        let c = parse(&[
            ("LATCHKEY_MFA_CODE_TTL_SECONDS", "300"),
            ("LATCHKEY_MFA_CODE_RESEND_SECONDS", "30"),
        ])
        .unwrap();
        assert_eq!(
            (c.mfa.code_rules.ttl_secs, c.mfa.code_rules.resend_secs),
            (300, 30)
        );
    }
}
