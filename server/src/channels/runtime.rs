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
}

#[async_trait]
impl ChannelOps for ChannelRuntime {
    async fn test_connection(&self, account: &AccountRow) -> Result<String, String> {
        match account.provider.as_str() {
            super::email::PROVIDER => super::email::imap::test_connection(account).await,
            other => Err(format!("{other} accounts have no connection to test")),
        }
    }

    fn accounts_changed(&self) {
        self.changed.notify_waiters();
        self.changed.notify_one();
    }
}
