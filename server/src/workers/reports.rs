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

/// Rounds every 2 s in the one process that holds the `reports` lease. The lease is renewed
/// every `leases::RENEW`, not every round (one write per round would double this loop's work).
pub async fn run(db: Db) {
    let mut renewed: Option<std::time::Instant> = None;
    loop {
        let held = match renewed {
            Some(at) if at.elapsed() < crate::leases::RENEW => true,
            _ => {
                let held = crate::leases::hold(&db, "reports").await;
                renewed = held.then(std::time::Instant::now);
                held
            }
        };
        if held {
            if let Err(e) = refresh(&db).await {
                tracing::error!(error = %e, "reports worker");
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
