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
        limiter: LoginLimiter::new(db.clone()),
        counters: Arc::default(),
        db,
        settings: Arc::new(settings),
        wake,
    }
}

/// Starts the background workers for `state`, with the outbox's default retries, never stopped.
pub fn spawn_workers(state: &AppState, registry: Registry, sync: email::sync::SyncOptions) {
    let (_stop, rx) = tokio::sync::watch::channel(false);
    // The outbox worker's handle is dropped: it runs detached (without a sender left, nothing
    // asks it to stop).
    drop(spawn_workers_with(
        state,
        registry,
        sync,
        workers::outbox::Config::default(),
        rx,
    ));
}

/// Starts the background workers for `state`; returns the outbox worker, which ends after
/// `stop` turns true and its send under way is finished.
pub fn spawn_workers_with(
    state: &AppState,
    registry: Registry,
    sync: email::sync::SyncOptions,
    outbox: workers::outbox::Config,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
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
    let outbox = tokio::spawn(workers::outbox::run(
        state.db.clone(),
        state.hub.clone(),
        registry,
        state.wake.outbox.clone(),
        outbox,
        stop,
    ));
    tokio::spawn(workers::snooze::run(state.db.clone(), state.hub.clone()));
    tokio::spawn(workers::campaigns::run(
        state.db.clone(),
        app::service::identifiers::default_region(),
        Some(app::ssr::pref_token::Linker {
            public_url: state.settings.public_url.clone(),
            key: state.settings.secret_key.as_bytes().to_vec(),
        }),
        state.wake.campaigns.clone(),
        state.wake.outbox.clone(),
    ));
    tokio::spawn(workers::reports::run(state.db.clone()));
    tokio::spawn(email::sync::supervise(
        email::sync::SyncContext {
            db: state.db.clone(),
            hub: state.hub.clone(),
            inbound: state.wake.inbound.clone(),
            opts: sync,
            shown: Default::default(),
        },
        state.wake.accounts.clone(),
    ));
    outbox
}

/// What serving needs from the configuration (`cli::serve` fills it from the flags).
pub struct ServeConfig {
    pub database_url: String,
    pub listen: String,
    pub public_url: String,
    pub secret_key: String,
    /// Load the demo data when the database is empty.
    pub demo_data: bool,
    /// Non-public addresses media downloads may reach anyway.
    pub media_policy: crate::channels::http_client::AddressPolicy,
    /// How long temporary delivery failures are retried.
    pub retry_horizon_ms: i64,
    /// How long a chat answer stays unseen before it goes by email (`workers::chat_followup`).
    pub chat_followup_ms: i64,
    /// The bearer token `/metrics` asks for; `None` leaves the endpoint off.
    pub metrics_token: Option<String>,
}

/// How long a stopping server waits for the sends under way.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// SIGTERM, listened for from the start (a signal before that would kill the process at once).
#[cfg(unix)]
type Term = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Term = Option<()>;

fn listen_for_sigterm() -> Term {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                None
            }
        }
    }
    #[cfg(not(unix))]
    None
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal(term: Term) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async move {
        match term {
            #[cfg(unix)]
            Some(mut s) => {
                s.recv().await;
            }
            _ => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Opens the database, starts the workers and serves until the process ends.
pub async fn serve(config: &ServeConfig) -> Result<(), BoxError> {
    let term = listen_for_sigterm();
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
            metrics_token: config.metrics_token.clone(),
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
    let mut channel_config =
        ChannelConfig::new(&state.settings.secret_key, &state.settings.public_url);
    channel_config.media_policy = config.media_policy.clone();
    let registry = Registry::with_config(&channel_config);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let outbox = spawn_workers_with(
        &state,
        registry.clone(),
        email::sync::SyncOptions::default(),
        workers::outbox::Config {
            horizon_ms: config.retry_horizon_ms,
            ..Default::default()
        },
        stop_rx,
    );
    tokio::spawn(workers::chat_followup::run(
        state.db.clone(),
        state.hub.clone(),
        state.settings.secret_key.as_bytes().into(),
        state.wake.outbox.clone(),
        app::service::chat_followup::Timing::after(config.chat_followup_ms),
    ));
    let demo_logins = if config.demo_data {
        crate::demo_data::logins_present(&state.db).await?
    } else {
        Vec::new()
    };
    let db_for_leases = state.db.clone();
    let app = http::router(state, registry);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "Convergence listening on http://{addr} (public URL {})",
        config.public_url
    );
    println!("{}", ready_message(&config.public_url, &demo_logins));
    let server = axum::serve(
        no_delay(listener),
        app.into_make_service_with_connect_info::<SocketAddr>(),
    );
    tokio::select! {
        r = std::future::IntoFuture::into_future(server) => r?,
        _ = shutdown_signal(term) => {
            // Stop claiming deliveries, let the send under way finish (its lease is then
            // released with its outcome), and end; open connections (live updates) are cut.
            tracing::info!("shutting down: finishing the delivery under way");
            let _ = stop.send(true);
            if tokio::time::timeout(SHUTDOWN_GRACE, outbox).await.is_err() {
                tracing::warn!("a delivery was still running after {SHUTDOWN_GRACE:?}; its lease expires and another process looks it up");
            }
            // Mailboxes and other singleton work go to the other processes on their next look.
            crate::leases::release_all(&db_for_leases).await;
            tracing::info!("stopped");
        }
    }
    Ok(())
}

/// The listener with Nagle's algorithm off on every accepted connection. A page is written in
/// several chunks; with Nagle on, a chunk after the first waits for the client's delayed ACK
/// (about 40 ms) before it leaves, which made half the page loads at one client slow.
pub fn no_delay(listener: tokio::net::TcpListener) -> NoDelayListener {
    use axum::serve::ListenerExt;
    listener.tap_io(set_nodelay as fn(&mut tokio::net::TcpStream))
}

/// [`no_delay`]'s listener (a named type: `ConnectInfo` is implemented for it).
pub type NoDelayListener =
    axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)>;

fn set_nodelay(tcp: &mut tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
}

/// What `serve` prints on standard output once it accepts connections: where to open the app
/// and, with the demo data, how to sign in.
pub fn ready_message(public_url: &str, demo_logins: &[(&str, &str, &str)]) -> String {
    let mut s = format!(
        "\nConvergence is ready: open {}\n",
        public_url.trim_end_matches('/')
    );
    if !demo_logins.is_empty() {
        s.push_str("Demo logins (email / password):\n");
        for (role, email, password) in demo_logins {
            s.push_str(&format!("  {role:<10} {email} / {password}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        use axum::serve::Listener;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = no_delay(listener);
        let client = tokio::spawn(tokio::net::TcpStream::connect(addr));
        let (accepted, _) = listener.accept().await;
        assert!(accepted.nodelay().unwrap(), "TCP_NODELAY must be set");
        drop(client.await.unwrap().unwrap());
    }

    #[test]
    fn the_ready_message_names_the_address_and_the_demo_logins() {
        let m = ready_message(
            "http://127.0.0.1:3000/",
            &[("Admin", "admin@convergence.test", "admin-password-1")],
        );
        assert!(m.contains("open http://127.0.0.1:3000\n"), "{m}");
        assert!(
            m.contains("admin@convergence.test / admin-password-1"),
            "{m}"
        );
        let m = ready_message("https://inbox.example.com", &[]);
        assert!(!m.contains("Demo"), "{m}");
    }
}
