//! Delivers queued outbound messages through the channel's sender.
//!
//! - Temporary failures are retried with backoff for a horizon of hours ([`Config::horizon_ms`],
//!   shorter where the channel's messaging window closes sooner), never a fixed number of tries.
//! - Each job is leased for [`outbox::LEASE_MS`] and the lease renewed while a send runs, so a
//!   job held by a dead process is taken over within the lease.
//! - Before a request leaves, the job records it (`in_flight_at`). A send whose outcome is not
//!   known (the process died, the answer was lost) is never repeated blindly: the provider is
//!   asked ([`Sender::lookup`]); where it cannot be asked, the message ends "delivery unknown"
//!   and the agent decides whether to send it again.

use crate::channels::{Lookup, Registry, SendError, Sender, Sent};
use crate::delivery;
use app::domain::campaign_rules;
use app::domain::consent::Purpose;
use app::domain::gate::Gate;
use app::domain::retry::{self, Retry};
use app::domain::window::{reply_window, ReplyWindow};
use app::domain::DeliveryState;
use app::model::{LiveEvent, LiveKind};
use app::ports::Outbound;
use app::service::consent::provider_opt_out;
use app::ssr::live::Hub;
use app::store::channel_accounts::AccountRow;
use app::store::{channel_accounts, consent, messages, now_ms, outbox, Db, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// How the worker retries.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long temporary failures are retried, from when the message was queued.
    pub horizon_ms: i64,
    /// How long after a request left a provider that says it has no such message is believed
    /// (the request may still be on its way): until then the lookup is repeated.
    pub settle_ms: i64,
    /// Pause between two lookups of a send whose outcome is unknown.
    pub lookup_every_ms: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            horizon_ms: retry::DEFAULT_HORIZON_MS,
            settle_ms: 60_000,
            lookup_every_ms: 5_000,
        }
    }
}

/// Delivers every due job with the default configuration; returns how many were attempted.
pub async fn deliver_due(db: &Db, hub: &Hub, registry: &Registry) -> Result<usize, StoreError> {
    deliver_due_with(db, hub, registry, &Config::default(), None).await
}

/// Jobs claimed and sent at once: the providers' answers are awaited side by side (each job
/// is still claimed, checked and recorded on its own).
pub const PARALLEL_SENDS: usize = 8;

/// Delivers every due job; returns how many were attempted. Stops claiming once `stop` says so.
pub async fn deliver_due_with(
    db: &Db,
    hub: &Hub,
    registry: &Registry,
    config: &Config,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<usize, StoreError> {
    let mut n = 0;
    while stop.is_none_or(|s| !*s.borrow()) {
        let mut jobs = Vec::with_capacity(PARALLEL_SENDS);
        while jobs.len() < PARALLEL_SENDS {
            match outbox::claim(db).await? {
                Some(job) => jobs.push(job),
                None => break,
            }
        }
        if jobs.is_empty() {
            break;
        }
        n += jobs.len();
        let results = futures::future::join_all(jobs.iter().map(|job| async move {
            let w = Work {
                db,
                hub,
                registry,
                config,
                job,
            };
            let r = w.deliver().await;
            if r.is_err() {
                // The lease is given back so the job is not stuck for its length.
                let _ = outbox::release(db, job.outbox_id).await;
            }
            r
        }))
        .await;
        if let Some(e) = results.into_iter().find_map(Result::err) {
            return Err(e);
        }
    }
    Ok(n)
}

async fn publish(hub: &Hub, conversation_id: i64, message_id: i64) {
    hub.publish(LiveEvent {
        kind: LiveKind::Delivery,
        conversation_id: Some(conversation_id),
        message_id: Some(message_id),
        presence: None,
    })
    .await;
}

/// When the channel's messaging window closes for this message (None when it never does).
fn window_closes_at(msg: &Outbound, now: i64) -> Option<i64> {
    let template = msg
        .campaign
        .as_ref()
        .is_some_and(|c| c.extra.template.is_some());
    if msg.automatic || template {
        return None;
    }
    match reply_window(msg.channel, msg.last_inbound_at, now) {
        ReplyWindow::Always => None,
        ReplyWindow::Open { closes_at } | ReplyWindow::HumanAgent { closes_at } => Some(closes_at),
        ReplyWindow::Closed { .. } => Some(now),
    }
}

/// A time in words for reasons ("2026-12-05 03:16 UTC").
fn at_words(ms: i64) -> String {
    app::domain::text::format_time(ms)
}

struct Work<'a> {
    db: &'a Db,
    hub: &'a Hub,
    registry: &'a Registry,
    config: &'a Config,
    job: &'a outbox::Job,
}

impl Work<'_> {
    async fn fail(&self, msg: &Outbound, reason: &str, outcome: &str) -> Result<(), StoreError> {
        // One transaction: a message shown failed always has its job ended, so "Send again"
        // pressed at once finds it (it raced the second write before).
        let mut tx = self.db.write.begin().await?;
        messages::set_delivery_in(
            &mut tx,
            msg.message_id,
            DeliveryState::Failed,
            Some(reason),
            None,
        )
        .await?;
        outbox::end_in(&mut tx, self.job.outbox_id, reason, outcome).await?;
        tx.commit().await?;
        publish(self.hub, msg.conversation_id, msg.message_id).await;
        Ok(())
    }

    /// Runs `fut` while renewing the job's lease.
    async fn leased<T>(&self, fut: impl std::future::Future<Output = T>) -> T {
        let mut tick = tokio::time::interval(Duration::from_millis(outbox::HEARTBEAT_MS as u64));
        tick.tick().await;
        tokio::pin!(fut);
        loop {
            tokio::select! {
                r = &mut fut => return r,
                _ = tick.tick() => {
                    if let Err(e) = outbox::renew(self.db, self.job.outbox_id).await {
                        tracing::warn!(error = %e, "could not renew an outbox lease");
                    }
                }
            }
        }
    }

    async fn deliver(&self) -> Result<(), StoreError> {
        let db = self.db;
        let msg = outbox::load(db, self.job.message_id).await?;
        let account = channel_accounts::get(db, msg.account_id).await?;
        let Some(sender) = self.registry.sender(&account.provider) else {
            let why = format!("no sender for provider {:?}", account.provider);
            return self.fail(&msg, &why, outbox::FAILED).await;
        };
        if self.job.in_flight_at.is_some() {
            return self.reconcile(&*sender, &account, &msg).await;
        }
        if !account.enabled {
            let why = format!("the channel account {:?} is disabled", account.name);
            return self.fail(&msg, &why, outbox::FAILED).await;
        }
        // Consent and the reply window are checked here, right before sending, whatever the
        // screen showed when the reply was written (an opt-out may have arrived since).
        if let Some(c) = &msg.campaign {
            let holds = consent::current(db, msg.identifier_id, c.purpose).await?;
            if let Err(skip) = campaign_rules::send_check(
                c.purpose,
                msg.channel,
                holds.as_ref(),
                &msg.recipient_label,
                msg.last_inbound_at,
                c.extra.template.is_some(),
                now_ms(),
            ) {
                let why = format!("Not sent: {}", skip.words);
                return self.fail(&msg, &why, outbox::FAILED).await;
            }
        } else if !msg.automatic {
            let gate = Gate {
                last_inbound_at: msg.last_inbound_at,
                support: consent::current(db, msg.identifier_id, Purpose::Support).await?,
            };
            if let Err(why) = gate.check(msg.channel, &msg.recipient_label, now_ms()) {
                return self
                    .fail(&msg, &format!("Not sent: {why}"), outbox::FAILED)
                    .await;
            }
        }
        if let Err(why) = app::domain::window::check_text_limit(msg.channel, &msg.body_text) {
            return self
                .fail(&msg, &format!("Not sent: {why}"), outbox::FAILED)
                .await;
        }
        self.send(&*sender, &account, &msg).await
    }

    async fn send(
        &self,
        sender: &dyn Sender,
        account: &AccountRow,
        msg: &Outbound,
    ) -> Result<(), StoreError> {
        let db = self.db;
        // "Sending" and the in-flight mark in one transaction: one write before the request.
        let mut tx = db.write.begin().await?;
        let moved =
            messages::set_delivery_in(&mut tx, msg.message_id, DeliveryState::Sending, None, None)
                .await?;
        outbox::mark_in_flight_in(&mut tx, self.job.outbox_id, now_ms()).await?;
        tx.commit().await?;
        if moved.is_some() {
            publish(self.hub, msg.conversation_id, msg.message_id).await;
        }
        match self.leased(sender.send(account, msg)).await {
            Ok(sent) => self.record_sent(account, msg, &sent).await,
            Err(SendError::Temporary(e)) => self.temporary(msg, &e, false).await,
            Err(SendError::Unknown(e)) => {
                // Ask the provider soon; until then the message shows as sending.
                let reason = format!(
                    "the provider's answer was lost ({e}); checking whether it has the message"
                );
                outbox::retry_at(
                    db,
                    self.job.outbox_id,
                    now_ms() + self.config.lookup_every_ms,
                    &reason,
                    true,
                )
                .await?;
                messages::set_delivery(
                    db,
                    msg.message_id,
                    DeliveryState::Queued,
                    Some(&reason),
                    None,
                )
                .await?;
                publish(self.hub, msg.conversation_id, msg.message_id).await;
                Ok(())
            }
            Err(SendError::Permanent(e)) => self.fail(msg, &e, outbox::FAILED).await,
            Err(SendError::OptedOut(e)) => {
                provider_opt_out(db, msg.identifier_id, &e, msg.message_id).await?;
                self.fail(msg, &e, outbox::FAILED).await?;
                self.hub
                    .publish(LiveEvent {
                        kind: LiveKind::Conversation,
                        conversation_id: Some(msg.conversation_id),
                        message_id: None,
                        presence: None,
                    })
                    .await;
                Ok(())
            }
        }
    }

    async fn record_sent(
        &self,
        account: &AccountRow,
        msg: &Outbound,
        sent: &Sent,
    ) -> Result<(), StoreError> {
        let db = self.db;
        // The Message-ID, the state and the job's end in one transaction: once the message
        // shows as sent, replies to it must thread.
        let mut tx = db.write.begin().await?;
        if let Some(rfc) = &sent.rfc_message_id {
            messages::set_rfc_message_id(&mut tx, msg.message_id, rfc).await?;
        }
        messages::set_delivery_in(
            &mut tx,
            msg.message_id,
            sent.state,
            None,
            Some(&sent.provider_message_id),
        )
        .await?;
        outbox::complete_in(&mut tx, self.job.outbox_id).await?;
        tx.commit().await?;
        publish(self.hub, msg.conversation_id, msg.message_id).await;
        // Reports that came before this answer (a fast status callback) apply now.
        delivery::apply_held_reports(
            db,
            self.hub,
            account.id,
            &sent.provider_message_id,
            msg.message_id,
        )
        .await
    }

    /// A temporary failure: another attempt within the horizon, else failed. With
    /// `in_flight`, the failure was the lookup of a send whose outcome is unknown.
    async fn temporary(&self, msg: &Outbound, e: &str, in_flight: bool) -> Result<(), StoreError> {
        let now = now_ms();
        let job = self.job;
        match retry::next_attempt(
            job.attempt,
            job.since,
            now,
            self.config.horizon_ms,
            window_closes_at(msg, now),
        ) {
            Retry::At(at) => {
                let reason = format!(
                    "attempt {} failed: {e}; retrying, next attempt at {}",
                    job.attempt,
                    at_words(at)
                );
                outbox::retry_at(self.db, job.outbox_id, at, &reason, in_flight).await?;
                messages::set_delivery(
                    self.db,
                    msg.message_id,
                    DeliveryState::Queued,
                    Some(&reason),
                    None,
                )
                .await?;
                publish(self.hub, msg.conversation_id, msg.message_id).await;
                Ok(())
            }
            Retry::GiveUp if in_flight => {
                let why = format!(
                    "Delivery unknown: the provider could not be asked whether it has the message ({e}). Check with the customer, or send it again."
                );
                self.fail(msg, &why, outbox::UNKNOWN).await
            }
            Retry::GiveUp => {
                let why = format!(
                    "gave up after {} attempt{} since {}: {e}",
                    job.attempt,
                    if job.attempt == 1 { "" } else { "s" },
                    at_words(job.since)
                );
                self.fail(msg, &why, outbox::FAILED).await
            }
        }
    }

    /// The previous attempt's request left and its outcome was not recorded: ask the provider.
    async fn reconcile(
        &self,
        sender: &dyn Sender,
        account: &AccountRow,
        msg: &Outbound,
    ) -> Result<(), StoreError> {
        let since = self.job.in_flight_at.unwrap_or(self.job.since);
        match self.leased(sender.lookup(account, msg, since)).await {
            Ok(Lookup::Found(sent)) => {
                tracing::info!(
                    message_id = msg.message_id,
                    provider_id = %sent.provider_message_id,
                    "a send whose outcome was unknown was found at the provider"
                );
                self.record_sent(account, msg, &sent).await
            }
            Ok(Lookup::NotFound) if now_ms() - since >= self.config.settle_ms => {
                // The provider never got it: this is a first send.
                outbox::clear_in_flight(self.db, self.job.outbox_id).await?;
                self.send(sender, account, msg).await
            }
            Ok(Lookup::NotFound) => {
                let reason =
                    "the provider's answer was lost; checking again whether it has the message";
                outbox::retry_at(
                    self.db,
                    self.job.outbox_id,
                    now_ms() + self.config.lookup_every_ms,
                    reason,
                    true,
                )
                .await?;
                Ok(())
            }
            Ok(Lookup::Unsupported) => {
                let why = "Delivery unknown: the request reached the provider but its answer was lost, and this provider cannot be asked whether it has the message. Check with the customer, or send it again.";
                self.fail(msg, why, outbox::UNKNOWN).await
            }
            Err(SendError::Temporary(e)) | Err(SendError::Unknown(e)) => {
                self.temporary(msg, &e, true).await
            }
            Err(SendError::Permanent(e)) | Err(SendError::OptedOut(e)) => {
                let why = format!(
                    "Delivery unknown: the provider could not be asked whether it has the message ({e}). Check with the customer, or send it again."
                );
                self.fail(msg, &why, outbox::UNKNOWN).await
            }
        }
    }
}

/// Delivers due jobs until `stop` turns true; then finishes the send under way and returns.
pub async fn run(
    db: Db,
    hub: Hub,
    registry: Registry,
    wake: Arc<Notify>,
    config: Config,
    mut stop: watch::Receiver<bool>,
) {
    // Without a sender left, nobody can ask the worker to stop: it runs on.
    let mut stoppable = true;
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = deliver_due_with(&db, &hub, &registry, &config, Some(&stop)).await {
            tracing::error!(error = %e, "outbox worker");
        }
        tokio::select! {
            _ = wake.notified() => {}
            r = stop.changed(), if stoppable => stoppable = r.is_ok(),
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
