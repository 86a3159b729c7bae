//! Reopens snoozed conversations when their time comes.

use app::model::{LiveEvent, LiveKind};
use app::service::conversations;
use app::ssr::live::Hub;
use app::store::{now_ms, Db, StoreError};
use std::time::Duration;

pub async fn wake_due(db: &Db, hub: &Hub) -> Result<usize, StoreError> {
    let ids = conversations::wake_snoozed(db, now_ms()).await?;
    for id in &ids {
        hub.publish(LiveEvent {
            kind: LiveKind::Conversation,
            conversation_id: Some(*id),
            message_id: None,
            presence: None,
        })
        .await;
    }
    Ok(ids.len())
}

pub async fn run(db: Db, hub: Hub) {
    loop {
        if let Err(e) = wake_due(&db, &hub).await {
            tracing::error!(error = %e, "snooze worker");
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}
