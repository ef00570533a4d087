//! Phone numbers for SMS codes: validated and stored as E.164 (`+447400123456`) with
//! Google's libphonenumber rules (the `phonenumber` crate), a country as the hint for
//! numbers typed without their `+` prefix, and masked when shown.
use phonenumber::country;
use phonenumber::Mode;

/// Why a typed number was refused, for the form.
pub const INVALID: &str =
    "Enter a mobile number we can send a text message to, such as +44 7400 123456.";

/// The number in E.164, or why not. `country` is an ISO 3166 code such as `GB`, used
/// only when the number has no `+` prefix.
pub fn normalize(input: &str, country_hint: &str) -> Result<String, &'static str> {
    let input = input.trim();
    if input.is_empty() {
        return Err("Enter your mobile number.");
    }
    if input.len() > 32 {
        return Err(INVALID);
    }
    let hint = country_hint
        .trim()
        .to_ascii_uppercase()
        .parse::<country::Id>()
        .ok();
    if hint.is_none() && !input.starts_with('+') {
        return Err("Choose your country, or start the number with + and its country code.");
    }
    let number = phonenumber::parse(hint, input).map_err(|_| INVALID)?;
    if !number.is_valid() {
        return Err(INVALID);
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// `+447400123456` as `+44 •••• ••• 456`: the country code and the last three digits
/// stay, the digits between are hidden (so the number's length barely shows).
pub fn mask(e164: &str) -> String {
    let Ok(number) = phonenumber::parse(None, e164) else {
        return "•••".into();
    };
    let national = number.national().to_string();
    let shown = national.len().min(3);
    let hidden = national.len() - shown;
    let dots = if hidden > 4 {
        format!("{} {}", "•".repeat(4), "•".repeat(hidden - 4))
    } else {
        "•".repeat(hidden)
    };
    format!(
        "+{} {dots} {}",
        number.code().value(),
        &national[national.len() - shown..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stored_in_e164() {
        assert_eq!(
            normalize("07400 123456", "GB").as_deref(),
            Ok("+447400123456")
        );
        assert_eq!(
            normalize("+44 7400 123456", "").as_deref(),
            Ok("+447400123456")
        );
        assert_eq!(
            normalize("+44 7400-123456", "US").as_deref(),
            Ok("+447400123456"),
            "+ wins over the hint"
        );
        assert_eq!(
            normalize("(201) 555-0123", "us").as_deref(),
            Ok("+12015550123")
        );
        assert_eq!(
            normalize("030 1234567", "DE").as_deref(),
            Ok("+49301234567")
        );
    }

    #[test]
    fn numbers_that_cannot_be_dialled_are_refused() {
        assert_eq!(normalize("", "GB"), Err("Enter your mobile number."));
        assert_eq!(normalize("12", "GB"), Err(INVALID));
        assert_eq!(normalize("not a number", "GB"), Err(INVALID));
        assert_eq!(normalize("+44 7700", "GB"), Err(INVALID));
        assert!(
            normalize("07400 123456", "").is_err(),
            "no country and no +"
        );
        assert!(
            normalize("07400 123456", "ZZ").is_err(),
            "an unknown country"
        );
        // Ofcom's range for drama is not a number anyone can be texted at.
        assert_eq!(normalize("07700 900123", "GB"), Err(INVALID));
        assert_eq!(normalize(&"1".repeat(40), "GB"), Err(INVALID));
    }

    #[test]
    fn numbers_are_masked_to_the_country_code_and_last_three_digits() {
        assert_eq!(mask("+447400123456"), "+44 •••• ••• 456");
        assert_eq!(mask("+12015550123"), "+1 •••• ••• 123");
        assert_eq!(mask("+33612345678"), "+33 •••• •• 678");
        assert_eq!(mask("garbage"), "•••");
    }
}
