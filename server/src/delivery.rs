//! Delivery reports and read receipts, as the inbound worker receives them and the outbox worker
//! completes them: a report moves its message forward; a report about a message we do not know
//! yet (a status callback racing the send's answer) is held and applied when the send names it.

use app::domain::DeliveryState;
use app::model::{LiveEvent, LiveKind};
use app::ssr::live::Hub;
use app::store::channel_accounts::AccountRow;
use app::store::{messages, reports, Db, Result};

async fn publish_delivery(hub: &Hub, conversation_id: i64, message_id: i64) {
    hub.publish(LiveEvent {
        kind: LiveKind::Delivery,
        conversation_id: Some(conversation_id),
        message_id: Some(message_id),
        presence: None,
    })
    .await;
}

/// Applies a provider's delivery report. A report about a message we do not know yet is kept
/// and applied when the send's answer names it ([`apply_held_reports`]).
pub async fn apply_status(
    db: &Db,
    hub: &Hub,
    account_id: i64,
    provider_message_id: &str,
    state: DeliveryState,
    reason: Option<&str>,
) -> Result<()> {
    match messages::by_provider_id(db, account_id, provider_message_id).await? {
        Some(mid) => {
            if let Some(cid) = messages::set_delivery(db, mid, state, reason, None).await? {
                publish_delivery(hub, cid, mid).await;
            }
        }
        None => {
            reports::save(db, account_id, provider_message_id, state, reason).await?;
            // The send's answer may have been recorded between the lookup and the save: look
            // again, so the report is never left behind.
            if let Some(mid) = messages::by_provider_id(db, account_id, provider_message_id).await?
            {
                apply_held_reports(db, hub, account_id, provider_message_id, mid).await?;
            }
        }
    }
    Ok(())
}

/// Applies the reports held for a message that just got its provider id.
pub async fn apply_held_reports(
    db: &Db,
    hub: &Hub,
    account_id: i64,
    provider_message_id: &str,
    message_id: i64,
) -> Result<()> {
    for (state, reason) in reports::take(db, account_id, provider_message_id).await? {
        if let Some(cid) =
            messages::set_delivery(db, message_id, state, reason.as_deref(), None).await?
        {
            publish_delivery(hub, cid, message_id).await;
        }
    }
    Ok(())
}

/// Messenger/Instagram read receipts: everything sent to `identifier` up to `watermark`.
pub async fn apply_read(
    db: &Db,
    hub: &Hub,
    account: &AccountRow,
    identifier: &str,
    watermark: i64,
) -> Result<()> {
    let kind = account.channel.identifier_kind();
    for (mid, cid) in messages::read_up_to(db, account.id, kind, identifier, watermark).await? {
        publish_delivery(hub, cid, mid).await;
    }
    Ok(())
}
