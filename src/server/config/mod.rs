//! Runtime settings: `Leptos.toml`, each value overridable by `LATCHKEY_<SECTION>_<KEY>`.
//! One file per section of the settings file, each with its own validation and tests;
//! this one reads the file, puts the sections together and holds what they share.
mod accounts;
mod api;
mod database;
pub mod geoip;
mod log;
mod mail;
mod mfa;
mod password;
mod server;
mod session;
mod sms;
mod source;

pub use accounts::Accounts;
pub use api::{Api, Tokens};
pub use database::Database;
pub use geoip::Geoip;
pub use log::Log;
pub use mail::{Mail, MailTransport, SmtpTls};
pub use mfa::Mfa;
pub use password::Password;
pub use server::Server;
pub use session::Session;
pub use sms::{Sms, SmsTransport};
use source::Source;
use std::collections::HashMap;
use std::path::Path;
use url::Url;

/// A setting that must never reach a log: `Debug` prints `[redacted]`; the value is
/// reached through `Deref`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

impl<T> std::ops::Deref for Redacted<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub server: Server,
    pub database: Database,
    pub session: Session,
    pub password: Password,
    pub accounts: Accounts,
    pub mfa: Mfa,
    pub mail: Mail,
    pub sms: Sms,
    pub geoip: Geoip,
    pub log: Log,
    pub tokens: Tokens,
    pub api: Api,
}

impl Config {
    /// Whether a `Host` header names this server as `public_base_url` does (an explicit
    /// default port included).
    pub fn is_public_host(&self, host: &str) -> bool {
        let url = &self.server.public_base_url;
        let Some(name) = url.host_str() else {
            return false;
        };
        let (given_name, given_port) = match host.rsplit_once(':') {
            Some((n, _)) if !n.ends_with(']') && n.contains(':') => (host, None),
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        };
        let port_ok = match given_port {
            None => url.port().is_none(),
            Some(p) => p.parse::<u16>().ok() == url.port_or_known_default(),
        };
        given_name.eq_ignore_ascii_case(name) && port_ok
    }

    pub fn is_https(&self) -> bool {
        self.server.public_base_url.scheme() == "https"
    }

    /// `scheme://host[:port]` of the public base URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.server.public_base_url.origin().ascii_serialization()
    }

    /// An absolute link into the app.
    pub fn link(&self, path_and_query: &str) -> String {
        let base = self.server.public_base_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigError {}

/// The environment variable that overrides a setting.
pub fn env_name(key: &str) -> String {
    format!("LATCHKEY_{}", key.replace('.', "_").to_uppercase())
}

impl Config {
    /// Reads the settings file named by `LATCHKEY_CONFIG` (default `Leptos.toml`) and the
    /// process environment.
    pub fn from_process() -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let path = env
            .get("LATCHKEY_CONFIG")
            .cloned()
            .unwrap_or_else(|| "Leptos.toml".into());
        Config::load(Path::new(&path), &env)
    }

    pub fn load(path: &Path, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!("cannot read settings file {}: {e}", path.display()))
        })?;
        Config::parse(&text, &path.display().to_string(), env)
    }

    pub fn parse(
        text: &str,
        file: &str,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e| ConfigError(format!("{file} is not valid TOML: {e}")))?;
        let src = Source {
            file: file.to_string(),
            table,
            env,
        };
        let mode = src.choice(
            "server.mode",
            &[
                ("development", Mode::Development),
                ("production", Mode::Production),
            ],
        )?;
        Ok(Config {
            mode,
            server: Server::parse(&src, mode)?,
            database: Database::parse(&src, mode)?,
            session: Session::parse(&src)?,
            password: Password::parse(&src)?,
            accounts: Accounts::parse(&src)?,
            mfa: Mfa::parse(&src)?,
            mail: Mail::parse(&src, mode)?,
            sms: Sms::parse(&src, mode)?,
            geoip: Geoip::parse(&src)?,
            log: Log::parse(&src)?,
            tokens: Tokens::parse(&src)?,
            api: Api::parse(&src)?,
        })
    }

    /// Fills in the development secret: read from `data_dir/secret.key`, or generated
    /// and kept there. Production configurations always carry their own.
    pub fn resolve_secret(&mut self) -> Result<(), ConfigError> {
        if !self.server.secret.is_empty() {
            return Ok(());
        }
        let path = self.server.data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            self.server.secret = Redacted(server::parse_secret(&text).ok_or_else(|| {
                ConfigError(format!(
                    "{} does not hold a valid secret; delete it to make a new one",
                    path.display()
                ))
            })?);
            return Ok(());
        }
        let bytes: [u8; 32] = rand::random();
        std::fs::create_dir_all(&self.server.data_dir).map_err(|e| {
            ConfigError(format!(
                "cannot create {}: {e}",
                self.server.data_dir.display()
            ))
        })?;
        write_private(&path, &hex::encode(bytes))
            .map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
        self.server.secret = Redacted(bytes.to_vec());
        Ok(())
    }
}

/// A host name or address that only this machine answers to.
pub(crate) fn is_loopback_name(host: &str) -> bool {
    let host = host.trim();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A base URL that only this machine can reach: production may then use plain http
/// (a local test of the production settings), development is allowed at all.
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        // A URL of a scheme the url crate does not know (postgres://) keeps even an
        // IP address as text.
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(content.as_bytes())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::password::PasswordPolicy;

    pub(crate) const FILE: &str = include_str!("../../../Leptos.toml");

    pub(crate) fn parse(env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::parse(FILE, "Leptos.toml", &env)
    }

    #[test]
    fn the_shipped_file_is_valid_and_development() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.mode, Mode::Development);
        assert_eq!(c.password.policy, PasswordPolicy::default());
        assert_eq!(c.session.idle_secs, 30 * 60);
        assert_eq!(c.session.absolute_secs, 12 * 3600);
        assert_eq!(c.password.rotation_reminder_days, 182);
        assert_eq!(c.accounts.reset_link_secs, 3600);
        assert_eq!(c.session.reauth_secs, 600);
        assert_eq!(
            c.mfa.code_rules,
            crate::server::domain::sent_code::CodeRules::default()
        );
        assert!(matches!(c.mail.transport, MailTransport::Outbox));
        assert!(!c.is_https());
    }

    #[test]
    fn environment_overrides_the_file() {
        let c = parse(&[
            ("LATCHKEY_PASSWORD_MIN_LENGTH", "8"),
            ("LATCHKEY_PASSWORD_REQUIRE_SPECIAL", "false"),
            ("LATCHKEY_SERVER_MODE", "production"),
            ("LATCHKEY_SERVER_SECRET", "cd".repeat(32).leak() as &str),
            (
                "LATCHKEY_SERVER_PUBLIC_BASE_URL",
                "https://account.example.com",
            ),
            ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
            ("LATCHKEY_MAIL_SMTP_TLS", "none"),
            ("LATCHKEY_MAIL_SMTP_PORT", "2525"),
        ])
        .unwrap();
        assert_eq!(c.password.policy.min_length, 8);
        assert!(!c.password.policy.require_special);
        assert!(c.is_https());
        assert_eq!(c.public_origin(), "https://account.example.com");
        match c.mail.transport {
            MailTransport::Smtp { port, tls, .. } => {
                assert_eq!(port, 2525);
                assert_eq!(tls, SmtpTls::None);
            }
            _ => panic!("expected smtp"),
        }
    }

    /// Issue 22: plain SMTP in production only to a server on this machine.
    #[test]
    fn invalid_values_name_the_setting() {
        let e = parse(&[("LATCHKEY_SESSION_IDLE_TIMEOUT_MINUTES", "soon")]).unwrap_err();
        assert!(e.0.contains("session.idle_timeout_minutes"), "{e}");
        assert!(e.0.contains("LATCHKEY_SESSION_IDLE_TIMEOUT_MINUTES"), "{e}");
        let e = parse(&[("LATCHKEY_MAIL_TRANSPORT", "pigeon")]).unwrap_err();
        assert!(e.0.contains("mail.transport"), "{e}");
        let e = parse(&[("LATCHKEY_PASSWORD_MIN_LENGTH", "4")]).unwrap_err();
        assert!(e.0.contains("password.min_length"), "{e}");
    }

    #[test]
    fn missing_values_name_the_setting() {
        let text = FILE.replace("idle_timeout_minutes = 30", "");
        let e = Config::parse(&text, "Leptos.toml", &HashMap::new()).unwrap_err();
        assert!(
            e.0.contains("`session.idle_timeout_minutes`") && e.0.contains("missing"),
            "{e}"
        );
    }

    #[test]
    fn production_needs_https_and_smtp() {
        let prod = [
            ("LATCHKEY_SERVER_MODE", "production"),
            ("LATCHKEY_SERVER_SECRET", "ab".repeat(32).leak() as &str),
            ("LATCHKEY_SERVER_LISTEN", "0.0.0.0:3000"),
            ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all = prod.to_vec();
            all.extend_from_slice(extra);
            parse(&all)
        };
        let e = with(&[(
            "LATCHKEY_SERVER_PUBLIC_BASE_URL",
            "http://account.example.com",
        )])
        .unwrap_err();
        assert!(e.0.contains("https"), "{e}");
        let e = with(&[
            (
                "LATCHKEY_SERVER_PUBLIC_BASE_URL",
                "https://account.example.com",
            ),
            ("LATCHKEY_MAIL_TRANSPORT", "outbox"),
        ])
        .unwrap_err();
        assert!(e.0.contains("mail.transport"), "{e}");
        assert!(with(&[(
            "LATCHKEY_SERVER_PUBLIC_BASE_URL",
            "https://account.example.com"
        )])
        .is_ok());
        // A production setup tried out on this machine only may use plain http.
        assert!(with(&[("LATCHKEY_SERVER_PUBLIC_BASE_URL", "http://127.0.0.1:3000")]).is_ok());
    }

    #[test]
    fn debug_output_never_shows_the_secret_or_the_smtp_password() {
        let secret = "ab".repeat(32);
        let c = parse(&[
            ("LATCHKEY_SERVER_SECRET", &secret),
            ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
            ("LATCHKEY_MAIL_SMTP_PASSWORD", "hunter2-smtp"),
        ])
        .unwrap();
        assert_eq!(c.server.secret.len(), 32);
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2-smtp"), "{shown}");
        // Neither as hex nor as the list of byte values Vec<u8> would print.
        assert!(!shown.contains(&"ab".repeat(32)), "{shown}");
        assert!(!shown.contains("171, 171"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }
}
