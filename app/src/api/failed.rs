//! Failed inbound events (admins only): payloads that could not be processed, kept raw with
//! their error, and a retry that puts one back in the queue.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedEvent {
    pub id: i64,
    pub account: String,
    pub provider: String,
    pub received_at: i64,
    pub attempts: i64,
    pub error: String,
    pub size: i64,
    pub preview: String,
}

/// The 100 most recent failed payloads, newest first.
#[server(endpoint = "admin/failed")]
pub async fn failed_events() -> Result<Vec<FailedEvent>, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    Ok(crate::store::inbound::failed(&st.db, 100)
        .await
        .map_err(errors::store)?
        .into_iter()
        .map(|f| FailedEvent {
            id: f.id,
            account: f.account_name,
            provider: f.provider,
            received_at: f.received_at,
            attempts: f.attempts,
            error: f.error,
            size: f.size,
            preview: f.preview,
        })
        .collect())
}

/// Processes a failed payload again (after a fix, or when the cause was passing).
#[server(endpoint = "admin/failed/retry")]
pub async fn retry_failed(id: i64) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    crate::store::inbound::retry(&st.db, id)
        .await
        .map_err(errors::store)?;
    st.wake.inbound.notify_one();
    Ok(())
}
