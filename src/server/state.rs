use crate::server::config::{Config, MailTransport, SmsTransport};
use crate::server::delivery::sms::{self, SmsSender};
use crate::server::delivery::{outbox::Outbox, smtp::Smtp, Mailer};
use crate::server::domain::crypto::Sealer;
use crate::server::domain::tokens::Keys;
use crate::server::http::assets::Assets;
use crate::server::password_hash::Hasher;
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
    /// Text messages; `None` when SMS codes are not offered.
    pub sms: Option<Arc<dyn SmsSender>>,
    /// A real argon2id hash of a random password: unknown accounts are checked
    /// against it so that sign-in takes the same time either way.
    pub dummy_hash: Arc<String>,
    pub leptos_options: LeptosOptions,
    /// The built site, kept in memory (see [`Assets`]).
    pub assets: Arc<Assets>,
    /// The links and start-up script every page's head carries.
    pub page_head: Arc<crate::server::http::page_head::PageHead>,
    /// Places client addresses (`geoip.database`).
    pub geo: Arc<crate::server::domain::geo::Geo>,
    /// This instance's shares of access tokens' per-minute allowances.
    pub token_leases: Arc<crate::server::auth::token::Leases>,
    /// Passkeys (WebAuthn) for this site's public address; `None` when that address is
    /// not one WebAuthn accepts (an IP address: a relying party is a domain name).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
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
        leptos_options.site_root = config.server.site_root.clone().into();
        leptos_options.site_addr = config.server.listen;
        // `cargo leptos watch` rebuilds the site under a running server: read it from
        // disk then (leptos_axum's file handler), from memory otherwise.
        let watching = std::env::var_os("LEPTOS_WATCH").is_some();
        let assets = if watching {
            Assets::default()
        } else {
            Assets::load(std::path::Path::new(&config.server.site_root)).map_err(|e| {
                format!(
                    "cannot read the built site in {} (setting server.site_root): {e}",
                    config.server.site_root
                )
            })?
        };
        let db = store::connect(&config.database.url, config.database.max_connections)
            .await
            .map_err(|e| format!("cannot open the database (setting database.url): {e}"))?;
        let mailer: Arc<dyn Mailer> = match &config.mail.transport {
            MailTransport::Outbox => Arc::new(Outbox { db: db.clone() }),
            MailTransport::Smtp {
                host,
                port,
                tls,
                username,
                password,
            } => Arc::new(
                Smtp::new(host, *port, *tls, username, password, &config.mail.from)
                    .map_err(|e| format!("mail settings: {e}"))?,
            ),
        };
        let sms: Option<Arc<dyn SmsSender>> = match &config.sms.transport {
            SmsTransport::Off => None,
            SmsTransport::Outbox => Some(Arc::new(sms::Outbox { db: db.clone() })),
            SmsTransport::Provider {
                url,
                account_sid,
                auth_token,
                from,
            } => Some(Arc::new(
                sms::Twilio::new(url, account_sid, auth_token, from)
                    .map_err(|e| format!("sms settings: {e}"))?,
            )),
        };
        // The common-password filter is built once, now, not at the first sign-up.
        tokio::task::spawn_blocking(crate::server::domain::common_passwords::load)
            .await
            .map_err(|e| e.to_string())?;
        let parallelism = match config.server.hash_threads {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            n => n,
        };
        let hasher = Hasher::new(
            parallelism,
            &config.server.secret,
            &config.server.previous_secrets,
        );
        let geo = match &config.geoip.database {
            Some(path) => crate::server::domain::geo::Geo::open(path)
                .map_err(|e| format!("geoip.database: {e}"))?,
            None => crate::server::domain::geo::Geo::none(),
        };
        let dummy_hash = hasher
            .hash(&crate::server::domain::tokens::new_token())
            .await
            .map_err(|e| e.to_string())?;
        let webauthn =
            crate::server::flows::passkeys::relying_party_for(&config.server.public_base_url)
                .map(Arc::new);
        Ok(AppState {
            webauthn,
            keys: Keys::from_secrets(&config.server.secret, &config.server.previous_secrets),
            sealer: Sealer::from_secrets(&config.server.secret, &config.server.previous_secrets),
            config: Arc::new(config),
            db,
            hasher,
            mailer,
            sms,
            dummy_hash: Arc::new(dummy_hash),
            page_head: Arc::new(crate::server::http::page_head::PageHead::load(
                &leptos_options,
                watching,
            )),
            leptos_options,
            assets: Arc::new(assets),
            geo: Arc::new(geo),
            token_leases: Arc::default(),
        })
    }

    /// Every ten minutes, on every instance, runs [`housekeeping`].
    pub fn spawn_housekeeping(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                tick.tick().await;
                let _ = housekeeping(&state, crate::server::now()).await;
            }
        });
    }
}

/// How long a used or expired link is kept, to tell a late click what happened.
pub const KEEP_OLD_LINKS_SECS: i64 = 7 * 24 * 3600;

/// The least time between two rounds of housekeeping, whichever instance runs them.
pub const HOUSEKEEPING_GAP_SECS: i64 = 300;

/// Removes what can no longer be used: expired sessions, stale half-done sign-ins,
/// throttle counters past every policy's memory, old links, security-log events past
/// `log.retention_days`. Instances sharing the
/// database take turns (a claim on one row, [`store::housekeeping::claim`]); each
/// delete is idempotent besides. False when another instance had this round.
pub async fn housekeeping(state: &AppState, now: i64) -> bool {
    let db = &state.db;
    match store::housekeeping::claim(db, now, HOUSEKEEPING_GAP_SECS).await {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "housekeeping could not claim its turn");
            return false;
        }
    }
    let jobs: [(&str, Result<u64, sqlx::Error>); 10] = [
        (
            "security log",
            store::events::prune(db, now - state.config.log.retention_secs).await,
        ),
        ("sessions", store::sessions::delete_expired(db, now).await),
        (
            "pending sign-ins",
            store::mfa::delete_stale_pending(
                db,
                now,
                crate::server::flows::second_step::PENDING_SECS,
            )
            .await,
        ),
        ("sent codes", store::codes::prune(db, now).await),
        (
            "passkey ceremonies",
            store::passkeys::delete_expired_ceremonies(db, now).await,
        ),
        (
            "throttles",
            store::throttles::prune(
                db,
                now - crate::server::domain::throttle::LONGEST_MEMORY_SECS,
            )
            .await,
        ),
        (
            "links",
            store::email_links::prune(db, now - KEEP_OLD_LINKS_SECS).await,
        ),
        (
            "email changes",
            store::profile::prune(db, now - KEEP_OLD_LINKS_SECS).await,
        ),
        (
            "revoked access tokens",
            store::tokens::prune_revoked(db, now - KEEP_OLD_LINKS_SECS).await,
        ),
        (
            "sign-ins seen and their notices",
            store::notices::prune(
                db,
                now - crate::server::domain::sign_in_notice::KEEP_SEEN_SECS,
                now - KEEP_OLD_LINKS_SECS,
                now - crate::server::domain::sign_in_notice::NOTICE_EVERY_SECS,
            )
            .await,
        ),
    ];
    match crate::server::flows::tokens::remind_expiring(state, now).await {
        Ok(n) if n > 0 => tracing::debug!(sent = n, "housekeeping: token expiry reminders"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "housekeeping of token reminders failed"),
    }
    for (what, done) in jobs {
        match done {
            Ok(n) if n > 0 => tracing::debug!(removed = n, "housekeeping: {what}"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping of {what} failed"),
        }
    }
    true
}
