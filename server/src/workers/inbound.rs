//! Processes stored raw inbound payloads: parse with the channel's receiver, thread into the
//! customer's conversation, record the outcome on the raw row. A failure keeps the raw payload
//! and its error visible; nothing is lost.

use super::messaging;
use crate::channels::{InboundEvent, Registry};
use app::model::{LiveEvent, LiveKind};
use app::ssr::live::Hub;
use app::store::channel_accounts::AccountRow;
use app::store::{channel_accounts, inbound, ingest, messages, Db, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Processes up to `batch` pending payloads; returns how many were looked at.
pub async fn process_pending(
    db: &Db,
    hub: &Hub,
    registry: &Registry,
    batch: i64,
) -> Result<usize, StoreError> {
    let rows = inbound::pending(db, batch).await?;
    let mut accounts: HashMap<i64, AccountRow> = HashMap::new();
    for raw in &rows {
        let outcome = process_one(db, hub, registry, raw, &mut accounts).await;
        match outcome {
            Ok(Outcome::Stored) => {}
            Ok(Outcome::Processed) => inbound::mark_processed(db, raw.id).await?,
            Ok(Outcome::Ignored(reason)) => inbound::mark_ignored(db, raw.id, &reason).await?,
            Err(Failure::Final(e)) => {
                tracing::warn!(raw_id = raw.id, error = %e, "inbound payload rejected");
                inbound::mark_error(db, raw.id, &e, true).await?;
            }
            Err(Failure::Retry(e)) => {
                tracing::warn!(raw_id = raw.id, error = %e, "inbound payload will be retried");
                inbound::mark_error(db, raw.id, &e, false).await?;
            }
        }
    }
    Ok(rows.len())
}

enum Outcome {
    /// One new message, stored together with the raw row's new state.
    Stored,
    Processed,
    Ignored(String),
}

enum Failure {
    /// The payload itself is bad: retrying will not help.
    Final(String),
    /// Something around it failed (storage, an event arriving before its message).
    Retry(String),
}

async fn process_one(
    db: &Db,
    hub: &Hub,
    registry: &Registry,
    raw: &inbound::RawInbound,
    accounts: &mut HashMap<i64, AccountRow>,
) -> Result<Outcome, Failure> {
    let account = match accounts.get(&raw.channel_account_id) {
        Some(a) => a.clone(),
        None => {
            let a = channel_accounts::get(db, raw.channel_account_id)
                .await
                .map_err(|e| Failure::Retry(e.to_string()))?;
            accounts.insert(a.id, a.clone());
            a
        }
    };
    let receiver = registry.receiver(&account.provider).ok_or_else(|| {
        Failure::Final(format!("no receiver for provider {:?}", account.provider))
    })?;
    let events = receiver
        .parse(&account, raw)
        .map_err(|e| Failure::Final(e.0))?;
    let mut ignored = None;
    let single = events.len() == 1;
    let mut stored_with_raw = false;
    let retry = |e: StoreError| Failure::Retry(e.to_string());
    for ev in events {
        match ev {
            InboundEvent::Ignored(reason) => ignored = Some(reason),
            InboundEvent::Message(mut m) => {
                messaging::normalise_sender(&account, &mut m).map_err(Failure::Final)?;
                if !m.media.is_empty()
                    && messages::by_provider_id(db, account.id, &m.provider_message_id)
                        .await
                        .map_err(retry)?
                        .is_some()
                {
                    continue; // stored before: do not download its files again
                }
                messaging::fetch_media(registry, &account, &mut m)
                    .await
                    .map_err(Failure::Retry)?;
                let r = ingest::ingest_message(db, &account, Some(raw.id), &m)
                    .await
                    .map_err(|e| match e {
                        StoreError::Invalid(s) => Failure::Final(s),
                        other => Failure::Retry(other.to_string()),
                    })?;
                stored_with_raw = single && !r.duplicate;
                if !r.duplicate {
                    hub.publish(LiveEvent {
                        kind: LiveKind::Message,
                        conversation_id: Some(r.conversation_id),
                        message_id: Some(r.message_id),
                    })
                    .await;
                    messaging::act_on_keyword(db, hub, &account, &m, &r)
                        .await
                        .map_err(retry)?;
                }
            }
            InboundEvent::Status {
                provider_message_id,
                state,
                reason,
            } => {
                messaging::apply_status(
                    db,
                    hub,
                    account.id,
                    &provider_message_id,
                    state,
                    reason.as_deref(),
                )
                .await
                .map_err(retry)?;
            }
            InboundEvent::ReadUpTo {
                identifier,
                watermark,
            } => {
                messaging::apply_read(db, hub, &account, &identifier, watermark)
                    .await
                    .map_err(retry)?;
            }
        }
    }
    Ok(match ignored {
        Some(reason) => Outcome::Ignored(reason),
        None if stored_with_raw => Outcome::Stored,
        None => Outcome::Processed,
    })
}

pub async fn run(db: Db, hub: Hub, registry: Registry, wake: Arc<Notify>) {
    loop {
        match process_pending(&db, &hub, &registry, 100).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "inbound worker"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}
