//! What an operator watches: the queues, the mailboxes' sync, deliveries, the leases this
//! process holds. Read at each scrape of `/metrics`; the server adds its own counters.

use crate::store::{leases, mailbox, messages, outbox, raw_inbound, Db, Result};

/// One reading of the database's side of the metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub inbound_pending: i64,
    /// Seconds the oldest pending inbound payload has waited (0 when none).
    pub inbound_oldest_age_s: f64,
    pub inbound_failed: i64,
    pub outbox_depth: i64,
    /// Seconds since the job due longest ago became due (0 when none is overdue).
    pub outbox_oldest_due_age_s: f64,
    /// (account id, phase, seconds since its last successful look or `None` if never).
    pub mailboxes: Vec<(i64, String, Option<f64>)>,
    /// Outbound messages by delivery state.
    pub deliveries: Vec<(String, i64)>,
    pub leases_held: i64,
}

fn age_s(now: i64, since: Option<i64>) -> f64 {
    since.map_or(0.0, |t| ((now - t).max(0)) as f64 / 1000.0)
}

/// Reads the snapshot at `now` for the process named `holder`.
pub async fn snapshot(db: &Db, holder: &str, now: i64) -> Result<Snapshot> {
    let (inbound_pending, oldest, inbound_failed) = raw_inbound::queue_stats(db).await?;
    let (outbox_depth, oldest_due) = outbox::queue_stats(db).await?;
    let mailboxes = mailbox::sync_states(db)
        .await?
        .into_iter()
        .map(|(id, phase, last)| (id, phase, last.map(|t| age_s(now, Some(t)))))
        .collect();
    Ok(Snapshot {
        inbound_pending,
        inbound_oldest_age_s: age_s(now, oldest),
        inbound_failed,
        outbox_depth,
        outbox_oldest_due_age_s: age_s(now, oldest_due),
        mailboxes,
        deliveries: messages::delivery_counts(db).await?,
        leases_held: leases::held_by(db, holder, now).await?,
    })
}
