//! One-time codes sent by email (or SMS): six digits from the operating system's
//! CSPRNG, stored as keyed hashes, single use, valid for a limited time, a limited
//! number of wrong tries each, and not sent again before the resend interval is over.
use rand::Rng;
use subtle::ConstantTimeEq;

pub const DIGITS: usize = 6;

/// What a code is for; part of its key, so a code sent for one purpose never serves
/// another, and the mail can say what it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodePurpose {
    SignIn,
    /// Turning the channel on (after the identity check).
    Enable,
    /// Turning the channel off.
    Disable,
    /// Confirming identity before another method is added.
    Identity,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::SignIn => "sign-in",
            CodePurpose::Enable => "enable",
            CodePurpose::Disable => "disable",
            CodePurpose::Identity => "identity",
        }
    }

    pub fn parse(s: &str) -> Option<CodePurpose> {
        [
            CodePurpose::SignIn,
            CodePurpose::Enable,
            CodePurpose::Disable,
            CodePurpose::Identity,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// What the message says the code is for ("Use this code … to sign in").
    pub fn reason(self, channel: Channel) -> &'static str {
        match (self, channel) {
            (CodePurpose::SignIn, _) => "to sign in",
            (CodePurpose::Enable, Channel::Email) => "to turn on email codes",
            (CodePurpose::Enable, Channel::Sms) => "to turn on SMS codes",
            (CodePurpose::Disable, Channel::Email) => "to turn off email codes",
            (CodePurpose::Disable, Channel::Sms) => "to turn off SMS codes",
            (CodePurpose::Identity, _) => "to confirm it is you before a security change",
        }
    }
}

/// Where codes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// A fresh code: uniformly one of the 1,000,000 six-digit strings.
pub fn generate() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// The code as typed, without the spaces or hyphens people paste; `None` when it
/// cannot be a code (not six digits).
pub fn normalize(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The settings that govern sent codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeRules {
    /// How long a code is valid (at most 10 minutes by the security standard).
    pub ttl_secs: i64,
    /// The least time between two sends of a code for the same purpose.
    pub resend_secs: i64,
    /// Wrong tries a code survives; after them a new code is needed.
    pub max_failures: i64,
}

impl Default for CodeRules {
    fn default() -> Self {
        CodeRules {
            ttl_secs: 600,
            resend_secs: 60,
            max_failures: 5,
        }
    }
}

impl CodeRules {
    /// Seconds until another code may be sent, after one sent at `sent_at`; 0 when now.
    pub fn resend_wait(&self, sent_at: i64, now: i64) -> u64 {
        (sent_at + self.resend_secs - now).max(0) as u64
    }

    pub fn expires_at(&self, now: i64) -> i64 {
        now + self.ttl_secs
    }
}

/// A stored code as the check sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub code_hash: Vec<u8>,
    pub expires_at: i64,
    /// Wrong tries so far, this one included (counted before the check).
    pub failures: i64,
}

/// What checking a typed code against the stored one found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Wrong,
    Expired,
    /// This code has had its tries: a new one is needed.
    UsedUp,
}

/// Judges a typed code (as its keyed hash) against the stored one at `now`. The try
/// was counted beforehand, so `stored.failures` includes it; a code expires at
/// `expires_at` exactly. The hashes are compared in constant time.
pub fn judge(stored: &Stored, typed_hash: &[u8], now: i64, rules: &CodeRules) -> Verdict {
    if now >= stored.expires_at {
        return Verdict::Expired;
    }
    if stored.failures > rules.max_failures {
        return Verdict::UsedUp;
    }
    if bool::from(stored.code_hash.as_slice().ct_eq(typed_hash)) {
        Verdict::Accepted
    } else {
        Verdict::Wrong
    }
}

/// `ada@example.com` as `a••@example.com`: enough for the owner to recognise, not
/// enough to hand a full address to someone looking over a shoulder.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            let hidden = local.chars().count().saturating_sub(1).clamp(2, 6);
            format!("{first}{}@{domain}", "•".repeat(hidden))
        }
        None => "•••".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(failures: i64) -> Stored {
        Stored {
            code_hash: vec![7; 32],
            expires_at: 1_000 + 600,
            failures,
        }
    }

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: Vec<String> = (0..200).map(|_| generate()).collect();
        assert!(codes
            .iter()
            .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 190, "{} distinct of 200", distinct.len());
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalize("123456").as_deref(), Some("123456"));
        assert_eq!(normalize(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize("123-456").as_deref(), Some("123456"));
        assert_eq!(normalize("12345"), None);
        assert_eq!(normalize("1234567"), None);
        assert_eq!(normalize("12a456"), None);
        assert_eq!(
            normalize("１２３４５６"),
            None,
            "full-width digits are not ASCII"
        );
        assert_eq!(normalize(""), None);
    }

    #[test]
    fn a_code_expires_at_its_time_exactly() {
        let r = CodeRules::default();
        let s = stored(1);
        assert_eq!(judge(&s, &[7; 32], 1_599, &r), Verdict::Accepted);
        assert_eq!(judge(&s, &[7; 32], 1_600, &r), Verdict::Expired);
        assert_eq!(judge(&s, &[8; 32], 1_600, &r), Verdict::Expired);
        assert_eq!(r.expires_at(1_000), 1_600);
    }

    #[test]
    fn a_code_survives_five_wrong_tries_and_not_a_sixth() {
        let r = CodeRules::default();
        for tries in 1..=5 {
            assert_eq!(judge(&stored(tries), &[8; 32], 1_001, &r), Verdict::Wrong);
        }
        // The sixth try is counted before the check: even the right code is refused.
        assert_eq!(judge(&stored(6), &[7; 32], 1_001, &r), Verdict::UsedUp);
        assert_eq!(judge(&stored(5), &[7; 32], 1_001, &r), Verdict::Accepted);
    }

    #[test]
    fn a_wrong_hash_of_another_length_is_wrong_not_a_panic() {
        let r = CodeRules::default();
        assert_eq!(judge(&stored(1), &[7; 31], 1_001, &r), Verdict::Wrong);
        assert_eq!(judge(&stored(1), &[], 1_001, &r), Verdict::Wrong);
    }

    #[test]
    fn resends_wait_for_the_interval() {
        let r = CodeRules::default();
        assert_eq!(r.resend_wait(1_000, 1_000), 60);
        assert_eq!(r.resend_wait(1_000, 1_018), 42);
        assert_eq!(r.resend_wait(1_000, 1_059), 1);
        assert_eq!(r.resend_wait(1_000, 1_060), 0);
        assert_eq!(r.resend_wait(1_000, 5_000), 0);
        let slow = CodeRules {
            resend_secs: 120,
            ..r
        };
        assert_eq!(slow.resend_wait(1_000, 1_060), 60);
    }

    #[test]
    fn purposes_and_channels_round_trip_and_say_what_the_code_is_for() {
        for p in [
            CodePurpose::SignIn,
            CodePurpose::Enable,
            CodePurpose::Disable,
            CodePurpose::Identity,
        ] {
            assert_eq!(CodePurpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(CodePurpose::parse("other"), None);
        assert_eq!(Channel::parse("email"), Some(Channel::Email));
        assert_eq!(Channel::parse("sms"), Some(Channel::Sms));
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(
            CodePurpose::Enable.reason(Channel::Email),
            "to turn on email codes"
        );
        assert_eq!(
            CodePurpose::Disable.reason(Channel::Email),
            "to turn off email codes"
        );
        assert_eq!(CodePurpose::SignIn.reason(Channel::Sms), "to sign in");
    }

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask_email("ada@example.com"), "a••@example.com");
        assert_eq!(mask_email("a@example.com"), "a••@example.com");
        assert_eq!(
            mask_email("someone.long@example.com"),
            "s••••••@example.com"
        );
        assert_eq!(mask_email("not-an-address"), "•••");
    }
}
