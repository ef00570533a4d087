//! argon2id password hashing (m = 19 MiB, t = 2, p = 1), run on blocking threads with a
//! bound on how many hashes run at once, so sign-in storms cannot starve the server.
use crate::model::password::MAX_PASSWORD_BYTES;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    #[error("password input larger than {MAX_PASSWORD_BYTES} bytes")]
    TooLarge,
    #[error("hashing failed: {0}")]
    Failed(String),
}

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Hasher {
    pub fn new(max_concurrent: usize) -> Hasher {
        Hasher {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::TooLarge);
        }
        let password = password.to_owned();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?
    }

    /// Whether `password` matches the stored PHC string. A malformed stored hash never matches.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, HashError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::TooLarge);
        }
        let (password, phc) = (password.to_owned(), phc.to_owned());
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
            Ok(parsed) => argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_at_the_required_cost_and_verifies() {
        let h = Hasher::new(2);
        let phc = h.hash("Correct-Horse-9").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify("Correct-Horse-9", &phc).await.unwrap());
        assert!(!h.verify("correct-horse-9", &phc).await.unwrap());
        // unique salts
        assert_ne!(phc, h.hash("Correct-Horse-9").await.unwrap());
    }

    #[tokio::test]
    async fn refuses_oversized_input_before_hashing() {
        let h = Hasher::new(1);
        let huge = "x".repeat(10 * 1024);
        assert_eq!(h.hash(&huge).await, Err(HashError::TooLarge));
        assert_eq!(
            h.verify(&huge, "$argon2id$whatever").await,
            Err(HashError::TooLarge)
        );
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_never_matches() {
        let h = Hasher::new(1);
        assert!(!h.verify("anything", "not-a-hash").await.unwrap());
    }
}
