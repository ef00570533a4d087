use crate::server::config::{Config, MailTransport};
use crate::server::delivery::{outbox::Outbox, smtp::Smtp, Mailer};
use crate::server::domain::crypto::Sealer;
use crate::server::domain::password_hash::Hasher;
use crate::server::domain::tokens::Keys;
use crate::server::http::assets::Assets;
use crate::server::store::{self, Db};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every request handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Keys,
    /// Encrypts secrets kept at rest (authenticator secrets, recovery codes).
    pub sealer: Sealer,
    pub hasher: Hasher,
    pub mailer: Arc<dyn Mailer>,
    /// A real argon2id hash of a random password: unknown accounts are checked
    /// against it so that sign-in takes the same time either way.
    pub dummy_hash: Arc<String>,
    pub leptos_options: LeptosOptions,
    /// The built site, kept in memory (see [`Assets`]).
    pub assets: Arc<Assets>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub async fn new(
        config: Config,
        mut leptos_options: LeptosOptions,
    ) -> Result<AppState, String> {
        leptos_options.site_root = config.site_root.clone().into();
        leptos_options.site_addr = config.listen;
        // `cargo leptos watch` rebuilds the site under a running server: read it from
        // disk then (leptos_axum's file handler), from memory otherwise.
        let assets = if std::env::var_os("LEPTOS_WATCH").is_some() {
            Assets::default()
        } else {
            Assets::load(std::path::Path::new(&config.site_root)).map_err(|e| {
                format!(
                    "cannot read the built site in {} (setting server.site_root): {e}",
                    config.site_root
                )
            })?
        };
        let db = store::connect(&config.database_url, config.database_max_connections)
            .await
            .map_err(|e| format!("cannot open the database (setting database.url): {e}"))?;
        let mailer: Arc<dyn Mailer> = match &config.mail {
            MailTransport::Outbox => Arc::new(Outbox { db: db.clone() }),
            MailTransport::Smtp {
                host,
                port,
                tls,
                username,
                password,
            } => Arc::new(
                Smtp::new(host, *port, *tls, username, password, &config.mail_from)
                    .map_err(|e| format!("mail settings: {e}"))?,
            ),
        };
        let parallelism = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let hasher = Hasher::new(parallelism);
        let dummy_hash = hasher
            .hash(&crate::server::domain::tokens::new_token())
            .await
            .map_err(|e| e.to_string())?;
        Ok(AppState {
            keys: Keys::from_secret(&config.secret),
            sealer: Sealer::from_secret(&config.secret),
            config: Arc::new(config),
            db,
            hasher,
            mailer,
            dummy_hash: Arc::new(dummy_hash),
            leptos_options,
            assets: Arc::new(assets),
        })
    }

    /// Every ten minutes, removes expired sessions and stale half-done sign-ins.
    pub fn spawn_housekeeping(&self) {
        let db = self.db.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                tick.tick().await;
                let now = crate::server::now();
                if let Err(e) = store::sessions::delete_expired(&db, now).await {
                    tracing::warn!(error = %e, "session clean-up failed");
                }
                if let Err(e) = store::mfa::delete_stale_pending(
                    &db,
                    now,
                    crate::server::flows::mfa::PENDING_SECS,
                )
                .await
                {
                    tracing::warn!(error = %e, "pending sign-in clean-up failed");
                }
            }
        });
    }
}
