//! Building the application: database, state, workers, listener.

use crate::channels::email;
use crate::channels::runtime::ChannelRuntime;
use crate::channels::{ChannelConfig, Registry};
use crate::config::Cli;
use crate::{routes, workers};
use app::ssr::auth::LoginLimiter;
use app::ssr::live::{self, Hub};
use app::ssr::state::{Settings, Wake};
use app::ssr::AppState;
use app::store::{channel_accounts, Db};
use leptos::config::get_configuration;
use std::net::SocketAddr;
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connects and migrates.
pub async fn open_db(cli: &Cli) -> Result<Db, BoxError> {
    let db = Db::connect(&cli.database_url).await?;
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

pub async fn serve(cli: &Cli) -> Result<(), BoxError> {
    let db = open_db(cli).await?;
    channel_accounts::ensure_playground_accounts(&db).await?;
    if cli.demo_data && crate::demo::load_if_empty(&db).await? {
        tracing::info!("demo data loaded");
    }
    let conf = get_configuration(None)?;
    let mut leptos_options = conf.leptos_options;
    let addr: SocketAddr = cli
        .listen
        .parse()
        .map_err(|e| format!("bad listen address {:?}: {e}", cli.listen))?;
    leptos_options.site_addr = addr;
    let state = build_state(
        db,
        leptos_options,
        Settings {
            public_url: cli.public_url.clone(),
            secret_key: cli.secret(),
        },
    );
    // Release builds compress the bundle before listening, so the first browser already gets
    // the small file; only files that changed since the last start are compressed.
    let pkg_dir = crate::assets::pkg_dir(&state.leptos_options);
    match tokio::task::spawn_blocking(move || {
        crate::assets::precompress_dir(&pkg_dir, !cfg!(debug_assertions))
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
    let app = routes::router(state, registry);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "Convergence listening on http://{addr} (public URL {})",
        cli.public_url
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
