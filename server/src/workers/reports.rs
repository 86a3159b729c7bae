//! Keeps the report episodes and rollups current: refreshes the conversations that changed
//! (marked in the transaction of each change). Reports also refresh before they read, so this
//! loop only keeps that work small.

use app::service::reports;
use app::store::{Db, StoreError};
use std::time::Duration;

pub async fn refresh(db: &Db) -> Result<usize, StoreError> {
    reports::refresh_pending(db).await
}

pub async fn run(db: Db) {
    loop {
        if let Err(e) = refresh(&db).await {
            tracing::error!(error = %e, "reports worker");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
