//! Phone numbers for SMS codes: validated and stored as E.164 (`+447400123456`) with
//! Google's libphonenumber rules (the `phonenumber` crate), a country as the hint for
//! numbers typed without their `+` prefix, and masked when shown.
use phonenumber::country;
use phonenumber::Mode;

/// Why a typed number was refused, for the form.
pub const INVALID: &str =
    "Enter a mobile number we can send a text message to, such as +44 7400 123456.";

/// Why a number that is not a mobile one was refused.
pub const NOT_MOBILE: &str =
    "This does not look like a mobile number. Enter the number of a phone that can receive text messages.";
/// Why a number of a country the operator does not text was refused.
pub const NOT_OFFERED: &str =
    "We do not send text messages to numbers of this country. Choose another method, such as an authenticator app.";

/// The number in E.164, or why not. `country` is an ISO 3166 code such as `GB`, used
/// only when the number has no `+` prefix. Only mobile numbers (and numbers that may
/// be mobile, as in the US) of the `allowed` countries are accepted: a fixed, premium
/// or shared-cost line, or a far destination, is how SMS toll fraud is paid.
pub fn normalize(
    input: &str,
    country_hint: &str,
    allowed: &[String],
) -> Result<String, &'static str> {
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
    if !matches!(
        number.number_type(&phonenumber::metadata::DATABASE),
        phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile
    ) {
        return Err(NOT_MOBILE);
    }
    let region = number.country().id();
    if !region.is_some_and(|id| allowed.iter().any(|a| a.as_str() == id.as_ref())) {
        return Err(NOT_OFFERED);
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

    /// The default list of countries.
    fn everywhere() -> Vec<String> {
        crate::model::mfa::SMS_COUNTRIES
            .iter()
            .map(|(id, _, _)| id.to_string())
            .collect()
    }

    fn normalize(input: &str, hint: &str) -> Result<String, &'static str> {
        super::normalize(input, hint, &everywhere())
    }

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
            normalize("0151 23456789", "DE").as_deref(),
            Ok("+4915123456789")
        );
    }

    #[test]
    fn only_mobile_numbers_are_texted() {
        // A London landline, a Berlin one, a UK premium-rate and a freephone number.
        assert_eq!(normalize("020 7946 0018", "GB"), Err(NOT_MOBILE));
        assert_eq!(normalize("030 1234567", "DE"), Err(NOT_MOBILE));
        assert_eq!(normalize("0909 8790000", "GB"), Err(NOT_MOBILE));
        assert_eq!(normalize("0800 123 4567", "GB"), Err(NOT_MOBILE));
        // In the US a number may be either: it is accepted.
        assert!(normalize("+1 201 555 0123", "").is_ok());
    }

    #[test]
    fn only_numbers_of_the_allowed_countries_are_texted() {
        // A Russian and a Nigerian mobile number: not in the default list.
        assert_eq!(normalize("+7 912 345 67 89", ""), Err(NOT_OFFERED));
        assert_eq!(normalize("+234 802 123 4567", ""), Err(NOT_OFFERED));
        // The operator narrowed the list to the UK.
        let uk = vec!["GB".to_string()];
        assert!(super::normalize("+44 7400 123456", "", &uk).is_ok());
        assert_eq!(
            super::normalize("+1 201 555 0123", "", &uk),
            Err(NOT_OFFERED)
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
