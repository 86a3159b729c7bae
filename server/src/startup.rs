//! Building the application: database, state, workers, listener.

use crate::channels::email;
use crate::channels::runtime::ChannelRuntime;
use crate::channels::{ChannelConfig, Registry};
use crate::{http, workers};
use app::ssr::live::{self, Hub};
use app::ssr::login_limit::LoginLimiter;
use app::ssr::state::{Settings, Wake};
use app::ssr::AppState;
use app::store::{channel_accounts, Db};
use leptos::config::get_configuration;
use std::net::SocketAddr;
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connects to `database_url` and migrates.
pub async fn open_db(database_url: &str) -> Result<Db, BoxError> {
    let db = Db::connect(database_url).await?;
    db.migrate().await?;
    Ok(db)
}

/// The state handlers share, for a database that is already open and migrated.
pub fn build_state(
    db: Db,
    leptos_options: leptos::config::LeptosOptions,
    settings: Settings,
) -> AppState {
    let wake = Wake::default();
    AppState {
        channels: Arc::new(ChannelRuntime::new(
            wake.accounts.clone(),
            &settings.public_url,
        )),
        leptos_options,
        hub: Hub::new(&db),
        db,
        settings: Arc::new(settings),
        wake,
        limiter: LoginLimiter::default(),
    }
}

/// Starts the background workers for `state`.
pub fn spawn_workers(state: &AppState, registry: Registry, sync: email::sync::SyncOptions) {
    if state.hub.uses_notify() {
        tokio::spawn(live::run_pg_listener(
            state.db.url.clone(),
            state.hub.clone(),
        ));
    }
    tokio::spawn(workers::inbound::run(
        state.db.clone(),
        state.hub.clone(),
        registry.clone(),
        state.wake.inbound.clone(),
    ));
    tokio::spawn(workers::outbox::run(
        state.db.clone(),
        state.hub.clone(),
        registry,
        state.wake.outbox.clone(),
    ));
    tokio::spawn(workers::snooze::run(state.db.clone(), state.hub.clone()));
    tokio::spawn(email::sync::supervise(
        email::sync::SyncContext {
            db: state.db.clone(),
            hub: state.hub.clone(),
            inbound: state.wake.inbound.clone(),
            opts: sync,
        },
        state.wake.accounts.clone(),
    ));
}

/// What serving needs from the configuration (`cli::serve` fills it from the flags).
pub struct ServeConfig {
    pub database_url: String,
    pub listen: String,
    pub public_url: String,
    pub secret_key: String,
    /// Load the demo data when the database is empty.
    pub demo_data: bool,
}

/// Opens the database, starts the workers and serves until the process ends.
pub async fn serve(config: &ServeConfig) -> Result<(), BoxError> {
    let db = open_db(&config.database_url).await?;
    channel_accounts::ensure_playground_accounts(&db).await?;
    if config.demo_data && crate::demo_data::load_if_empty(&db).await? {
        tracing::info!("demo data loaded");
    }
    let conf = get_configuration(None)?;
    let mut leptos_options = conf.leptos_options;
    let addr: SocketAddr = config
        .listen
        .parse()
        .map_err(|e| format!("bad listen address {:?}: {e}", config.listen))?;
    leptos_options.site_addr = addr;
    let state = build_state(
        db,
        leptos_options,
        Settings {
            public_url: config.public_url.clone(),
            secret_key: config.secret_key.clone(),
        },
    );
    // Release builds compress the bundle before listening, so the first browser already gets
    // the small file; only files that changed since the last start are compressed.
    let pkg_dir = http::assets::pkg_dir(&state.leptos_options);
    match tokio::task::spawn_blocking(move || {
        http::assets::precompress_dir(&pkg_dir, !cfg!(debug_assertions))
    })
    .await?
    {
        Ok(files) if !files.is_empty() => {
            tracing::info!("pre-compressed {} bundle files", files.len())
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not pre-compress the bundle; serving it compressed on the fly")
        }
    }
    let registry = Registry::with_config(&ChannelConfig::new(
        &state.settings.secret_key,
        &state.settings.public_url,
    ));
    spawn_workers(
        &state,
        registry.clone(),
        email::sync::SyncOptions::default(),
    );
    let app = http::router(state, registry);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "Convergence listening on http://{addr} (public URL {})",
        config.public_url
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
