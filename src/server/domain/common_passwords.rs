//! The list of common passwords the policy always refuses (`common-passwords.txt`:
//! the 10,000 most common, from zxcvbn's frequency list). It lives on the server
//! only; the browser's checklist learns the answer with the strength estimate.
use std::collections::HashSet;
use std::sync::OnceLock;

const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

fn common_set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether the password (compared in lower case) is one of the 10,000 most common.
pub fn is_common_password(password: &str) -> bool {
    common_set().contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_ten_thousand_common_passwords() {
        assert_eq!(common_set().len(), 10_000);
        assert!(is_common_password("password"));
        assert!(is_common_password("PaSsWoRd"));
        assert!(is_common_password("123456"));
        assert!(is_common_password("qwertyuiop"));
        assert!(!is_common_password("Correct-Horse-Battery-9"));
    }
}
