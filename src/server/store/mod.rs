//! The database: sqlx queries and migrations. A change that touches several rows
//! runs in one transaction.
//!
//! One store for both backends: the queries go through sqlx's `Any` driver and are
//! written once, in the SQL both SQLite and PostgreSQL accept (numbered `$1`
//! parameters, `RETURNING`, `ON CONFLICT`, `IS DISTINCT FROM`, 64-bit integers,
//! bytes). Only the migrations differ, one set per backend under `migrations/`.
pub mod allowlist;
pub mod codes;
pub mod email_links;
pub mod events;
pub mod housekeeping;
pub mod mfa;
pub mod notices;
pub mod outbox;
pub mod passkeys;
pub mod profile;
pub mod sessions;
pub mod throttles;
pub mod tokens;
pub mod users;

use sqlx::any::AnyPoolOptions;
use sqlx::Executor;

pub type Db = sqlx::AnyPool;
pub type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;
/// A connection taken from the pool, outside any transaction: what the store's
/// one-round-trip calls need, as each is its own transaction (a `Tx` cannot stand in).
pub type Conn = sqlx::pool::PoolConnection<sqlx::Any>;

/// Which database a `database.url` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    /// The database a pool is connected to.
    pub fn of(db: &Db) -> Backend {
        Backend::of_url(db.connect_options().database_url.as_str()).unwrap_or(Backend::Sqlite)
    }

    /// The database a connection talks to.
    pub fn of_connection(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == "PostgreSQL" {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Per connection: SQLite's write-ahead log (readers never wait for the writer),
/// foreign keys, and a wait rather than an error when another writer holds the lock.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                              PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// How long a PostgreSQL connection may wait in the pool before it is checked again.
const CHECK_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Opens (creating a SQLite file when missing) and migrates the database. On
/// PostgreSQL, instances starting together take turns: sqlx holds an advisory lock
/// while it migrates.
pub async fn connect(url: &str, max_connections: u32) -> Result<Db, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url).ok_or_else(|| {
        sqlx::Error::Configuration("database.url must start with sqlite: or postgres://".into())
    })?;
    let url = match backend {
        Backend::Sqlite => sqlite_url(url)?,
        Backend::Postgres => url.to_string(),
    };
    let mut options = AnyPoolOptions::new()
        .max_connections(max_connections)
        // sqlx pings a connection when it goes back to the pool and, by default, again
        // when it is taken out: a round trip to the database (to SQLite's worker thread)
        // on top of every query. The ping on return stays: it closes a connection that
        // broke, so one that went back was working a moment ago.
        .test_before_acquire(false);
    if backend == Backend::Postgres {
        // A PostgreSQL server can close connections while they wait in the pool (a
        // restart, a failover, an idle timeout). One that waited a while is pinged as
        // it is taken, and a dead one is replaced instead of failing a request. Under
        // load no connection waits that long, so a busy instance pays nothing for this.
        options = options.before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= CHECK_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        });
    }
    let pool = options
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute(SQLITE_PRAGMAS).await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    let migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    // Two processes starting together on one SQLite file can both find a migration
    // missing; the second one's attempt fails once the first has applied it (each
    // migration is one transaction). Looking again then finds it done. PostgreSQL
    // never gets here twice: sqlx holds an advisory lock while it migrates.
    let mut attempt = 0;
    loop {
        match migrator.run(&pool).await {
            Ok(()) => return Ok(pool),
            Err(e) if attempt < 3 && backend == Backend::Sqlite => {
                attempt += 1;
                tracing::info!("migrating again after a concurrent start: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The SQLite URL with its folder made and `mode=rwc` (create when missing) added.
fn sqlite_url(url: &str) -> Result<String, sqlx::Error> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
        }
    }
    Ok(if params.split('&').any(|p| p.starts_with("mode=")) {
        url.to_string()
    } else if params.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(Backend::of_url("sqlite://data/x.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mysql://u@h/db"), None);
    }

    #[test]
    fn sqlite_urls_create_the_file_unless_told_otherwise() {
        assert_eq!(
            sqlite_url("sqlite::memory:").unwrap(),
            "sqlite::memory:?mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite::memory:?cache=shared").unwrap(),
            "sqlite::memory:?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite::memory:?mode=ro").unwrap(),
            "sqlite::memory:?mode=ro"
        );
    }
}
