//! Encryption at rest (XChaCha20-Poly1305) for secrets the server must read back:
//! authenticator secrets and recovery codes. The key comes from the server secret;
//! each value is bound to its owner and purpose through the associated data.
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub fn from_secret(secret: &[u8]) -> Sealer {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
        mac.update(b"latchkey/v1/encryption");
        let key = mac.finalize().into_bytes();
        Sealer {
            cipher: XChaCha20Poly1305::new(&key),
        }
    }

    /// nonce (24 bytes) followed by the ciphertext and tag.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("encryption cannot fail for in-memory input");
        [nonce.as_slice(), &sealed].concat()
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Option<Vec<u8>> {
        if sealed.len() < 24 + 16 {
            return None;
        }
        let (nonce, body) = sealed.split_at(24);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_evidence() {
        let s = Sealer::from_secret(&[7; 32]);
        let sealed = s.seal(b"totp secret", "totp:1");
        assert!(!sealed.windows(11).any(|w| w == b"totp secret"));
        assert_eq!(s.open(&sealed, "totp:1").unwrap(), b"totp secret");
        assert_eq!(s.open(&sealed, "totp:2"), None, "bound to its owner");
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(s.open(&bad, "totp:1"), None);
        assert_eq!(
            Sealer::from_secret(&[8; 32]).open(&sealed, "totp:1"),
            None,
            "needs the key"
        );
        assert_ne!(
            s.seal(b"x", "c"),
            s.seal(b"x", "c"),
            "fresh nonce each time"
        );
    }
}
