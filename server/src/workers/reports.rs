//! Keeps the report episodes and rollups current: rebuilds them when saved settings ask for it,
//! and refreshes the conversations that changed (marked in the transaction of each change).
//! Reports also refresh before they read, so this loop only keeps that work small.

use app::service::reports;
use app::store::{Db, StoreError};
use std::time::Duration;

/// A rebuild that saved settings asked for, then the conversations that changed.
pub async fn refresh(db: &Db) -> Result<usize, StoreError> {
    if let Some(done) = reports::rebuild_if_requested(db).await? {
        tracing::info!(
            episodes = done.episodes,
            rows = done.rows,
            "reports rebuilt for new settings"
        );
    }
    reports::refresh_pending(db).await
}

/// Rounds every 2 s in the one process that holds the `reports` lease (renewed each round,
/// well inside its 20 s).
pub async fn run(db: Db) {
    loop {
        if crate::leases::hold(&db, "reports").await {
            if let Err(e) = refresh(&db).await {
                tracing::error!(error = %e, "reports worker");
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
