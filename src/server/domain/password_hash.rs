//! argon2id password hashing (m = 19 MiB, t = 2, p = 1), run on blocking threads with a
//! bound on how many hashes run at once, so sign-in storms cannot starve the server.
//!
//! Passwords are NFKC-normalised first, so the same password typed on another keyboard
//! or system still matches. Every hash is peppered: argon2's secret input is a key
//! derived from the server secret, named in the stored hash by its `keyid`, so a
//! database dump alone cannot be brute-forced, and the secret can be rotated (hashes
//! under a previous one still verify and are replaced at the next sign-in).
use crate::model::password::MAX_PASSWORD_BYTES;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, KeyId, Params, ParamsBuilder, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    #[error("password input larger than {MAX_PASSWORD_BYTES} bytes")]
    TooLarge,
    #[error("hashing failed: {0}")]
    Failed(String),
}

/// A pepper: argon2's secret input, with its public id.
#[derive(Clone)]
struct Pepper {
    id: [u8; 4],
    key: [u8; 32],
}

impl Pepper {
    fn from_secret(secret: &[u8]) -> Pepper {
        let key = super::crypto::derive(secret, b"latchkey/v1/password-pepper");
        Pepper {
            id: super::crypto::key_id(&key),
            key,
        }
    }
}

/// What checking a password found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub matches: bool,
    /// It matched a hash that should be replaced by a fresh one (no pepper, an old
    /// pepper, older parameters or the password as typed before normalisation).
    pub rehash: bool,
}

impl Verdict {
    const NO: Verdict = Verdict {
        matches: false,
        rehash: false,
    };
}

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// The current pepper first, then previous ones.
    peppers: Arc<Vec<Pepper>>,
}

fn params(keyid: &[u8]) -> Params {
    ParamsBuilder::new()
        .m_cost(19 * 1024)
        .t_cost(2)
        .p_cost(1)
        .keyid(KeyId::new(keyid).expect("a 4-byte key id"))
        .build()
        .expect("valid argon2 parameters")
}

/// The password as hashed: NFKC, so that "ﬁ" and "fi", or full-width and ASCII
/// letters, are one password.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

impl Hasher {
    /// `secret` peppers new hashes; `previous` secrets still verify old ones.
    pub fn new(max_concurrent: usize, secret: &[u8], previous: &[Vec<u8>]) -> Hasher {
        let peppers = std::iter::once(secret)
            .chain(previous.iter().map(Vec::as_slice))
            .map(Pepper::from_secret)
            .collect();
        Hasher {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            peppers: Arc::new(peppers),
        }
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::TooLarge);
        }
        let password = normalize(password);
        let pepper = self.peppers[0].clone();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::new_with_secret(
                &pepper.key,
                Algorithm::Argon2id,
                Version::V0x13,
                params(&pepper.id),
            )
            .map_err(|e| HashError::Failed(e.to_string()))?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?
    }

    /// Checks `password` against a stored PHC string. A malformed stored hash, or one
    /// peppered under a secret this server does not know, never matches.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<Verdict, HashError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::TooLarge);
        }
        let normalized = normalize(password);
        // Hashes made before normalisation hold the password as typed.
        let mut candidates = vec![normalized.clone()];
        if normalized != password {
            candidates.push(password.to_owned());
        }
        let phc = phc.to_owned();
        let peppers = self.peppers.clone();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(move || verify_blocking(&candidates, &phc, &peppers))
            .await
            .map_err(|e| HashError::Failed(e.to_string()))
    }
}

fn verify_blocking(candidates: &[String], phc: &str, peppers: &[Pepper]) -> Verdict {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verdict::NO;
    };
    let Ok(stored) = Params::try_from(&parsed) else {
        return Verdict::NO;
    };
    let pepper = if stored.keyid().is_empty() {
        None
    } else {
        match peppers.iter().find(|p| p.id[..] == *stored.keyid()) {
            Some(p) => Some(p),
            None => return Verdict::NO,
        }
    };
    let argon = match pepper {
        Some(p) => {
            Argon2::new_with_secret(&p.key, Algorithm::Argon2id, Version::V0x13, stored.clone())
        }
        None => Ok(Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            stored.clone(),
        )),
    };
    let Ok(argon) = argon else {
        return Verdict::NO;
    };
    let current = params(&peppers[0].id);
    for (i, candidate) in candidates.iter().enumerate() {
        if argon.verify_password(candidate.as_bytes(), &parsed).is_ok() {
            let up_to_date = i == 0
                && pepper.is_some_and(|p| p.id == peppers[0].id)
                && stored.m_cost() == current.m_cost()
                && stored.t_cost() == current.t_cost()
                && stored.p_cost() == current.p_cost()
                && parsed.algorithm == argon2::ARGON2ID_IDENT;
            return Verdict {
                matches: true,
                rehash: !up_to_date,
            };
        }
    }
    Verdict::NO
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [5; 32];

    fn hasher() -> Hasher {
        Hasher::new(2, &SECRET, &[])
    }

    fn yes(rehash: bool) -> Verdict {
        Verdict {
            matches: true,
            rehash,
        }
    }

    #[tokio::test]
    async fn hashes_with_argon2id_at_the_required_cost_and_a_pepper_and_verifies() {
        let h = hasher();
        let phc = h.hash("Correct-Horse-9").await.unwrap();
        assert!(
            phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1,keyid="),
            "{phc}"
        );
        assert_eq!(h.verify("Correct-Horse-9", &phc).await.unwrap(), yes(false));
        assert_eq!(
            h.verify("correct-horse-9", &phc).await.unwrap(),
            Verdict::NO
        );
        // unique salts
        assert_ne!(phc, h.hash("Correct-Horse-9").await.unwrap());
    }

    #[tokio::test]
    async fn a_dump_without_the_server_secret_cannot_be_checked() {
        let phc = hasher().hash("Correct-Horse-9").await.unwrap();
        // The same hash with the pepper's id but another secret behind it.
        let other = Hasher::new(1, &[6; 32], &[]);
        assert_eq!(
            other.verify("Correct-Horse-9", &phc).await.unwrap(),
            Verdict::NO
        );
        // Plain argon2 (what a cracker has without the secret) does not match either.
        let parsed = PasswordHash::new(&phc).unwrap();
        let plain = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::try_from(&parsed).unwrap(),
        );
        assert!(plain.verify_password(b"Correct-Horse-9", &parsed).is_err());
    }

    #[tokio::test]
    async fn hashes_under_a_previous_secret_or_none_verify_and_ask_for_a_rehash() {
        let old = Hasher::new(1, &[1; 32], &[])
            .hash("Correct-Horse-9")
            .await
            .unwrap();
        let rotated = Hasher::new(1, &SECRET, &[vec![1; 32]]);
        assert_eq!(
            rotated.verify("Correct-Horse-9", &old).await.unwrap(),
            yes(true)
        );
        assert_eq!(
            rotated.verify("Wrong-Horse-9", &old).await.unwrap(),
            Verdict::NO
        );
        // A hash from before peppers existed.
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let legacy = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19 * 1024, 2, 1, None).unwrap(),
        )
        .hash_password(b"Correct-Horse-9", &salt)
        .unwrap()
        .to_string();
        assert_eq!(
            hasher().verify("Correct-Horse-9", &legacy).await.unwrap(),
            yes(true)
        );
    }

    #[tokio::test]
    async fn passwords_are_compared_after_nfkc_normalisation() {
        let h = hasher();
        // Full-width letters and a ligature are the same password as plain ASCII.
        let phc = h.hash("Ｇｒａｎｉｔｅ-Kettle-ﬁ42!").await.unwrap();
        assert_eq!(
            h.verify("Granite-Kettle-fi42!", &phc).await.unwrap(),
            yes(false)
        );
        // An older hash of the password exactly as typed still verifies, once, for a rehash.
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let pepper = &h.peppers[0];
        let as_typed = Argon2::new_with_secret(
            &pepper.key,
            Algorithm::Argon2id,
            Version::V0x13,
            params(&pepper.id),
        )
        .unwrap()
        .hash_password("Ｇｒａｎｉｔｅ-1!".as_bytes(), &salt)
        .unwrap()
        .to_string();
        assert_eq!(
            h.verify("Ｇｒａｎｉｔｅ-1!", &as_typed).await.unwrap(),
            yes(true)
        );
        assert_eq!(normalize("Ａﬁ"), "Afi");
    }

    #[tokio::test]
    async fn refuses_oversized_input_before_hashing() {
        let h = Hasher::new(1, &SECRET, &[]);
        let huge = "x".repeat(10 * 1024);
        assert_eq!(h.hash(&huge).await, Err(HashError::TooLarge));
        assert_eq!(
            h.verify(&huge, "$argon2id$whatever").await,
            Err(HashError::TooLarge)
        );
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_never_matches() {
        let h = hasher();
        assert_eq!(
            h.verify("anything", "not-a-hash").await.unwrap(),
            Verdict::NO
        );
    }
}
