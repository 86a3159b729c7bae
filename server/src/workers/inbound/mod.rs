//! Processes stored raw inbound payloads: parse with the channel's receiver, thread into the
//! customer's conversation, record the outcome on the raw row. A failure keeps the raw payload
//! and its error visible; nothing is lost.

mod keywords;
mod prepare;

use crate::channels::Registry;
use crate::delivery;
use app::model::{LiveEvent, LiveKind};
use app::ports::{InboundEvent, InboundMessage, RawInbound};
use app::service::ingest;
use app::ssr::live::Hub;
use app::store::channel_accounts::AccountRow;
use app::store::{channel_accounts, messages, raw_inbound, Db, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Processes up to `batch` pending payloads, oldest first; returns how many were looked at.
///
/// Payloads that hold exactly one message (the usual SMS or chat webhook) are stored together
/// in one transaction once their files are downloaded; anything else (delivery reports,
/// batches, read receipts) is handled one payload at a time, after the messages before it.
pub async fn process_pending(
    db: &Db,
    hub: &Hub,
    registry: &Registry,
    batch: i64,
) -> Result<usize, StoreError> {
    let rows = raw_inbound::claim(db, app::store::now_ms(), batch).await?;
    let mut accounts: HashMap<i64, AccountRow> = HashMap::new();
    let mut group = Group::default();
    for raw in &rows {
        let account = match account_for(db, raw, &mut accounts).await {
            Ok(a) => a,
            Err(f) => {
                record(db, raw.id, Err(f)).await?;
                continue;
            }
        };
        let events = match parse(registry, &account, raw) {
            Ok(events) => events,
            Err(f) => {
                record(db, raw.id, Err(f)).await?;
                continue;
            }
        };
        if let [InboundEvent::Message(_)] = events.as_slice() {
            let Some(InboundEvent::Message(m)) = events.into_iter().next() else {
                unreachable!("matched one message above");
            };
            match prepare_message(db, registry, &account, *m).await {
                Ok(Some(m)) => {
                    if group.account.as_ref().is_some_and(|a| a.id != account.id) {
                        group.flush(db, hub, registry).await?;
                    }
                    group.account = Some(account);
                    group.items.push((raw.id, m));
                }
                Ok(None) => record(db, raw.id, Ok(Outcome::Processed)).await?,
                Err(f) => record(db, raw.id, Err(f)).await?,
            }
            continue;
        }
        group.flush(db, hub, registry).await?;
        let outcome = process_events(db, hub, registry, raw, &account, events).await;
        record(db, raw.id, outcome).await?;
    }
    group.flush(db, hub, registry).await?;
    Ok(rows.len())
}

/// Messages of one account waiting to be stored together.
#[derive(Default)]
struct Group {
    account: Option<AccountRow>,
    items: Vec<(i64, InboundMessage)>,
}

impl Group {
    async fn flush(&mut self, db: &Db, hub: &Hub, registry: &Registry) -> Result<(), StoreError> {
        let Some(account) = self.account.take() else {
            return Ok(());
        };
        let items = std::mem::take(&mut self.items);
        let refs: Vec<(Option<i64>, &InboundMessage)> =
            items.iter().map(|(id, m)| (Some(*id), m)).collect();
        let results = match ingest::ingest_batch(db, &account, &refs).await {
            Ok(r) => r,
            Err(e) => {
                for (raw_id, _) in &items {
                    record(db, *raw_id, Err(Failure::Retry(e.to_string()))).await?;
                }
                return Ok(());
            }
        };
        for ((raw_id, m), result) in items.iter().zip(results) {
            let outcome = match result {
                Ok(r) if r.duplicate => Ok(Outcome::Processed),
                Ok(r) => after_new_message(db, hub, registry, &account, m, &r).await,
                Err(StoreError::Invalid(s)) => Err(Failure::Final(s)),
                Err(other) => Err(Failure::Retry(other.to_string())),
            };
            record(db, *raw_id, outcome).await?;
        }
        Ok(())
    }
}

/// Records what became of a raw payload.
async fn record(db: &Db, raw_id: i64, outcome: Result<Outcome, Failure>) -> Result<(), StoreError> {
    match outcome {
        Ok(Outcome::Stored) => Ok(()),
        Ok(Outcome::Processed) => raw_inbound::mark_processed(db, raw_id).await,
        Ok(Outcome::Ignored(reason)) => raw_inbound::mark_ignored(db, raw_id, &reason).await,
        Err(Failure::Final(e)) => {
            tracing::warn!(raw_id, error = %e, "inbound payload rejected");
            raw_inbound::mark_error(db, raw_id, &e, true).await
        }
        Err(Failure::Retry(e)) => {
            tracing::warn!(raw_id, error = %e, "inbound payload will be retried");
            raw_inbound::mark_error(db, raw_id, &e, false).await
        }
    }
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

async fn account_for(
    db: &Db,
    raw: &RawInbound,
    accounts: &mut HashMap<i64, AccountRow>,
) -> Result<AccountRow, Failure> {
    if let Some(a) = accounts.get(&raw.channel_account_id) {
        return Ok(a.clone());
    }
    let a = channel_accounts::get(db, raw.channel_account_id)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    accounts.insert(a.id, a.clone());
    Ok(a)
}

fn parse(
    registry: &Registry,
    account: &AccountRow,
    raw: &RawInbound,
) -> Result<Vec<InboundEvent>, Failure> {
    let receiver = registry.receiver(&account.provider).ok_or_else(|| {
        Failure::Final(format!("no receiver for provider {:?}", account.provider))
    })?;
    // A parser that panics on one payload (a bug, ours or a library's) fails that payload in
    // words and leaves the batch, the worker and the stored payload intact.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        receiver.parse(account, raw)
    }));
    match parsed {
        Ok(r) => r.map_err(|e| Failure::Final(e.0)),
        Err(panic) => {
            let why = crate::panic_message(panic.as_ref());
            tracing::error!(raw = raw.id, provider = %account.provider, "parser panicked: {why}");
            Err(Failure::Final(format!(
                "The {} parser failed on this payload (a bug, reported in the server log: {why}). \
                 The payload is kept as it arrived; nothing was added to a conversation.",
                account.provider
            )))
        }
    }
}

/// Puts the sender in normal form and downloads the message's files. `None`: it is stored
/// already (its files are not downloaded again).
async fn prepare_message(
    db: &Db,
    registry: &Registry,
    account: &AccountRow,
    mut m: InboundMessage,
) -> Result<Option<InboundMessage>, Failure> {
    prepare::normalise_sender(account, &mut m).map_err(Failure::Final)?;
    if !m.media.is_empty()
        && messages::by_provider_id(db, account.id, &m.provider_message_id)
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?
            .is_some()
    {
        return Ok(None);
    }
    prepare::fetch_media(registry, account, &mut m)
        .await
        .map_err(Failure::Retry)?;
    Ok(Some(m))
}

/// A new message is stored (with its raw row marked processed): tell the browsers, act on
/// keywords.
async fn after_new_message(
    db: &Db,
    hub: &Hub,
    registry: &Registry,
    account: &AccountRow,
    m: &InboundMessage,
    r: &ingest::Ingested,
) -> Result<Outcome, Failure> {
    hub.publish(LiveEvent {
        kind: LiveKind::Message,
        conversation_id: Some(r.conversation_id),
        message_id: Some(r.message_id),
        presence: None,
    })
    .await;
    keywords::act_on_keyword(db, hub, registry.links(), account, m, r)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    Ok(Outcome::Stored)
}

/// A payload with several events, or one that is not a message.
async fn process_events(
    db: &Db,
    hub: &Hub,
    registry: &Registry,
    raw: &RawInbound,
    account: &AccountRow,
    events: Vec<InboundEvent>,
) -> Result<Outcome, Failure> {
    let mut ignored = None;
    let single = events.len() == 1;
    let mut stored_with_raw = false;
    let retry = |e: StoreError| Failure::Retry(e.to_string());
    for ev in events {
        match ev {
            InboundEvent::Ignored(reason) => ignored = Some(reason),
            InboundEvent::Message(m) => {
                let Some(m) = prepare_message(db, registry, account, *m).await? else {
                    continue;
                };
                let r = ingest::ingest_message(db, account, Some(raw.id), &m)
                    .await
                    .map_err(|e| match e {
                        StoreError::Invalid(s) => Failure::Final(s),
                        other => Failure::Retry(other.to_string()),
                    })?;
                stored_with_raw = single && !r.duplicate;
                if !r.duplicate {
                    after_new_message(db, hub, registry, account, &m, &r).await?;
                }
            }
            InboundEvent::Status {
                provider_message_id,
                state,
                reason,
            } => {
                delivery::apply_status(
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
                delivery::apply_read(db, hub, account, &identifier, watermark)
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

/// Payloads taken per round.
const BATCH: i64 = 100;
/// Pause after a round that emptied the queue, before looking again.
const GATHER: Duration = Duration::from_millis(20);

pub async fn run(db: Db, hub: Hub, registry: Registry, wake: Arc<Notify>) {
    loop {
        match process_pending(&db, &hub, &registry, BATCH).await {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(n) if n > 0 => {
                // Drained while more is arriving: let a few more gather, so a burst is stored
                // in fewer, larger transactions (a lone message was handled at once).
                tokio::time::sleep(GATHER).await;
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "inbound worker"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}
