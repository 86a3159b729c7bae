//! The server side of [`ChannelOps`]: connection tests by provider, and the signal that tells
//! the mailbox supervisor to re-read the channel accounts.

use app::ssr::state::ChannelOps;
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct ChannelRuntime {
    /// Woken when accounts change; the mailbox supervisor waits on it.
    pub changed: Arc<Notify>,
    /// The public base URL, for the webhook a connection test registers (Telegram).
    pub public_url: String,
    pub client: reqwest::Client,
}

impl ChannelRuntime {
    pub fn new(changed: Arc<Notify>, public_url: &str) -> ChannelRuntime {
        ChannelRuntime {
            changed,
            public_url: public_url.trim_end_matches('/').to_string(),
            client: super::http_client::client(std::time::Duration::from_secs(15)),
        }
    }
}

#[async_trait]
impl ChannelOps for ChannelRuntime {
    async fn test_connection(&self, account: &AccountRow) -> Result<String, String> {
        match account.provider.as_str() {
            super::email::PROVIDER => super::email::imap::test_connection(account).await,
            "twilio" => super::twilio::test_connection(&self.client, account).await,
            "whatsapp" | "messenger" | "instagram" => {
                super::meta::connection::test_connection(&self.client, account).await
            }
            "telegram" => {
                let me = super::telegram::admin::test_connection(&self.client, account).await?;
                // A saved bot also gets its webhook registered: Telegram has no console for it.
                if account.id == 0 {
                    return Ok(format!("{me}. Save the account to register its webhook."));
                }
                let url =
                    app::domain::providers::TELEGRAM.webhook_url(&self.public_url, account.id);
                let hook = super::telegram::admin::set_webhook(&self.client, account, &url).await?;
                Ok(format!("{me}. Webhook {url}: {hook}"))
            }
            other => Err(format!("{other} accounts have no connection to test")),
        }
    }

    fn accounts_changed(&self) {
        self.changed.notify_waiters();
        self.changed.notify_one();
    }
}
