//! `[database]`: which database (SQLite embedded, or PostgreSQL shared by several
//! instances), and how many connections this instance keeps.
use super::source::Source;
use super::{is_loopback_host, ConfigError, Mode, Redacted};
use url::Url;

#[derive(Clone, Debug)]
pub struct Database {
    pub url: Redacted<String>, // may hold the database password
    pub max_connections: u32,
}

impl Database {
    pub(super) fn parse(src: &Source, mode: Mode) -> Result<Database, ConfigError> {
        let database_url = src.string("database.url")?;
        if crate::server::store::Backend::of_url(&database_url).is_none() {
            return Err(src.error(
                "database.url",
                "must start with sqlite: (embedded) or postgres:// (shared by several instances)",
            ));
        }
        let database_max_connections = src.int("database.max_connections", 1, 512)? as u32;
        if mode == Mode::Production && !database_travels_safely(&database_url) {
            return Err(src.error(
                "database.url",
                "must ask for TLS (sslmode=require, verify-ca or verify-full) in production mode when PostgreSQL is on another machine",
            ));
        }
        Ok(Database {
            url: Redacted(database_url),
            max_connections: database_max_connections,
        })
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

#[cfg(test)]
mod tests {
    use super::super::tests::parse;

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
}
