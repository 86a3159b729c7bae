//! Failed inbound events (admins only): payloads that could not be processed, kept raw with
//! their error, and a retry that puts one back in the queue.

use crate::model::FailedEvent;
use leptos::prelude::*;

/// The 100 most recent failed payloads, newest first.
#[server(endpoint = "admin/failed", output = crate::api::codec::JsonText)]
pub async fn failed_events() -> Result<Vec<FailedEvent>, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    crate::store::raw_inbound::failed(&st.db, 100)
        .await
        .map_err(errors::store)
}

/// Processes a failed payload again (after a fix, or when the cause was passing).
#[server(endpoint = "admin/failed/retry")]
pub async fn retry_failed(id: i64) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    crate::store::raw_inbound::retry(&st.db, id)
        .await
        .map_err(errors::store)?;
    st.wake.inbound.notify_one();
    Ok(())
}
