//! Encryption at rest (XChaCha20-Poly1305) for secrets the server must read back:
//! authenticator secrets and recovery codes. The key comes from the server secret;
//! each value is bound to its owner and purpose through the associated data, and
//! starts with the id of the key that sealed it, so the secret can be rotated
//! (`server.previous_secrets`) without losing what was sealed before.
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// A 32-byte key for one use, derived from a server secret.
pub fn derive(secret: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// A short public name of a key (it reveals nothing about the key).
pub fn key_id(key: &[u8; 32]) -> [u8; 4] {
    let full = derive(key, b"latchkey/v1/key-id");
    [full[0], full[1], full[2], full[3]]
}

const ID: usize = 4;
const NONCE: usize = 24;
const TAG: usize = 16;

#[derive(Clone)]
pub struct Sealer {
    /// The current key first, then the previous ones.
    keys: Vec<([u8; 4], XChaCha20Poly1305)>,
}

impl Sealer {
    pub fn from_secret(secret: &[u8]) -> Sealer {
        Sealer::from_secrets(secret, &[])
    }

    pub fn from_secrets(current: &[u8], previous: &[Vec<u8>]) -> Sealer {
        let keys = std::iter::once(current)
            .chain(previous.iter().map(Vec::as_slice))
            .map(|secret| {
                let key = derive(secret, b"latchkey/v1/encryption");
                (key_id(&key), XChaCha20Poly1305::new(&key.into()))
            })
            .collect();
        Sealer { keys }
    }

    /// The current key's id, then a fresh nonce, the ciphertext and its tag.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let (id, cipher) = &self.keys[0];
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("encryption cannot fail for in-memory input");
        [id.as_slice(), nonce.as_slice(), &sealed].concat()
    }

    /// Whether `sealed` was sealed under the current key (else it should be moved).
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        sealed.len() >= ID + NONCE + TAG && sealed[..ID] == self.keys[0].0[..]
    }

    /// Opens what any known key sealed (values sealed before key ids existed too).
    pub fn open(&self, sealed: &[u8], context: &str) -> Option<Vec<u8>> {
        let try_open = |cipher: &XChaCha20Poly1305, body: &[u8]| {
            if body.len() < NONCE + TAG {
                return None;
            }
            let (nonce, body) = body.split_at(NONCE);
            cipher
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: body,
                        aad: context.as_bytes(),
                    },
                )
                .ok()
        };
        if sealed.len() >= ID + NONCE + TAG {
            if let Some((_, cipher)) = self.keys.iter().find(|(id, _)| sealed[..ID] == id[..]) {
                if let Some(plain) = try_open(cipher, &sealed[ID..]) {
                    return Some(plain);
                }
            }
        }
        self.keys
            .iter()
            .find_map(|(_, cipher)| try_open(cipher, sealed))
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

    #[test]
    fn what_an_old_secret_sealed_opens_after_rotation_and_not_without_it() {
        let old = Sealer::from_secret(&[1; 32]);
        let sealed = old.seal(b"recovery code", "recovery:7");
        let rotated = Sealer::from_secrets(&[2; 32], &[vec![1; 32]]);
        assert_eq!(
            rotated.open(&sealed, "recovery:7").unwrap(),
            b"recovery code"
        );
        assert_eq!(
            Sealer::from_secret(&[2; 32]).open(&sealed, "recovery:7"),
            None
        );
        // New values go under the new key, which the old one cannot open.
        let fresh = rotated.seal(b"x", "c");
        assert_eq!(
            &fresh[..4],
            &key_id(&derive(&[2; 32], b"latchkey/v1/encryption"))
        );
        assert_eq!(old.open(&fresh, "c"), None);
    }

    #[test]
    fn values_sealed_before_key_ids_still_open() {
        let s = Sealer::from_secret(&[3; 32]);
        let key = derive(&[3; 32], b"latchkey/v1/encryption");
        let cipher = XChaCha20Poly1305::new(&key.into());
        let nonce = [9u8; 24];
        let body = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: b"legacy".as_slice(),
                    aad: b"c",
                },
            )
            .unwrap();
        let legacy = [nonce.as_slice(), &body].concat();
        assert_eq!(s.open(&legacy, "c").unwrap(), b"legacy");
    }
}
