//! Email addresses as accounts know them.
use email_address::EmailAddress;
use std::str::FromStr;
use unicode_normalization::UnicodeNormalization;

/// Checks an address typed by a user and gives its canonical form (trimmed, lower case).
pub fn normalize(input: &str) -> Result<String, &'static str> {
    // NFC first: "é" typed as one character or as "e" and an accent is one address.
    let composed: String = input.trim().nfc().collect();
    let trimmed = composed.as_str();
    if trimmed.is_empty() {
        return Err("Enter your email address.");
    }
    if trimmed.len() > 254 {
        return Err("This email address is too long.");
    }
    match EmailAddress::from_str(trimmed) {
        Ok(addr) if addr.email() == trimmed && addr.domain().contains('.') => {
            Ok(trimmed.to_lowercase())
        }
        _ => Err("Enter a valid email address, like name@example.com."),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn composes_unicode_before_comparing() {
        let decomposed = "Jose\u{301}@example.com";
        let composed = "jos\u{e9}@example.com";
        assert_eq!(normalize(decomposed).as_deref(), Ok(composed));
        assert_eq!(normalize("JOS\u{c9}@Example.com").as_deref(), Ok(composed));
    }

    #[test]
    fn accepts_and_canonicalises() {
        assert_eq!(
            normalize("  Ada@Example.COM "),
            Ok("ada@example.com".to_string())
        );
        assert_eq!(
            normalize("a.b+tag@sub.example.org"),
            Ok("a.b+tag@sub.example.org".to_string())
        );
    }

    #[test]
    fn refuses_malformed_input() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "Ada <ada@example.com>",
            "ada@example.com'; DROP TABLE users; --",
            "<script>@x.com",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(normalize(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
