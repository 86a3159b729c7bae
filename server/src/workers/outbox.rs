//! Delivers queued outbound messages through the channel's sender, with retries and backoff.
//! Each job is leased, so a crash mid-send makes it due again after the lease.

use crate::channels::{Registry, SendError};
use crate::delivery;
use app::domain::consent::Purpose;
use app::domain::gate::Gate;
use app::domain::retry::backoff_ms;
use app::domain::DeliveryState;
use app::model::{LiveEvent, LiveKind};
use app::service::consent::provider_opt_out;
use app::ssr::live::Hub;
use app::store::{channel_accounts, consent, messages, outbox, Db, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Delivers every due job; returns how many were attempted.
pub async fn deliver_due(db: &Db, hub: &Hub, registry: &Registry) -> Result<usize, StoreError> {
    let mut n = 0;
    while let Some(job) = outbox::claim(db).await? {
        n += 1;
        deliver(db, hub, registry, &job).await?;
    }
    Ok(n)
}

async fn publish(hub: &Hub, conversation_id: i64, message_id: i64) {
    hub.publish(LiveEvent {
        kind: LiveKind::Delivery,
        conversation_id: Some(conversation_id),
        message_id: Some(message_id),
    })
    .await;
}

async fn deliver(
    db: &Db,
    hub: &Hub,
    registry: &Registry,
    job: &outbox::Job,
) -> Result<(), StoreError> {
    let msg = outbox::load(db, job.message_id).await?;
    let account = channel_accounts::get(db, msg.account_id).await?;
    let fail = |reason: String| async move {
        messages::set_delivery(
            db,
            msg.message_id,
            DeliveryState::Failed,
            Some(&reason),
            None,
        )
        .await?;
        outbox::give_up(db, job.outbox_id, &reason).await?;
        publish(hub, msg.conversation_id, msg.message_id).await;
        Ok::<(), StoreError>(())
    };
    let Some(sender) = registry.sender(&account.provider) else {
        return fail(format!("no sender for provider {:?}", account.provider)).await;
    };
    if !account.enabled {
        return fail(format!(
            "the channel account {:?} is disabled",
            account.name
        ))
        .await;
    }
    // Consent and the reply window are checked here, right before sending, whatever the
    // screen showed when the reply was written (an opt-out may have arrived since).
    let identifier_id = msg.identifier_id;
    if !msg.automatic {
        let gate = Gate {
            last_inbound_at: msg.last_inbound_at,
            support: consent::current(db, identifier_id, Purpose::Support).await?,
        };
        if let Err(why) = gate.check(msg.channel, &msg.recipient_label, app::store::now_ms()) {
            return fail(format!("Not sent: {why}")).await;
        }
    }
    if let Err(why) = app::domain::window::check_text_limit(msg.channel, &msg.body_text) {
        return fail(format!("Not sent: {why}")).await;
    }
    if messages::set_delivery(db, msg.message_id, DeliveryState::Sending, None, None)
        .await?
        .is_some()
    {
        publish(hub, msg.conversation_id, msg.message_id).await;
    }
    match sender.send(&account, &msg).await {
        Ok(sent) => {
            // The Message-ID first: once the message shows as sent, replies to it must thread.
            if let Some(rfc) = &sent.rfc_message_id {
                messages::set_rfc_message_id(db, msg.message_id, rfc).await?;
            }
            messages::set_delivery(
                db,
                msg.message_id,
                sent.state,
                None,
                Some(&sent.provider_message_id),
            )
            .await?;
            outbox::complete(db, job.outbox_id).await?;
            publish(hub, msg.conversation_id, msg.message_id).await;
            // Reports that came before this answer (a fast status callback) apply now.
            delivery::apply_held_reports(
                db,
                hub,
                account.id,
                &sent.provider_message_id,
                msg.message_id,
            )
            .await?;
        }
        Err(SendError::Temporary(e)) if job.attempt < outbox::MAX_ATTEMPTS => {
            let delay = backoff_ms(job.attempt);
            let reason = format!(
                "attempt {} failed: {e}; retrying in {} s",
                job.attempt,
                delay / 1000
            );
            messages::set_delivery(
                db,
                msg.message_id,
                DeliveryState::Queued,
                Some(&reason),
                None,
            )
            .await?;
            outbox::retry_later(db, job.outbox_id, delay, &reason).await?;
            publish(hub, msg.conversation_id, msg.message_id).await;
        }
        Err(SendError::Temporary(e)) => {
            fail(format!("gave up after {} attempts: {e}", job.attempt)).await?
        }
        Err(SendError::Permanent(e)) => fail(e).await?,
        Err(SendError::OptedOut(e)) => {
            provider_opt_out(db, identifier_id, &e, msg.message_id).await?;
            fail(e).await?;
            hub.publish(LiveEvent {
                kind: LiveKind::Conversation,
                conversation_id: Some(msg.conversation_id),
                message_id: None,
            })
            .await;
        }
    }
    Ok(())
}

pub async fn run(db: Db, hub: Hub, registry: Registry, wake: Arc<Notify>) {
    loop {
        if let Err(e) = deliver_due(&db, &hub, &registry).await {
            tracing::error!(error = %e, "outbox worker");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
