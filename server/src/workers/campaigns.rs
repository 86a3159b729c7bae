//! Delivers campaigns: plans due steps, queues due recipients in the outbox after checking
//! each one again, follows what became of their messages (fallback), and ends steps. Any
//! number of processes may run it; the database's leases and uniqueness rules keep each
//! customer to one message per step and channel.

use app::service::campaigns::{self, Tick};
use app::ssr::pref_token::Linker;
use app::store::{now_ms, Db, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Send batches per campaign in one round (each of `campaign_send::SEND_BATCH` recipients).
const BATCHES: usize = 25;

/// One round over every active campaign. `links` makes the preference center links a
/// marketing campaign's first message on a channel carries.
pub async fn run_once(db: &Db, region: &str, links: Option<&Linker>) -> Result<Tick, StoreError> {
    let make = links.map(|l| move |i: i64, c: i64| l.link(i, c, now_ms()));
    campaigns::tick(
        db,
        region,
        make.as_ref()
            .map(|f| f as &(dyn Fn(i64, i64) -> String + Send + Sync)),
        now_ms(),
        BATCHES,
    )
    .await
}

/// Runs rounds until the process ends: at once again while there is work, else when woken
/// or every second. The outbox is woken when messages were queued.
pub async fn run(
    db: Db,
    region: String,
    links: Option<Linker>,
    wake: Arc<Notify>,
    outbox: Arc<Notify>,
) {
    let mut last_prune = 0;
    loop {
        let busy = match run_once(&db, &region, links.as_ref()).await {
            Ok(t) => {
                if t.queued > 0 {
                    outbox.notify_one();
                }
                !t.is_idle()
            }
            Err(e) => {
                tracing::error!(error = %e, "campaign worker");
                false
            }
        };
        let now = now_ms();
        if now - last_prune > 600_000 {
            last_prune = now;
            if let Err(e) = app::store::campaigns::prune_throttle(&db, now - 3_600_000).await {
                tracing::warn!(error = %e, "campaign throttle prune");
            }
        }
        if busy {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
