//! The product's router and workers served in this process, for the benchmarks that measure
//! the server itself (webhooks, the website chat) without a separate process to start.

use app::ssr::state::Settings;
use app::store::Db;
use server::channels::{ChannelConfig, Registry};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves the app on `db` on a free local port with `secret` as its key, with every worker
/// running; answers its base URL.
pub async fn serve(db: &Db, secret: &str) -> Result<String, BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = format!("http://{}", listener.local_addr()?);
    let mut options = leptos::config::LeptosOptions::builder()
        .output_name("convergence")
        .build();
    options.site_addr = listener.local_addr()?;
    let state = server::startup::build_state(
        db.clone(),
        options,
        Settings {
            public_url: addr.clone(),
            secret_key: secret.into(),
            metrics_token: None,
        },
    );
    let registry = Registry::with_config(&ChannelConfig::new(secret, &addr));
    server::startup::spawn_workers(
        &state,
        registry.clone(),
        server::channels::email::sync::SyncOptions::default(),
    );
    let router = server::http::router(state, registry);
    tokio::spawn(async move {
        let _ = axum::serve(
            server::startup::no_delay(listener),
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    Ok(addr)
}
