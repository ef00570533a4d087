//! The common passwords the policy always refuses: 204,154 passwords of breach corpora
//! (see `scripts/make-common-passwords.py` for the source and how the list was made),
//! shipped compressed in the binary and held in memory as a binary fuse filter (about
//! 18 bits each, 450 KB in all). A password not on the list is taken for one with a
//! chance of 1 in 65,536. The list lives on the server only; the browser's checklist
//! learns the answer with the strength estimate.
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;
use xorf::{BinaryFuse16, Filter};

const LIST_GZ: &[u8] = include_bytes!("common-passwords.txt.gz");

/// The key of a password in the filter: NFKC, lower case, then a 64-bit hash (the
/// filter is built in this same process, so the hash need not be stable).
fn key(password: &str) -> u64 {
    let canonical: String = password.nfkc().collect::<String>().to_lowercase();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    canonical.hash(&mut h);
    h.finish()
}

fn filter() -> &'static BinaryFuse16 {
    static FILTER: OnceLock<BinaryFuse16> = OnceLock::new();
    FILTER.get_or_init(|| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(LIST_GZ)
            .read_to_string(&mut text)
            .expect("the bundled password list is valid gzip and UTF-8");
        let mut keys: Vec<u64> = text.lines().filter(|l| !l.is_empty()).map(key).collect();
        keys.sort_unstable();
        keys.dedup();
        BinaryFuse16::try_from(&keys).expect("a filter can be built from distinct keys")
    })
}

/// Builds the filter now (at start-up) rather than at the first sign-up.
pub fn load() {
    filter();
}

/// Whether the password (compared after NFKC and in lower case) is a common one.
pub fn is_common_password(password: &str) -> bool {
    !password.is_empty() && filter().contains(&key(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_breached_passwords_of_every_length_in_any_case() {
        for common in [
            "password",
            "PaSsWoRd",
            "123456",
            "qwertyuiop",
            // Long ones, which a 12-character minimum still lets through.
            "1qaz2wsx3edc",
            "Qwerty123456",
            "iloveyou1234",
            "leavemealone",
            // Full-width letters are the same password.
            "ｐａｓｓｗｏｒｄ",
        ] {
            assert!(is_common_password(common), "{common}");
        }
        assert!(!is_common_password("Correct-Horse-Battery-9"));
        assert!(!is_common_password(""));
    }

    #[test]
    fn random_passwords_are_almost_never_taken_for_common_ones() {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let hits = (0..20_000)
            .filter(|_| {
                let p: String = (0..16).map(|_| rng.gen_range('!'..='~')).collect();
                is_common_password(&p)
            })
            .count();
        // 1 in 65,536 expected: 0.3 in 20,000.
        assert!(hits <= 3, "{hits} false positives");
    }
}
