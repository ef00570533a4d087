//! Random tokens and their keyed hashes. Only the hash of a token is ever stored.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// What a token is for; part of its hash, so a token of one kind never matches another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Session,
    VerifyEmail,
    ResetPassword,
    RecoveryCode,
    PendingSignIn,
    /// A six-digit code sent by email or SMS.
    SentCode,
    Throttle,
    /// An email address typed for an account that does not exist, as the log keeps it:
    /// the same address gives the same value (so repeated probing shows), but the log
    /// alone does not reveal it.
    LoggedEmail,
    /// A personal access token.
    AccessToken,
    /// The id in a device cookie (its signature, and the key of a known device).
    Device,
    /// A new sign-in notice's "This wasn't me" link.
    NotMe,
    /// The link that confirms a new email address.
    EmailChange,
    /// The link that undoes an email change, sent to the old address.
    EmailChangeUndo,
    /// The id a browser holds for a passkey sign-in under way.
    PasskeyCeremony,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Session => b"session",
            Purpose::PasskeyCeremony => b"passkey-ceremony",
            Purpose::VerifyEmail => b"verify-email",
            Purpose::ResetPassword => b"reset-password",
            Purpose::RecoveryCode => b"recovery-code",
            Purpose::PendingSignIn => b"pending-sign-in",
            Purpose::SentCode => b"sent-code",
            Purpose::Throttle => b"throttle-key",
            Purpose::LoggedEmail => b"logged-email",
            Purpose::AccessToken => b"access-token",
            Purpose::Device => b"device",
            Purpose::NotMe => b"not-me",
            Purpose::EmailChange => b"email-change",
            Purpose::EmailChangeUndo => b"email-change-undo",
        }
    }
}

/// Keys derived from the server secret (and the previous ones, after a rotation).
#[derive(Clone)]
pub struct Keys {
    hash_key: [u8; 32],
    previous: Vec<[u8; 32]>,
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Keys {
        Keys::from_secrets(secret, &[])
    }

    pub fn from_secrets(current: &[u8], previous: &[Vec<u8>]) -> Keys {
        let derive = |s: &[u8]| super::crypto::derive(s, b"latchkey/v1/keyed-hash");
        Keys {
            hash_key: derive(current),
            previous: previous.iter().map(|s| derive(s)).collect(),
        }
    }

    /// HMAC-SHA-256 of `value` under the server key, separated by purpose.
    pub fn hash(&self, purpose: Purpose, value: &str) -> Vec<u8> {
        Self::hash_with(&self.hash_key, purpose, value)
    }

    /// The same under the current key and then each previous one: for lookups of
    /// long-lived values (recovery codes) that must survive a rotation.
    pub fn hashes(&self, purpose: Purpose, value: &str) -> Vec<Vec<u8>> {
        std::iter::once(&self.hash_key)
            .chain(&self.previous)
            .map(|k| Self::hash_with(k, purpose, value))
            .collect()
    }

    fn hash_with(key: &[u8; 32], purpose: Purpose, value: &str) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(key).expect("32-byte key");
        mac.update(purpose.label());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// A new token of 256 random bits from the operating system's CSPRNG, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A short random reference for error reports, so a user's message can be found in the log.
pub fn new_reference() -> String {
    let mut bytes = [0u8; 5];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Tokens arrive from outside: anything not shaped like ours is refused before lookup.
pub fn looks_like_token(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_url_safe_and_unique() {
        let a = new_token();
        let b = new_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert!(looks_like_token(&a));
        assert_ne!(a, b);
    }

    #[test]
    fn hashes_depend_on_key_purpose_and_value() {
        let k1 = Keys::from_secret(&[1; 32]);
        let k2 = Keys::from_secret(&[2; 32]);
        let t = new_token();
        assert_eq!(k1.hash(Purpose::Session, &t), k1.hash(Purpose::Session, &t));
        assert_ne!(k1.hash(Purpose::Session, &t), k2.hash(Purpose::Session, &t));
        assert_ne!(
            k1.hash(Purpose::Session, &t),
            k1.hash(Purpose::VerifyEmail, &t)
        );
        assert_ne!(
            k1.hash(Purpose::Session, &t),
            k1.hash(Purpose::Session, &new_token())
        );
        assert_eq!(k1.hash(Purpose::Session, &t).len(), 32);
        // the stored hash does not contain the token
        assert!(!hex::encode(k1.hash(Purpose::Session, &t)).contains(&t));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        assert!(!looks_like_token(""));
        assert!(!looks_like_token("' OR 1=1 --"));
        assert!(!looks_like_token(&"a".repeat(44)));
        assert!(!looks_like_token(&format!("{}=", "a".repeat(42))));
    }
}
