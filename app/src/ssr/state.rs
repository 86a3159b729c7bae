//! What every handler and server function can reach.

use super::live::Hub;
use super::login_limit::LoginLimiter;
use crate::store::channel_accounts::AccountRow;
use crate::store::Db;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use tokio::sync::Notify;

/// Configuration the request handlers need (the rest stays in the server binary).
#[derive(Clone)]
pub struct Settings {
    /// Public base URL, e.g. `https://inbox.example.com`; used for Origin checks and webhook URLs.
    pub public_url: String,
    /// Secret for HMAC tokens. Never serialised, never logged.
    pub secret_key: String,
    /// The bearer token `/metrics` asks for; `None` turns the endpoint off.
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("public_url", &self.public_url)
            .field("secret_key", &"<redacted>")
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Settings {
    /// `scheme://host[:port]` of the public URL.
    pub fn public_origin(&self) -> String {
        let u = self.public_url.trim_end_matches('/');
        match u.find("://") {
            Some(i) => match u[i + 3..].find('/') {
                Some(j) => u[..i + 3 + j].to_string(),
                None => u.to_string(),
            },
            None => u.to_string(),
        }
    }

    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Wake-ups for the background workers, so work written by a request starts at once.
#[derive(Clone, Default)]
pub struct Wake {
    pub outbox: Arc<Notify>,
    pub inbound: Arc<Notify>,
    /// Channel accounts changed: the mailbox supervisor re-reads them.
    pub accounts: Arc<Notify>,
    /// A campaign was started, resumed or cancelled: the campaign worker looks now.
    pub campaigns: Arc<Notify>,
}

/// What the server functions may ask of the channel adapters, which live in the server crate.
#[async_trait::async_trait]
pub trait ChannelOps: Send + Sync {
    /// Connects with `account`'s settings and secrets (both directions for email) and says what
    /// it found; `Err` carries the server's own words.
    async fn test_connection(&self, account: &AccountRow) -> Result<String, String>;
    /// An account was created, changed, enabled or disabled: (re)start or stop its workers.
    fn accounts_changed(&self);
}

/// Channel operations for tests that need none.
pub struct NoChannelOps;

#[async_trait::async_trait]
impl ChannelOps for NoChannelOps {
    async fn test_connection(&self, _account: &AccountRow) -> Result<String, String> {
        Err("no channel adapters in this process".into())
    }
    fn accounts_changed(&self) {}
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub hub: Hub,
    pub settings: Arc<Settings>,
    pub wake: Wake,
    pub limiter: LoginLimiter,
    pub channels: Arc<dyn ChannelOps>,
    /// What this process counts for `/metrics`.
    pub counters: Arc<Counters>,
}

/// This process's own counts for `/metrics` (the server's edge keeps them): webhook requests by
/// (provider, status) and the live streams open now.
#[derive(Debug, Default)]
pub struct Counters {
    pub webhooks: std::sync::Mutex<std::collections::BTreeMap<(&'static str, u16), u64>>,
    pub staff_streams: std::sync::atomic::AtomicI64,
    pub chat_streams: std::sync::atomic::AtomicI64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_is_scheme_host_port() {
        let s = |u: &str| Settings {
            public_url: u.into(),
            secret_key: String::new(),
            metrics_token: None,
        };
        assert_eq!(
            s("http://127.0.0.1:3000").public_origin(),
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            s("https://x.example/inbox/").public_origin(),
            "https://x.example"
        );
        let shown = format!(
            "{:?}",
            Settings {
                public_url: "a".into(),
                secret_key: "hunter2".into(),
                metrics_token: Some("scrape-token-123456".into()),
            }
        );
        assert!(shown.contains("redacted"));
        assert!(!shown.contains("hunter2") && !shown.contains("scrape-token"));
    }
}
