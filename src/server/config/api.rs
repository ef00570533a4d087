//! `[tokens]` and `[api]`: personal access tokens (how long they may live, how often
//! each may call) and the REST API (which other sites' pages may call it, and the keys
//! of the operator's services that may introspect tokens).
use super::source::Source;
use super::{ConfigError, Redacted};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    /// The latest expiry a person may pick, in days from now.
    pub max_days: u32,
    /// Whether "No expiration" is offered.
    pub allow_no_expiry: bool,
    /// Requests per token per minute.
    pub rate_per_minute: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Api {
    /// Origins allowed to call `/api/v1` from a browser (CORS); empty: none.
    pub cors_origins: Vec<String>,
    /// Bearer keys of the operator's services for `POST /api/v1/introspect`.
    pub introspection_keys: Redacted<Vec<String>>,
}

/// An introspection key must be long enough that it cannot be guessed.
const MIN_KEY_LEN: usize = 32;

impl Tokens {
    pub(super) fn parse(src: &Source) -> Result<Tokens, ConfigError> {
        Ok(Tokens {
            max_days: src.int("tokens.max_days", 7, 3660)? as u32,
            allow_no_expiry: src.bool("tokens.allow_no_expiry")?,
            rate_per_minute: src.int("tokens.rate_per_minute", 1, 1_000_000)? as u32,
        })
    }
}

impl Api {
    pub(super) fn parse(src: &Source) -> Result<Api, ConfigError> {
        let cors_origins = src.list("api.cors_origins")?;
        for o in &cors_origins {
            let ok = url::Url::parse(o).is_ok_and(|u| {
                matches!(u.scheme(), "https" | "http")
                    && u.host_str().is_some()
                    && u.path() == "/"
                    && !o.ends_with('/')
            });
            if !ok {
                return Err(src.error(
                    "api.cors_origins",
                    "must list origins such as \"https://app.example.com\" (scheme, host and port only)",
                ));
            }
        }
        let keys = src.list("api.introspection_keys")?;
        if keys.iter().any(|k| k.len() < MIN_KEY_LEN) {
            return Err(src.error(
                "api.introspection_keys",
                &format!("must hold keys of at least {MIN_KEY_LEN} characters"),
            ));
        }
        Ok(Api {
            cors_origins,
            introspection_keys: Redacted(keys),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

    #[test]
    fn token_limits_and_api_settings_are_read_and_checked() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.tokens.max_days, 366);
        assert!(!c.tokens.allow_no_expiry);
        assert_eq!(c.tokens.rate_per_minute, 600);
        assert!(c.api.cors_origins.is_empty());
        assert!(c.api.introspection_keys.is_empty());
        let c = parse(&[
            (
                "LATCHKEY_API_CORS_ORIGINS",
                "https://app.example.com, http://localhost:8080",
            ),
            ("LATCHKEY_API_INTROSPECTION_KEYS", &"k".repeat(32)),
        ])
        .unwrap();
        assert_eq!(c.api.cors_origins.len(), 2);
        assert_eq!(c.api.introspection_keys.len(), 1);
        assert!(format!("{:?}", c.api).contains("[redacted]"));
        let e =
            parse(&[("LATCHKEY_API_CORS_ORIGINS", "https://app.example.com/path")]).unwrap_err();
        assert!(e.0.contains("api.cors_origins"), "{e}");
        let e = parse(&[("LATCHKEY_API_INTROSPECTION_KEYS", "short")]).unwrap_err();
        assert!(e.0.contains("api.introspection_keys"), "{e}");
        let e = parse(&[("LATCHKEY_TOKENS_RATE_PER_MINUTE", "0")]).unwrap_err();
        assert!(e.0.contains("tokens.rate_per_minute"), "{e}");
    }
}
