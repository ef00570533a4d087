//! Multi-factor authentication as the Security page sees it.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaStatus {
    /// When the authenticator app was enabled; `None` when it is not.
    pub totp_enabled_at: Option<i64>,
    pub recovery_codes_left: usize,
    /// Methods can be turned on only once the account's address is verified.
    pub email_verified: bool,
}

/// Step 2 of enabling: what the app needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    /// An SVG image of the `otpauth://` URI, rendered on the server.
    pub qr_svg: String,
    /// The same secret as text, base32 in groups of four.
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCode {
    pub code: String,
    pub used: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub account: String,
    /// When they were shown (Unix seconds), for the downloaded file.
    pub at: i64,
    pub codes: Vec<RecoveryCode>,
}

impl RecoveryCodes {
    pub fn left(&self) -> usize {
        self.codes.iter().filter(|c| !c.used).count()
    }

    /// The content of the downloaded .txt file.
    pub fn as_text(&self, date: &str) -> String {
        let mut text = format!(
            "Latchkey recovery codes\nAccount: {}\nGenerated: {date}\n\n\
             Each code signs you in once if you cannot use your authenticator app.\n\
             Keep them somewhere safe, such as a password manager.\n\n",
            self.account
        );
        for c in self.codes.iter().filter(|c| !c.used) {
            text.push_str(&c.code);
            text.push('\n');
        }
        text
    }
}

/// What a sign-in needs next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecondFactor {
    Totp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(used: &[bool]) -> RecoveryCodes {
        RecoveryCodes {
            account: "ada@example.com".into(),
            at: 0,
            codes: used
                .iter()
                .enumerate()
                .map(|(i, u)| RecoveryCode {
                    code: format!("aaaaa-aaaa{i}"),
                    used: *u,
                })
                .collect(),
        }
    }

    #[test]
    fn counts_what_is_left_and_writes_only_unused_codes_to_the_file() {
        let c = codes(&[true, false, true, false]);
        assert_eq!(c.left(), 2);
        let text = c.as_text("1 January 1970");
        assert!(
            text.contains("Account: ada@example.com") && text.contains("Generated: 1 January 1970")
        );
        assert!(
            !text.contains("aaaaa-aaaa0")
                && text.contains("aaaaa-aaaa1")
                && text.contains("aaaaa-aaaa3")
        );
    }
}
