//! Password strength estimation (zxcvbn), kept on the server so the browser bundle
//! stays small.
use crate::model::password::Strength;

/// Estimates strength; the account's email counts as a known word. Input longer than
/// `max_chars` is not estimated (zxcvbn is slow on very long input) and counts as
/// strong, since the policy refuses it anyway.
pub fn estimate(password: &str, user_inputs: &[&str], max_chars: usize) -> Strength {
    if password.is_empty() {
        return Strength(0);
    }
    if password.chars().count() > max_chars {
        return Strength(4);
    }
    Strength(zxcvbn::zxcvbn(password, user_inputs).score() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_personal_passwords_are_weak_long_random_ones_strong() {
        assert_eq!(estimate("password1", &[], 128), Strength(0));
        // The account's own name makes a weak password.
        let alone = zxcvbn::zxcvbn("zephyrine1987", &[]).guesses_log10();
        let with_name = zxcvbn::zxcvbn("zephyrine1987", &["zephyrine"]).guesses_log10();
        assert!(with_name < alone, "{with_name} !< {alone}");
        assert!(estimate("zephyrine1987", &["zephyrine"], 128).0 <= 1);
        assert_eq!(estimate("vT9#qLm2$Rz8!wXk", &[], 128), Strength(4));
        assert_eq!(estimate("", &[], 128), Strength(0));
    }
}
