//! Live updates. Every change worth showing is published as a [`LiveEvent`]; browsers receive
//! them over server-sent events. On SQLite the hub is in-process; on PostgreSQL events go
//! through NOTIFY so every server process sharing the database sees every event.

use crate::model::LiveEvent;
use crate::store::{Backend, Db};
use tokio::sync::broadcast;

pub const PG_CHANNEL: &str = "convergence_live";

#[derive(Clone, Debug)]
pub struct Hub {
    tx: broadcast::Sender<LiveEvent>,
    notify_via: Option<sqlx::AnyPool>,
}

impl Hub {
    pub fn new(db: &Db) -> Hub {
        let (tx, _) = broadcast::channel(1024);
        let notify_via = (db.backend == Backend::Postgres).then(|| db.write.clone());
        Hub { tx, notify_via }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// Publishes an event to every browser of every process. Failures are logged, not
    /// returned: the change itself is already committed, and browsers also re-fetch on focus.
    /// Tells every browser that conversation `id` changed (they re-fetch what they show).
    pub async fn conversation_changed(&self, id: i64) {
        self.publish(LiveEvent {
            kind: crate::model::LiveKind::Conversation,
            conversation_id: Some(id),
            message_id: None,
            presence: None,
        })
        .await;
    }

    pub async fn publish(&self, ev: LiveEvent) {
        match &self.notify_via {
            Some(pool) => {
                let payload = serde_json::to_string(&ev).unwrap_or_default();
                if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(PG_CHANNEL)
                    .bind(payload)
                    .execute(pool)
                    .await
                {
                    tracing::warn!(error = %e, "could not publish live event");
                }
            }
            None => self.deliver_local(ev),
        }
    }

    /// Hands an event to this process's subscribers.
    pub fn deliver_local(&self, ev: LiveEvent) {
        let _ = self.tx.send(ev);
    }

    pub fn uses_notify(&self) -> bool {
        self.notify_via.is_some()
    }
}

/// Forwards PostgreSQL notifications into the hub, reconnecting with backoff. Runs forever.
pub async fn run_pg_listener(url: String, hub: Hub) {
    let mut delay = std::time::Duration::from_millis(250);
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(PG_CHANNEL).await {
                    tracing::warn!(error = %e, "LISTEN failed");
                } else {
                    delay = std::time::Duration::from_millis(250);
                    loop {
                        match listener.recv().await {
                            Ok(n) => match serde_json::from_str::<LiveEvent>(n.payload()) {
                                Ok(ev) => hub.deliver_local(ev),
                                Err(e) => tracing::warn!(error = %e, "bad live event payload"),
                            },
                            Err(e) => {
                                tracing::warn!(error = %e, "live listener lost its connection");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not connect the live listener"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(std::time::Duration::from_secs(10));
    }
}
