//! argon2id password hashing (m = 19 MiB, t = 2, p = 1) on a pool of hashing threads
//! of its own, one per core, so sign-in storms cannot starve the server:
//! - at most that many hashes run at once (the rest wait their turn without a thread);
//! - the hashing threads run at a lower CPU priority (nice 10 on Linux) than the
//!   threads that serve pages, so a page is served first when both want a core;
//! - each keeps its 19 MiB of argon2 memory between hashes, instead of having it
//!   allocated, zeroed and faulted in again for every one.
//!
//! Passwords are NFKC-normalised first, so the same password typed on another keyboard
//! or system still matches. Every hash is peppered: argon2's secret input is a key
//! derived from the server secret, named in the stored hash by its `keyid`, so a
//! database dump alone cannot be brute-forced, and the secret can be rotated (hashes
//! under a previous one still verify and are replaced at the next sign-in).
use crate::model::password::MAX_PASSWORD_BYTES;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, KeyId, Params, ParamsBuilder, Version};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
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
        let key = crate::server::domain::crypto::derive(secret, b"latchkey/v1/password-pepper");
        Pepper {
            id: crate::server::domain::crypto::key_id(&key),
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

/// Work for a hashing thread, given that thread's argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The most argon2 memory a stored hash may ask for (256 MiB): a hash claiming more
/// is refused rather than allowed to exhaust memory.
const MAX_BLOCKS: usize = 256 * 1024;

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
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

/// Asks the kernel to run the calling thread at nice 10: it still gets every idle
/// cycle, but yields to the request threads (nice 0) when both are ready to run.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; on Linux, PRIO_PROCESS
    // with who = 0 applies to the calling thread alone.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

fn hashing_thread(jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
    lower_this_threads_priority();
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else {
            return; // the Hasher is gone
        };
        // A panic fails that one hash (its caller hears so), not the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
    }
}

/// argon2 of `password` and `salt` into an output of `len` bytes, in `memory`.
fn compute(
    argon: &Argon2,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    len: usize,
    memory: &mut Vec<Block>,
) -> Result<Output, HashError> {
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return Err(HashError::Failed("argon2 memory above the limit".into()));
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .map_err(Into::into)
    })
    .map_err(|e| HashError::Failed(e.to_string()))
}

impl Hasher {
    /// `max_concurrent` hashing threads; `secret` peppers new hashes; `previous`
    /// secrets still verify old ones.
    pub fn new(max_concurrent: usize, secret: &[u8], previous: &[Vec<u8>]) -> Hasher {
        let threads = max_concurrent.max(1);
        let peppers = std::iter::once(secret)
            .chain(previous.iter().map(Vec::as_slice))
            .map(Pepper::from_secret)
            .collect();
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || hashing_thread(receiver))
                .expect("a hashing thread can be started");
        }
        Hasher {
            permits: Arc::new(Semaphore::new(threads)),
            jobs,
            peppers: Arc::new(peppers),
        }
    }

    /// Runs `work` on a hashing thread once one is free. The turn is held until the
    /// work is done, even if the caller stops waiting.
    async fn on_hashing_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |memory| {
                let _ = done.send(work(memory));
                drop(permit);
            }))
            .map_err(|_| HashError::Failed("the hashing threads have stopped".into()))?;
        result
            .await
            .map_err(|_| HashError::Failed("a hash failed on its thread".into()))
    }

    /// Whether a stored hash is peppered under the current secret (else it moves to it
    /// at its owner's next sign-in; until then the secret it used must stay known).
    pub fn is_current(&self, phc: &str) -> bool {
        PasswordHash::new(phc)
            .ok()
            .and_then(|parsed| Params::try_from(&parsed).ok())
            .is_some_and(|p| p.keyid() == &self.peppers[0].id[..])
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::TooLarge);
        }
        let password = normalize(password);
        let pepper = self.peppers[0].clone();
        self.on_hashing_thread(move |memory| {
            let failed = |e: argon2::password_hash::Error| HashError::Failed(e.to_string());
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            let mut salt_bytes = [0u8; 64];
            let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(failed)?;
            let params = params(&pepper.id);
            let argon = Argon2::new_with_secret(
                &pepper.key,
                Algorithm::Argon2id,
                Version::V0x13,
                params.clone(),
            )
            .map_err(|e| HashError::Failed(e.to_string()))?;
            let output = compute(
                &argon,
                &params,
                password.as_bytes(),
                salt_bytes,
                Params::DEFAULT_OUTPUT_LEN,
                memory,
            )?;
            Ok(PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(failed)?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            }
            .to_string())
        })
        .await?
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
        self.on_hashing_thread(move |memory| verify_blocking(&candidates, &phc, &peppers, memory))
            .await
    }
}

fn verify_blocking(
    candidates: &[String],
    phc: &str,
    peppers: &[Pepper],
    memory: &mut Vec<Block>,
) -> Verdict {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verdict::NO;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Verdict::NO;
    };
    let (Ok(stored), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm),
    ) else {
        return Verdict::NO;
    };
    let Ok(version) = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return Verdict::NO;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
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
        Some(p) => Argon2::new_with_secret(&p.key, algorithm, version, stored.clone()),
        None => Ok(Argon2::new(algorithm, version, stored.clone())),
    };
    let Ok(argon) = argon else {
        return Verdict::NO;
    };
    let current = params(&peppers[0].id);
    for (i, candidate) in candidates.iter().enumerate() {
        let Ok(computed) = compute(
            &argon,
            &stored,
            candidate.as_bytes(),
            salt_bytes,
            expected.len(),
            memory,
        ) else {
            return Verdict::NO;
        };
        // Output's equality is constant-time.
        if computed == expected {
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
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

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
        // The argon2 crate's own verifier (its memory, its comparison) agrees.
        let parsed = PasswordHash::new(&phc).unwrap();
        let pepper = &h.peppers[0];
        let own = Argon2::new_with_secret(
            &pepper.key,
            Algorithm::Argon2id,
            Version::V0x13,
            Params::try_from(&parsed).unwrap(),
        )
        .unwrap();
        assert!(own.verify_password(b"Correct-Horse-9", &parsed).is_ok());
        assert!(own.verify_password(b"Correct-Horse-8", &parsed).is_err());
    }

    #[tokio::test]
    async fn hashing_threads_yield_to_the_request_threads_and_reuse_their_memory() {
        let h = Hasher::new(2, &SECRET, &[]);
        // Many hashes through two threads: each result is right, whatever thread and
        // whatever memory (reused, full of the previous hash) it got.
        let phcs: Vec<String> = futures_join((0..6).map(|i| {
            let h = h.clone();
            async move { h.hash(&format!("Password-{i}!")).await.unwrap() }
        }))
        .await;
        for (i, phc) in phcs.iter().enumerate() {
            assert_eq!(
                h.verify(&format!("Password-{i}!"), phc).await.unwrap(),
                yes(false)
            );
            assert_eq!(
                h.verify(&format!("Password-{i}?"), phc).await.unwrap(),
                Verdict::NO
            );
        }
        #[cfg(target_os = "linux")]
        {
            let mut niced = 0;
            for task in std::fs::read_dir("/proc/self/task").unwrap() {
                let path = task.unwrap().path();
                let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
                if comm.trim().starts_with("argon2-") {
                    let stat = std::fs::read_to_string(path.join("stat")).unwrap();
                    // Field 19 (after the parenthesised name) is the nice value.
                    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
                    let nice: i64 = after_name.split(' ').nth(16).unwrap().parse().unwrap();
                    assert_eq!(nice, 10, "{comm}");
                    niced += 1;
                }
            }
            assert!(niced >= 2, "hashing threads found: {niced}");
        }
    }

    async fn futures_join<F: std::future::Future<Output = String> + Send + 'static>(
        futures: impl Iterator<Item = F>,
    ) -> Vec<String> {
        let handles: Vec<_> = futures.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for handle in handles {
            out.push(handle.await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn a_stored_hash_asking_for_too_much_memory_is_refused_without_allocating_it() {
        let h = hasher();
        let greedy = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                      AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(h.verify("anything", greedy).await.unwrap(), Verdict::NO);
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
