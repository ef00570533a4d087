//! `[server]`: where this instance listens, the address it is known by, its secrets,
//! its folders, the proxies it believes, and its hashing threads.
use super::source::Source;
use super::{is_loopback_host, ConfigError, Mode, Redacted};
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

#[derive(Clone, Debug)]
pub struct Server {
    pub listen: SocketAddr,
    pub public_base_url: Url,
    /// Raw secret bytes; empty means "generate one" (development only, see
    /// `Config::resolve_secret`).
    pub secret: Redacted<Vec<u8>>,
    /// Secrets used before `secret`, newest first: what was sealed or peppered under
    /// them still opens and verifies (and is moved to the current secret when used).
    pub previous_secrets: Redacted<Vec<Vec<u8>>>,
    pub data_dir: PathBuf,
    pub site_root: String,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub forwarded_header: crate::server::domain::client_address::ForwardedHeader,
    /// Password hashes computed at once by this instance (0: one per core).
    pub hash_threads: usize,
}

impl Server {
    pub(super) fn parse(src: &Source, mode: Mode) -> Result<Server, ConfigError> {
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

        let hash_threads = src.int("server.hash_threads", 0, 256)? as usize;

        let base_is_loopback = is_loopback_host(&public_base_url);
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
            _ => {}
        }
        Ok(Server {
            listen,
            public_base_url,
            secret,
            previous_secrets,
            data_dir,
            site_root,
            trusted_proxies,
            forwarded_header,
            hash_threads,
        })
    }
}

pub(super) fn parse_secret(text: &str) -> Option<Vec<u8>> {
    let bytes = hex::decode(text.trim()).ok()?;
    (bytes.len() >= 32).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, FILE};
    use super::super::*;

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_and_empty_by_default() {
        assert!(parse(&[]).unwrap().server.trusted_proxies.is_empty());
        let c = parse(&[(
            "LATCHKEY_SERVER_TRUSTED_PROXIES",
            "127.0.0.1, 10.1.2.3/8 ,::1",
        )])
        .unwrap();
        let shown: Vec<String> = c
            .server
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        let file = FILE.replace(
            "trusted_proxies = []",
            r#"trusted_proxies = ["192.0.2.0/24"]"#,
        );
        let c = Config::parse(&file, "Leptos.toml", &HashMap::new()).unwrap();
        assert_eq!(c.server.trusted_proxies.len(), 1);
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
    fn the_public_host_is_the_base_urls() {
        let c = parse(&[]).unwrap();
        assert!(c.is_public_host("127.0.0.1:3000"));
        assert!(!c.is_public_host("127.0.0.1"));
        assert!(!c.is_public_host("evil.example:3000"));
        assert!(!c.is_public_host("localhost:3000"));
        let mut c = c;
        c.server.public_base_url = Url::parse("https://Account.Example.com/").unwrap();
        assert!(c.is_public_host("account.example.com"));
        assert!(c.is_public_host("ACCOUNT.example.com:443"));
        assert!(!c.is_public_host("account.example.com:8443"));
        assert!(!c.is_public_host("account.example.com.evil.example"));
        c.server.public_base_url = Url::parse("http://[::1]:3000/").unwrap();
        assert!(c.is_public_host("[::1]:3000"));
        assert!(!c.is_public_host("[::2]:3000"));
    }

    #[test]
    fn development_secret_is_generated_once_and_kept() {
        let dir = crate::server::temp_dir::TempDir::new().unwrap();
        let mut a = parse(&[]).unwrap();
        a.server.data_dir = dir.path().to_path_buf();
        a.resolve_secret().unwrap();
        let mut b = parse(&[]).unwrap();
        b.server.data_dir = dir.path().to_path_buf();
        b.resolve_secret().unwrap();
        assert_eq!(a.server.secret.len(), 32);
        assert_eq!(a.server.secret, b.server.secret);
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
        assert_eq!(ok.server.secret.len(), 32);
    }
}
