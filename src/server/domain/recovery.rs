//! Recovery codes: ten single-use codes of ten characters from an alphabet without
//! look-alikes (no 0/o, 1/l/i), shown as `xxxxx-xxxxx`.
use rand::Rng;

pub const COUNT: usize = 10;
pub const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

pub fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

/// The canonical form of a typed code (case, spaces and the hyphen do not matter),
/// or `None` when it cannot be a recovery code.
pub fn normalize(input: &str) -> Option<String> {
    let raw: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_lowercase();
    (raw.len() == 10 && raw.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| format!("{}-{}", &raw[..5], &raw[5..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_well_formed_codes() {
        let codes = generate();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 11);
            assert_eq!(&c[5..6], "-");
            assert!(
                c.bytes()
                    .filter(|b| *b != b'-')
                    .all(|b| ALPHABET.contains(&b)),
                "{c}"
            );
            assert!(!c.contains(['0', '1', 'o', 'l', 'i']));
            assert_eq!(normalize(c).as_deref(), Some(c.as_str()));
        }
        // At least 48 bits each.
        assert!((ALPHABET.len() as f64).log2() * 10.0 >= 48.0);
    }

    #[test]
    fn typed_forms_are_accepted_and_nonsense_refused() {
        assert_eq!(normalize(" ABCDE fghjk ").as_deref(), Some("abcde-fghjk"));
        assert_eq!(normalize("abcdefghjk").as_deref(), Some("abcde-fghjk"));
        assert_eq!(normalize("abcde-fghj"), None);
        assert_eq!(normalize("abcde-fgh1k"), None);
        assert_eq!(normalize("' or 1=1 --"), None);
    }
}
