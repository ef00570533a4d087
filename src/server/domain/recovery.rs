//! Recovery codes: ten single-use codes of 16 characters (80 bits) from an alphabet of
//! 32 without look-alikes: `0` is in it and `o` is not (a typed `o` is read as `0`), and
//! neither `1`, `l` nor `i` is. Shown as `xxxx-xxxx-xxxx-xxxx`.
use rand::Rng;

pub const COUNT: usize = 10;
pub const ALPHABET: &[u8] = b"023456789abcdefghjkmnpqrstuvwxyz";
const LENGTH: usize = 16;
const GROUP: usize = 4;

/// Codes made before they had 80 bits were ten characters, `xxxxx-xxxxx` (about 50
/// bits). They are no longer accepted: the start-up step `server::upgrade` removes
/// them and tells their owners to regenerate. Sealed, such a code is this many bytes
/// (with or without the sealing key's 4-byte id), which is how it is found.
pub const LEGACY_SEALED_LENGTHS: [i64; 2] = [24 + 11 + 16, 4 + 24 + 11 + 16];

fn grouped(raw: &str, size: usize) -> String {
    raw.as_bytes()
        .chunks(size)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

pub fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LENGTH)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            grouped(&raw, GROUP)
        })
        .collect()
}

/// The canonical form of a typed code (case, spaces and hyphens do not matter, `o` is
/// `0`), or `None` when it cannot be a recovery code.
pub fn normalize(input: &str) -> Option<String> {
    let raw: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_lowercase();
    let raw = raw.replace('o', "0");
    (raw.len() == LENGTH && raw.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| grouped(&raw, GROUP))
}

/// Whether turning a method on issues ten new recovery codes: when the account has
/// none left to use (its first method, or the last ones were used or retired). Codes
/// the owner already saved are never replaced behind their back by a second method.
pub fn due_on_enable(unused_left: i64) -> bool {
    unused_left <= 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_well_formed_codes_of_80_bits() {
        let codes = generate();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 19);
            assert_eq!(c.split('-').map(str::len).collect::<Vec<_>>(), [4, 4, 4, 4]);
            assert!(
                c.bytes()
                    .filter(|b| *b != b'-')
                    .all(|b| ALPHABET.contains(&b)),
                "{c}"
            );
            assert!(!c.contains(['1', 'o', 'l', 'i']));
            assert_eq!(normalize(c).as_deref(), Some(c.as_str()));
        }
        assert_eq!(ALPHABET.len(), 32);
        let unique_letters: std::collections::HashSet<_> = ALPHABET.iter().collect();
        assert_eq!(unique_letters.len(), 32);
        assert!((ALPHABET.len() as f64).log2() * LENGTH as f64 >= 80.0);
    }

    #[test]
    fn typed_forms_are_accepted_and_nonsense_refused() {
        assert_eq!(
            normalize(" ABCD efgh JKMN pq0r ").as_deref(),
            Some("abcd-efgh-jkmn-pq0r")
        );
        assert_eq!(
            normalize("abcdefghjkmnpqor").as_deref(),
            Some("abcd-efgh-jkmn-pq0r"),
            "o is read as 0"
        );
        assert_eq!(normalize("abcd-efgh-jkmn-pq0"), None);
        assert_eq!(normalize("abcd-efgh-jkmn-pq1r"), None);
        assert_eq!(normalize("' or 1=1 --"), None);
    }

    #[test]
    fn codes_of_the_old_ten_character_format_are_refused() {
        assert_eq!(normalize(" ABCDE fghjk "), None);
        assert_eq!(normalize("abcdefghjk"), None);
    }

    #[test]
    fn the_sealed_length_tells_an_old_code_from_a_new_one() {
        let sealer = crate::server::domain::crypto::Sealer::from_secret(&[3; 32]);
        let old = sealer.seal(b"abcde-fghjk", "recovery:1");
        assert!(LEGACY_SEALED_LENGTHS.contains(&(old.len() as i64)));
        for code in generate() {
            let new = sealer.seal(code.as_bytes(), "recovery:1");
            assert!(!LEGACY_SEALED_LENGTHS.contains(&(new.len() as i64)));
        }
    }

    #[test]
    fn codes_come_with_a_method_only_when_none_are_left() {
        assert!(super::due_on_enable(0), "the first method brings codes");
        assert!(
            !super::due_on_enable(10),
            "a second method keeps the saved ones"
        );
        assert!(!super::due_on_enable(1));
    }
}
