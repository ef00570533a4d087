//! `[sms]`: the text-message provider, the countries texted, and the server's budget.
use super::source::Source;
use super::{is_loopback_host, ConfigError, Mode, Redacted};
use url::Url;

/// Where text messages go.
#[derive(Clone, Debug)]
pub enum SmsTransport {
    /// No SMS: production without a provider. The SMS Code method is not offered.
    Off,
    /// Development without a provider: the outbox at /dev/mail.
    Outbox,
    /// A Twilio-compatible Messages API.
    Provider {
        url: String,
        account_sid: String,
        auth_token: Redacted<String>,
        from: String,
    },
}

#[derive(Clone, Debug)]
pub struct Sms {
    pub transport: SmsTransport,
    /// The country assumed for a phone number typed without its `+` prefix.
    pub default_country: String,
    /// The countries whose (mobile) numbers may receive SMS codes, as ISO codes.
    pub countries: Vec<String>,
    /// How many text messages the whole server sends in an hour, and in a day, at most.
    pub max_per_hour: u32,
    pub max_per_day: u32,
}

impl Sms {
    pub(super) fn parse(src: &Source, mode: Mode) -> Result<Sms, ConfigError> {
        let provider_url = src.string("sms.provider_url")?;
        let sms = if provider_url.trim().is_empty() {
            match mode {
                Mode::Development => SmsTransport::Outbox,
                Mode::Production => SmsTransport::Off,
            }
        } else {
            if !(provider_url.starts_with("https://") || provider_url.starts_with("http://"))
                || Url::parse(&provider_url).is_err()
            {
                return Err(src.error(
                    "sms.provider_url",
                    "must be the provider's base URL, such as https://api.twilio.com",
                ));
            }
            let need = |key: &str| -> Result<String, ConfigError> {
                let v = src.string(key)?;
                if v.trim().is_empty() {
                    Err(src.error(key, "must be set when sms.provider_url is"))
                } else {
                    Ok(v)
                }
            };
            SmsTransport::Provider {
                url: provider_url,
                account_sid: need("sms.account_sid")?,
                auth_token: Redacted(need("sms.auth_token")?),
                from: need("sms.from")?,
            }
        };
        let sms_default_country = src
            .string("sms.default_country")?
            .trim()
            .to_ascii_uppercase();
        if sms_default_country.len() != 2
            || sms_default_country
                .parse::<phonenumber::country::Id>()
                .is_err()
        {
            return Err(src.error(
                "sms.default_country",
                "must be a two-letter country code such as GB or US",
            ));
        }
        let mut sms_countries = Vec::new();
        for c in src.list("sms.countries")? {
            let c = c.to_ascii_uppercase();
            if c.len() != 2 || c.parse::<phonenumber::country::Id>().is_err() {
                return Err(src.error(
                    "sms.countries",
                    &format!(
                        "has \"{c}\", which is not a two-letter country code such as GB or US"
                    ),
                ));
            }
            sms_countries.push(c);
        }
        if sms_countries.is_empty() {
            sms_countries = crate::model::mfa::SMS_COUNTRIES
                .iter()
                .map(|(id, _, _)| id.to_string())
                .collect();
        }
        let sms_max_per_hour = src.int("sms.max_per_hour", 1, 1_000_000)? as u32;
        let sms_max_per_day = src.int("sms.max_per_day", 1, 10_000_000)? as u32;
        if mode == Mode::Production
            && matches!(&sms, SmsTransport::Provider { url, .. }
                if !url.starts_with("https://")
                    && !Url::parse(url).is_ok_and(|u| is_loopback_host(&u)))
        {
            return Err(src.error(
                "sms.provider_url",
                "must be an https URL in production mode (codes must not travel in clear)",
            ));
        }
        Ok(Sms {
            transport: sms,
            default_country: sms_default_country,
            countries: sms_countries,
            max_per_hour: sms_max_per_hour,
            max_per_day: sms_max_per_day,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;
    use super::*;

    #[test]
    fn sms_goes_to_the_outbox_in_development_and_needs_a_whole_provider_otherwise() {
        assert!(matches!(
            parse(&[]).unwrap().sms.transport,
            SmsTransport::Outbox
        ));
        assert_eq!(parse(&[]).unwrap().sms.default_country, "GB");
        let provider = [
            ("LATCHKEY_SMS_PROVIDER_URL", "https://api.twilio.com"),
            ("LATCHKEY_SMS_ACCOUNT_SID", "AC1"),
            ("LATCHKEY_SMS_AUTH_TOKEN", "secret-token"),
            ("LATCHKEY_SMS_FROM", "+15005550006"),
        ];
        let c = parse(&provider).unwrap();
        assert!(
            matches!(&c.sms.transport, SmsTransport::Provider { url, .. } if url == "https://api.twilio.com")
        );
        assert!(
            !format!("{c:?}").contains("secret-token"),
            "the token is redacted"
        );
        // A provider without its token, or not a URL, stops the start.
        let without_token: Vec<_> = provider
            .iter()
            .copied()
            .filter(|(k, _)| *k != "LATCHKEY_SMS_AUTH_TOKEN")
            .collect();
        assert!(parse(&without_token).is_err());
        assert!(parse(&[("LATCHKEY_SMS_DEFAULT_COUNTRY", "ZZ")]).is_err());
        assert!(parse(&[("LATCHKEY_SMS_PROVIDER_URL", "api.twilio.com")]).is_err());
        assert!(parse(&[("LATCHKEY_SMS_DEFAULT_COUNTRY", "GBR")]).is_err());
        assert_eq!(
            parse(&[("LATCHKEY_SMS_DEFAULT_COUNTRY", "us")])
                .unwrap()
                .sms
                .default_country,
            "US"
        );
    }
}
