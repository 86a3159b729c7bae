//! Reopens snoozed conversations when their time comes. One process at a time does it (the
//! `snooze` lease), so a wake-up is announced once.

use app::model::{LiveEvent, LiveKind};
use app::service::conversations;
use app::ssr::live::Hub;
use app::store::{now_ms, Db, StoreError};

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
        if crate::leases::hold(&db, "snooze").await {
            if let Err(e) = wake_due(&db, &hub).await {
                tracing::error!(error = %e, "snooze worker");
            }
        }
        tokio::time::sleep(crate::leases::RENEW).await;
    }
}
