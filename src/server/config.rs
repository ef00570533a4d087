//! Runtime settings: `Leptos.toml`, each value overridable by `LATCHKEY_<SECTION>_<KEY>`.
use crate::model::password::PasswordPolicy;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

#[derive(Clone, Debug)]
pub enum MailTransport {
    Outbox,
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        username: String,
        password: Redacted<String>,
    },
}

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
pub struct Config {
    pub mode: Mode,
    pub listen: SocketAddr,
    pub public_base_url: Url,
    /// Raw secret bytes; empty means "generate one" (development only, see `resolve_secret`).
    pub secret: Redacted<Vec<u8>>,
    /// Secrets used before `secret`, newest first: what was sealed or peppered under
    /// them still opens and verifies (and is moved to the current secret when used).
    pub previous_secrets: Redacted<Vec<Vec<u8>>>,
    pub data_dir: PathBuf,
    pub site_root: String,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where the Have I Been Pwned range API answers; `None`: the check is off.
    pub pwned_api: Option<Url>,
    pub forwarded_header: crate::server::domain::client_address::ForwardedHeader,
    pub database_url: Redacted<String>, // may hold the database password
    pub database_max_connections: u32,
    /// Password hashes computed at once by this instance (0: one per core).
    pub hash_threads: usize,
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    /// How long a proof of identity is remembered on the session (the recent-proof rule).
    pub session_reauth_secs: i64,
    pub password: PasswordPolicy,
    pub rotation_reminder_days: i64,
    pub verification_link_secs: i64,
    /// Sign-ups allowed from one address an hour before a wait.
    pub sign_ups_per_address: u32,
    pub reset_link_secs: i64,
    /// The issuer shown in authenticator apps.
    pub totp_issuer: String,
    /// Codes sent by email or SMS: lifetime, resend interval, wrong tries.
    pub code_rules: crate::server::domain::sent_code::CodeRules,
    pub mail_from: String,
    pub mail: MailTransport,
    pub sms: SmsTransport,
    /// The country assumed for a phone number typed without its `+` prefix.
    pub sms_default_country: String,
    /// The countries whose (mobile) numbers may receive SMS codes, as ISO codes.
    pub sms_countries: Vec<String>,
    /// How many text messages the whole server sends in an hour, and in a day, at most.
    pub sms_max_per_hour: u32,
    pub sms_max_per_day: u32,
    /// Security-log events older than this are removed.
    pub log_retention_secs: i64,
    /// The GeoIP City database, if any.
    pub geoip_database: Option<PathBuf>,
}

impl Config {
    /// Whether a `Host` header names this server as `public_base_url` does (an explicit
    /// default port included).
    pub fn is_public_host(&self, host: &str) -> bool {
        let url = &self.public_base_url;
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
        self.public_base_url.scheme() == "https"
    }

    /// `scheme://host[:port]` of the public base URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_base_url.origin().ascii_serialization()
    }

    /// An absolute link into the app.
    pub fn link(&self, path_and_query: &str) -> String {
        let base = self.public_base_url.as_str().trim_end_matches('/');
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

struct Source<'a> {
    file: String,
    table: toml::Table,
    env: &'a HashMap<String, String>,
}

enum Raw {
    Env(String),
    File(toml::Value),
}

impl Source<'_> {
    fn raw(&self, key: &str) -> Option<Raw> {
        if let Some(v) = self.env.get(&env_name(key)) {
            return Some(Raw::Env(v.clone()));
        }
        let (section, name) = key.split_once('.')?;
        self.table
            .get(section)?
            .as_table()?
            .get(name)
            .cloned()
            .map(Raw::File)
    }

    fn error(&self, key: &str, problem: &str) -> ConfigError {
        ConfigError(format!(
            "setting `{key}` (in {} or the environment variable {}) {problem}",
            self.file,
            env_name(key)
        ))
    }

    fn string(&self, key: &str) -> Result<String, ConfigError> {
        match self.raw(key) {
            None => Err(self.error(key, "is missing")),
            Some(Raw::Env(s)) => Ok(s),
            Some(Raw::File(toml::Value::String(s))) => Ok(s),
            Some(Raw::File(_)) => Err(self.error(key, "must be a quoted string")),
        }
    }

    fn int(&self, key: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
        let value = match self.raw(key) {
            None => return Err(self.error(key, "is missing")),
            Some(Raw::Env(s)) => s.trim().parse::<i64>().ok(),
            Some(Raw::File(toml::Value::Integer(i))) => Some(i),
            Some(Raw::File(_)) => None,
        };
        match value {
            Some(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(self.error(key, &format!("must be a whole number from {min} to {max}"))),
        }
    }

    fn bool(&self, key: &str) -> Result<bool, ConfigError> {
        match self.raw(key) {
            None => Err(self.error(key, "is missing")),
            Some(Raw::Env(s)) => match s.trim() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(self.error(key, "must be true or false")),
            },
            Some(Raw::File(toml::Value::Boolean(b))) => Ok(b),
            Some(Raw::File(_)) => Err(self.error(key, "must be true or false")),
        }
    }

    /// A list: an array of strings in the file, or a comma-separated environment variable.
    fn list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        match self.raw(key) {
            None => Err(self.error(key, "is missing")),
            Some(Raw::Env(s)) => Ok(s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()),
            Some(Raw::File(toml::Value::Array(items))) => items
                .into_iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.trim().to_string()),
                    _ => Err(self.error(key, "must be a list of quoted strings")),
                })
                .collect(),
            Some(Raw::File(_)) => Err(self.error(key, "must be a list of quoted strings")),
        }
    }

    fn choice<T: Copy>(&self, key: &str, options: &[(&str, T)]) -> Result<T, ConfigError> {
        let s = self.string(key)?;
        options
            .iter()
            .find(|(name, _)| *name == s.trim())
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                self.error(key, &format!("must be one of {}", names.join(", ")))
            })
    }
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
        let listen = src
            .string("server.listen")?
            .parse::<SocketAddr>()
            .map_err(|_| {
                src.error(
                    "server.listen",
                    "must be an address and port such as 127.0.0.1:3000",
                )
            })?;
        let public_base_url = Url::parse(&src.string("server.public_base_url")?)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| src.error("server.public_base_url", "must be an http or https URL"))?;
        let trusted_proxies = src
            .list("server.trusted_proxies")?
            .iter()
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        src.error(
                            "server.trusted_proxies",
                            &format!("has \"{entry}\", which is not an IP address or CIDR range"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let forwarded_header = {
            use crate::server::domain::client_address::ForwardedHeader;
            src.choice(
                "server.forwarded_header",
                &[
                    ("x-forwarded-for", ForwardedHeader::XForwardedFor),
                    ("forwarded", ForwardedHeader::Forwarded),
                ],
            )?
        };
        let secret_hex = src.string("server.secret")?;
        let secret = if secret_hex.trim().is_empty() {
            if mode == Mode::Production {
                return Err(src.error(
                    "server.secret",
                    "is required in production mode (64 or more hexadecimal characters)",
                ));
            }
            Redacted::default()
        } else {
            Redacted(parse_secret(&secret_hex).ok_or_else(|| {
                src.error("server.secret", "must be 64 or more hexadecimal characters")
            })?)
        };
        let pwned_api = if src.bool("password.pwned_check")? {
            Some(
                Url::parse(&src.string("password.pwned_api")?)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        src.error("password.pwned_api", "must be an http or https URL")
                    })?,
            )
        } else {
            None
        };
        let previous_secrets = Redacted(
            src.list("server.previous_secrets")?
                .iter()
                .map(|hex| {
                    parse_secret(hex).ok_or_else(|| {
                        src.error(
                            "server.previous_secrets",
                            "must hold secrets of 64 or more hexadecimal characters each",
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        );
        let data_dir = PathBuf::from(src.string("server.data_dir")?);
        let site_root = src.string("server.site_root")?;

        let database_url = src.string("database.url")?;
        if crate::server::store::Backend::of_url(&database_url).is_none() {
            return Err(src.error(
                "database.url",
                "must start with sqlite: (embedded) or postgres:// (shared by several instances)",
            ));
        }
        let database_max_connections = src.int("database.max_connections", 1, 512)? as u32;
        let hash_threads = src.int("server.hash_threads", 0, 256)? as usize;

        let session_idle_secs = src.int("session.idle_timeout_minutes", 1, 60 * 24 * 30)? * 60;
        let session_absolute_secs = src.int("session.absolute_timeout_hours", 1, 24 * 365)? * 3600;
        let session_reauth_secs = src.int("session.reauth_seconds", 5, 24 * 3600)?;
        if session_absolute_secs < session_idle_secs {
            return Err(src.error(
                "session.absolute_timeout_hours",
                "must not be shorter than session.idle_timeout_minutes",
            ));
        }

        let min_length = src.int("password.min_length", 8, 128)? as usize;
        let max_length = src.int("password.max_length", 64, 128)? as usize;
        if max_length < min_length {
            return Err(src.error(
                "password.max_length",
                "must not be below password.min_length",
            ));
        }
        let password = PasswordPolicy {
            min_length,
            max_length,
            require_uppercase: src.bool("password.require_uppercase")?,
            require_lowercase: src.bool("password.require_lowercase")?,
            require_digit: src.bool("password.require_digit")?,
            require_special: src.bool("password.require_special")?,
            min_strength: src.int("password.min_strength", 0, 4)? as u8,
        };

        let rotation_reminder_days = src.int("password.rotation_reminder_days", 0, 3650)?;
        let sign_ups_per_address = src.int("accounts.sign_ups_per_address", 1, 100_000)? as u32;
        let verification_link_secs =
            src.int("accounts.verification_link_hours", 1, 24 * 14)? * 3600;
        let reset_link_secs = src.int("accounts.reset_link_seconds", 5, 24 * 3600)?;
        let code_rules = crate::server::domain::sent_code::CodeRules {
            // The security standard: sent codes expire within 10 minutes, and one
            // survives at most 5 wrong tries.
            ttl_secs: src.int("mfa.code_ttl_seconds", 60, 600)?,
            resend_secs: src.int("mfa.code_resend_seconds", 1, 600)?,
            max_failures: src.int("mfa.code_max_tries", 1, 5)?,
        };
        if code_rules.resend_secs > code_rules.ttl_secs {
            // Otherwise a code could expire while no new one may be sent yet.
            return Err(src.error(
                "mfa.code_resend_seconds",
                "must not be longer than mfa.code_ttl_seconds",
            ));
        }
        let totp_issuer = src.string("mfa.totp_issuer")?;
        if totp_issuer.trim().is_empty() || totp_issuer.contains(':') || totp_issuer.len() > 64 {
            return Err(src.error("mfa.totp_issuer", "must be a short name without a colon"));
        }

        let mail_from = src.string("mail.from")?;
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(src.error(
                "mail.from",
                "must be an address such as \"Latchkey <no-reply@example.com>\"",
            ));
        }
        let transport = src.choice("mail.transport", &[("outbox", false), ("smtp", true)])?;
        let mail = if transport {
            let host = src.string("mail.smtp_host")?;
            if host.trim().is_empty() {
                return Err(src.error("mail.smtp_host", "must name the SMTP server"));
            }
            MailTransport::Smtp {
                host,
                port: src.int("mail.smtp_port", 1, 65535)? as u16,
                tls: src.choice(
                    "mail.smtp_tls",
                    &[
                        ("none", SmtpTls::None),
                        ("starttls", SmtpTls::StartTls),
                        ("tls", SmtpTls::Tls),
                    ],
                )?,
                username: src.string("mail.smtp_username")?,
                password: Redacted(src.string("mail.smtp_password")?),
            }
        } else {
            MailTransport::Outbox
        };
        let base_is_loopback = is_loopback_host(&public_base_url);

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
        let log_retention_secs = src.int("log.retention_days", 1, 36500)? * 24 * 3600;
        let geoip_database = Some(src.string("geoip.database")?.trim().to_string())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        match mode {
            // /dev/mail shows every emailed link to whoever can reach it.
            Mode::Development if !listen.ip().is_loopback() => {
                return Err(src.error(
                    "server.listen",
                    "must be a loopback address (127.0.0.1 or ::1) in development mode, which shows every emailed link at /dev/mail; set server.mode = \"production\" to listen elsewhere",
                ))
            }
            Mode::Development if !base_is_loopback => {
                return Err(src.error(
                    "server.public_base_url",
                    "must name this machine (127.0.0.1, ::1 or localhost) in development mode; set server.mode = \"production\" for a public address",
                ))
            }
            Mode::Production if public_base_url.scheme() != "https" && !base_is_loopback => {
                return Err(src.error(
                    "server.public_base_url",
                    "must be an https URL in production mode (sessions and links must not travel in clear)",
                ))
            }
            Mode::Production if !database_travels_safely(&database_url) => {
                return Err(src.error(
                    "database.url",
                    "must ask for TLS (sslmode=require, verify-ca or verify-full) in production mode when PostgreSQL is on another machine",
                ))
            }
            Mode::Production
                if matches!(&sms, SmsTransport::Provider { url, .. }
                    if !url.starts_with("https://")
                        && !Url::parse(url).is_ok_and(|u| is_loopback_host(&u))) =>
            {
                return Err(src.error(
                    "sms.provider_url",
                    "must be an https URL in production mode (codes must not travel in clear)",
                ))
            }
            Mode::Production
                if matches!(&mail, MailTransport::Smtp { host, tls: SmtpTls::None, .. }
                    if !is_loopback_name(host)) =>
            {
                return Err(src.error(
                    "mail.smtp_tls",
                    "must be \"starttls\" or \"tls\" in production mode unless the SMTP server is on this machine (sign-in codes and reset links must not travel in clear)",
                ))
            }
            Mode::Production if matches!(mail, MailTransport::Outbox) => {
                return Err(src.error(
                    "mail.transport",
                    "must be \"smtp\" in production mode: the outbox keeps sign-in and reset links in clear",
                ))
            }
            _ => {}
        }

        Ok(Config {
            mode,
            listen,
            public_base_url,
            secret,
            previous_secrets,
            data_dir,
            site_root,
            trusted_proxies,
            pwned_api,
            forwarded_header,
            database_url: Redacted(database_url),
            database_max_connections,
            hash_threads,
            session_idle_secs,
            session_absolute_secs,
            session_reauth_secs,
            password,
            rotation_reminder_days,
            verification_link_secs,
            sign_ups_per_address,
            reset_link_secs,
            totp_issuer,
            code_rules,
            mail_from,
            mail,
            sms,
            sms_default_country,
            sms_countries,
            sms_max_per_hour,
            sms_max_per_day,
            log_retention_secs,
            geoip_database,
        })
    }

    /// Fills in the development secret: read from `data_dir/secret.key`, or generated
    /// and kept there. Production configurations always carry their own.
    pub fn resolve_secret(&mut self) -> Result<(), ConfigError> {
        if !self.secret.is_empty() {
            return Ok(());
        }
        let path = self.data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            self.secret = Redacted(parse_secret(&text).ok_or_else(|| {
                ConfigError(format!(
                    "{} does not hold a valid secret; delete it to make a new one",
                    path.display()
                ))
            })?);
            return Ok(());
        }
        let bytes: [u8; 32] = rand::random();
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| ConfigError(format!("cannot create {}: {e}", self.data_dir.display())))?;
        write_private(&path, &hex::encode(bytes))
            .map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
        self.secret = Redacted(bytes.to_vec());
        Ok(())
    }
}

/// A host name or address that only this machine answers to.
fn is_loopback_name(host: &str) -> bool {
    let host = host.trim();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A base URL that only this machine can reach: production may then use plain http
/// (a local test of the production settings), development is allowed at all.
fn is_loopback_host(url: &Url) -> bool {
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

/// SQLite, a PostgreSQL server on this machine (loopback or a Unix socket), or one
/// reached over TLS: what production accepts, so passwords and hashes do not cross a
/// network in clear.
fn database_travels_safely(database_url: &str) -> bool {
    if crate::server::store::Backend::of_url(database_url)
        != Some(crate::server::store::Backend::Postgres)
    {
        return true;
    }
    let Ok(url) = Url::parse(database_url) else {
        return false;
    };
    let tls = url
        .query_pairs()
        .any(|(k, v)| k == "sslmode" && matches!(&*v, "require" | "verify-ca" | "verify-full"));
    let socket = url
        .query_pairs()
        .any(|(k, v)| k == "host" && v.starts_with('/'));
    tls || socket || is_loopback_host(&url)
}

fn parse_secret(text: &str) -> Option<Vec<u8>> {
    let bytes = hex::decode(text.trim()).ok()?;
    (bytes.len() >= 32).then_some(bytes)
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
mod tests {
    use super::*;

    const FILE: &str = include_str!("../../Leptos.toml");

    fn parse(env: &[(&str, &str)]) -> Result<Config, ConfigError> {
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
        assert_eq!(c.password, PasswordPolicy::default());
        assert_eq!(c.session_idle_secs, 30 * 60);
        assert_eq!(c.session_absolute_secs, 12 * 3600);
        assert_eq!(c.rotation_reminder_days, 182);
        assert_eq!(c.reset_link_secs, 3600);
        assert_eq!(c.session_reauth_secs, 600);
        assert_eq!(
            c.code_rules,
            crate::server::domain::sent_code::CodeRules::default()
        );
        assert!(matches!(c.mail, MailTransport::Outbox));
        assert!(!c.is_https());
    }

    #[test]
    fn sms_goes_to_the_outbox_in_development_and_needs_a_whole_provider_otherwise() {
        assert!(matches!(parse(&[]).unwrap().sms, SmsTransport::Outbox));
        assert_eq!(parse(&[]).unwrap().sms_default_country, "GB");
        let provider = [
            ("LATCHKEY_SMS_PROVIDER_URL", "https://api.twilio.com"),
            ("LATCHKEY_SMS_ACCOUNT_SID", "AC1"),
            ("LATCHKEY_SMS_AUTH_TOKEN", "secret-token"),
            ("LATCHKEY_SMS_FROM", "+15005550006"),
        ];
        let c = parse(&provider).unwrap();
        assert!(
            matches!(&c.sms, SmsTransport::Provider { url, .. } if url == "https://api.twilio.com")
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
                .sms_default_country,
            "US"
        );
    }

    #[test]
    fn sent_codes_never_live_longer_than_ten_minutes() {
        assert!(parse(&[("LATCHKEY_MFA_CODE_TTL_SECONDS", "601")]).is_err());
        assert!(parse(&[("LATCHKEY_MFA_CODE_TTL_SECONDS", "0")]).is_err());
        assert!(parse(&[("LATCHKEY_MFA_CODE_MAX_TRIES", "6")]).is_err());
        assert!(parse(&[
            ("LATCHKEY_MFA_CODE_TTL_SECONDS", "120"),
            ("LATCHKEY_MFA_CODE_RESEND_SECONDS", "121"),
        ])
        .is_err());
        let c = parse(&[
            ("LATCHKEY_MFA_CODE_TTL_SECONDS", "300"),
            ("LATCHKEY_MFA_CODE_RESEND_SECONDS", "30"),
        ])
        .unwrap();
        assert_eq!((c.code_rules.ttl_secs, c.code_rules.resend_secs), (300, 30));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_and_empty_by_default() {
        assert!(parse(&[]).unwrap().trusted_proxies.is_empty());
        let c = parse(&[(
            "LATCHKEY_SERVER_TRUSTED_PROXIES",
            "127.0.0.1, 10.1.2.3/8 ,::1",
        )])
        .unwrap();
        let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        let file = FILE.replace(
            "trusted_proxies = []",
            r#"trusted_proxies = ["192.0.2.0/24"]"#,
        );
        let c = Config::parse(&file, "Leptos.toml", &HashMap::new()).unwrap();
        assert_eq!(c.trusted_proxies.len(), 1);
        let err = parse(&[("LATCHKEY_SERVER_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("server.trusted_proxies") && err.contains("proxy.local"),
            "{err}"
        );
        let err = parse(&[("LATCHKEY_SERVER_FORWARDED_HEADER", "x-real-ip")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.forwarded_header"), "{err}");
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
        assert_eq!(c.password.min_length, 8);
        assert!(!c.password.require_special);
        assert!(c.is_https());
        assert_eq!(c.public_origin(), "https://account.example.com");
        match c.mail {
            MailTransport::Smtp { port, tls, .. } => {
                assert_eq!(port, 2525);
                assert_eq!(tls, SmtpTls::None);
            }
            _ => panic!("expected smtp"),
        }
    }

    /// Issue 22: plain SMTP in production only to a server on this machine.
    #[test]
    fn production_refuses_plain_smtp_to_another_machine() {
        let production = |host: &'static str, tls: &'static str| {
            parse(&[
                ("LATCHKEY_SERVER_MODE", "production"),
                ("LATCHKEY_SERVER_SECRET", "cd".repeat(32).leak() as &str),
                (
                    "LATCHKEY_SERVER_PUBLIC_BASE_URL",
                    "https://account.example.com",
                ),
                ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
                ("LATCHKEY_MAIL_SMTP_HOST", host),
                ("LATCHKEY_MAIL_SMTP_TLS", tls),
            ])
        };
        let e = production("smtp.example.com", "none").unwrap_err();
        assert!(e.0.contains("mail.smtp_tls"), "{e}");
        assert!(production("smtp.example.com", "starttls").is_ok());
        assert!(production("smtp.example.com", "tls").is_ok());
        for local in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            assert!(production(local, "none").is_ok(), "{local}");
        }
    }

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
    fn production_needs_a_secret() {
        let e = parse(&[("LATCHKEY_SERVER_MODE", "production")]).unwrap_err();
        assert!(e.0.contains("server.secret"), "{e}");
        let e = parse(&[
            ("LATCHKEY_SERVER_MODE", "production"),
            ("LATCHKEY_SERVER_SECRET", "abcd"),
        ])
        .unwrap_err();
        assert!(e.0.contains("server.secret"), "{e}");
        let ok = parse(&[
            ("LATCHKEY_SERVER_MODE", "production"),
            ("LATCHKEY_SERVER_SECRET", &"ab".repeat(32)),
            ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
        ])
        .unwrap();
        assert_eq!(ok.secret.len(), 32);
    }

    #[test]
    fn development_mode_stays_on_this_machine() {
        let e = parse(&[("LATCHKEY_SERVER_LISTEN", "0.0.0.0:3000")]).unwrap_err();
        assert!(
            e.0.contains("server.listen") && e.0.contains("development"),
            "{e}"
        );
        let e = parse(&[(
            "LATCHKEY_SERVER_PUBLIC_BASE_URL",
            "http://account.example.com",
        )])
        .unwrap_err();
        assert!(e.0.contains("server.public_base_url"), "{e}");
        for local in [
            "http://localhost:3000",
            "http://[::1]:3000",
            "http://127.0.0.2",
        ] {
            assert!(
                parse(&[("LATCHKEY_SERVER_PUBLIC_BASE_URL", local)]).is_ok(),
                "{local}"
            );
        }
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
    fn database_urls_name_a_known_backend_and_production_needs_tls_to_a_remote_postgres() {
        assert!(parse(&[(
            "LATCHKEY_DATABASE_URL",
            "postgres://u:p@127.0.0.1:5432/latchkey"
        )])
        .is_ok());
        let e = parse(&[("LATCHKEY_DATABASE_URL", "mysql://u@db/latchkey")]).unwrap_err();
        assert!(e.0.contains("database.url"), "{e}");
        let prod = |url: &'static str| {
            parse(&[
                ("LATCHKEY_SERVER_MODE", "production"),
                ("LATCHKEY_SERVER_SECRET", "ab".repeat(32).leak() as &str),
                ("LATCHKEY_SERVER_LISTEN", "0.0.0.0:3000"),
                (
                    "LATCHKEY_SERVER_PUBLIC_BASE_URL",
                    "https://account.example.com",
                ),
                ("LATCHKEY_MAIL_TRANSPORT", "smtp"),
                ("LATCHKEY_DATABASE_URL", url),
            ])
        };
        let e = prod("postgres://u:p@db.internal/latchkey").unwrap_err();
        assert!(e.0.contains("sslmode"), "{e}");
        assert!(prod("postgres://u:p@db.internal/latchkey?sslmode=prefer").is_err());
        assert!(prod("postgres://u:p@db.internal/latchkey?sslmode=verify-full").is_ok());
        assert!(prod("postgres://u:p@localhost/latchkey").is_ok());
        assert!(prod("postgres://u:p@127.0.0.1:5432/latchkey").is_ok());
        assert!(prod("postgres://u:p@[::1]:5432/latchkey").is_ok());
        assert!(prod("postgres://u:p@10.0.0.5:5432/latchkey").is_err());
        assert!(prod("postgres:///latchkey?host=/run/postgresql&user=u").is_ok());
        assert!(prod("sqlite://data/latchkey.db").is_ok());
    }

    #[test]
    fn the_public_host_is_the_base_urls() {
        let c = parse(&[]).unwrap();
        assert!(c.is_public_host("127.0.0.1:3000"));
        assert!(!c.is_public_host("127.0.0.1"));
        assert!(!c.is_public_host("evil.example:3000"));
        assert!(!c.is_public_host("localhost:3000"));
        let mut c = c;
        c.public_base_url = Url::parse("https://Account.Example.com/").unwrap();
        assert!(c.is_public_host("account.example.com"));
        assert!(c.is_public_host("ACCOUNT.example.com:443"));
        assert!(!c.is_public_host("account.example.com:8443"));
        assert!(!c.is_public_host("account.example.com.evil.example"));
        c.public_base_url = Url::parse("http://[::1]:3000/").unwrap();
        assert!(c.is_public_host("[::1]:3000"));
        assert!(!c.is_public_host("[::2]:3000"));
    }

    #[test]
    fn development_secret_is_generated_once_and_kept() {
        let dir = crate::server::temp_dir::TempDir::new().unwrap();
        let mut a = parse(&[]).unwrap();
        a.data_dir = dir.path().to_path_buf();
        a.resolve_secret().unwrap();
        let mut b = parse(&[]).unwrap();
        b.data_dir = dir.path().to_path_buf();
        b.resolve_secret().unwrap();
        assert_eq!(a.secret.len(), 32);
        assert_eq!(a.secret, b.secret);
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
        assert_eq!(c.secret.len(), 32);
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2-smtp"), "{shown}");
        // Neither as hex nor as the list of byte values Vec<u8> would print.
        assert!(!shown.contains(&"ab".repeat(32)), "{shown}");
        assert!(!shown.contains("171, 171"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }
}
