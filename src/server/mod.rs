//! Everything that only the server compiles: settings, rules, storage, mail, HTTP.
pub mod audit;
pub mod auth;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod flows;
pub mod http;
pub mod password_hash;
pub mod pwned;
pub mod rekey;
pub mod state;
pub mod store;
pub mod temp_dir;
pub mod upgrade;

pub use state::AppState;

/// The current time as Unix seconds, UTC. Only the edges call this; rules take `now`.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `latchkey rekey`: with the settings of `run`, moves what was sealed or keyed under
/// a previous secret to the current one and says what still needs a previous secret.
pub async fn rekey_command() -> Result<rekey::Report, String> {
    use config::Config;
    let mut config = Config::from_process().map_err(|e| e.to_string())?;
    config.resolve_secret().map_err(|e| e.to_string())?;
    let state = AppState::new(config, leptos_options_from_env()).await?;
    rekey::all(&state).await.map_err(|e| e.to_string())
}

/// Starts the server from the settings file and the environment.
pub async fn run() -> Result<(), String> {
    use config::Config;
    let mut config = Config::from_process().map_err(|e| e.to_string())?;
    config.resolve_secret().map_err(|e| e.to_string())?;
    let listen = config.server.listen;
    let state = AppState::new(config, leptos_options_from_env()).await?;
    upgrade::retire_legacy_recovery_codes(&state, now())
        .await
        .map_err(|e| format!("start-up data step failed: {e}"))?;
    state.spawn_housekeeping();
    let app = http::router(state.clone());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen} (setting server.listen): {e}"))?;
    tracing::info!(
        "Latchkey listening on http://{listen} ({:?} mode)",
        state.config.mode
    );
    // Every accepted connection sends at once: streamed pages are several small
    // writes, and Nagle's algorithm with delayed ACKs would hold each one for 40 ms.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| e.to_string())
}

/// Leptos's own options as cargo-leptos passes them (output name, package folder);
/// the listen address and site root come from our settings. Started on its own (as
/// operators and the tests do), the binary finds the hashed file names in the
/// `hash.txt` that `cargo leptos build` writes beside it.
fn leptos_options_from_env() -> leptos::config::LeptosOptions {
    let mut options = leptos::config::get_configuration(None)
        .map(|c| c.leptos_options)
        .unwrap_or_else(|_| {
            leptos::config::LeptosOptions::builder()
                .output_name("latchkey")
                .build()
        });
    if !options.hash_files {
        options.hash_files =
            crate::server::http::page_head::hash_file(&options).is_some_and(|p| p.is_file());
    }
    options
}
