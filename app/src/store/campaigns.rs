//! Campaigns and their recipients: the rows and their state changes. Every change of a
//! campaign's status is conditional on the status it leaves, so two people (or two processes)
//! cannot both move it.

use super::{id_list, now_ms, Db, Result};
use crate::domain::consent::Purpose;
use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub definition: String,
    pub status: String,
    pub created_by: i64,
    pub approved_by: Option<i64>,
    pub approved_at: Option<i64>,
    pub scheduled_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub step: i64,
    pub step_due_at: Option<i64>,
    pub planned_step: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, definition, status, created_by, approved_by, approved_at, scheduled_at, started_at, \
                       finished_at, step, step_due_at, planned_step, created_at, updated_at";

pub async fn insert(db: &Db, name: &str, definition: &str, author: i64) -> Result<i64> {
    let now = now_ms();
    let r = sqlx::query(
        "INSERT INTO campaigns (name, definition, status, created_by, created_at, updated_at) \
         VALUES ($1, $2, 'draft', $3, $4, $4) RETURNING id",
    )
    .bind(name)
    .bind(definition)
    .bind(author)
    .bind(now)
    .fetch_one(&db.write)
    .await?;
    Ok(r.try_get("id")?)
}

/// Changes the name and definition of a draft or approved campaign; an approval is withdrawn
/// (what was approved is no longer what would be sent). False when it is past that.
pub async fn update(db: &Db, id: i64, name: &str, definition: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE campaigns SET name = $1, definition = $2, status = 'draft', approved_by = NULL, approved_at = NULL, \
         updated_at = $3 WHERE id = $4 AND status IN ('draft', 'approved')",
    )
    .bind(name)
    .bind(definition)
    .bind(now_ms())
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<CampaignRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1"))
            .bind(id)
            .fetch_optional(&db.read)
            .await?,
    )
}

/// The newest campaigns first.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<CampaignRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&db.read)
    .await?)
}

/// Approves a draft by `approver` (not its author: the caller checked).
pub async fn approve(db: &Db, id: i64, approver: i64) -> Result<bool> {
    let now = now_ms();
    let r = sqlx::query(
        "UPDATE campaigns SET status = 'approved', approved_by = $1, approved_at = $2, updated_at = $2 \
         WHERE id = $3 AND status = 'draft' AND created_by <> $1",
    )
    .bind(approver)
    .bind(now)
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Starts an approved campaign at `at` (now, or a scheduled time): step 0 is due then.
pub async fn start(db: &Db, id: i64, at: i64, scheduled: bool) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE campaigns SET status = $1, scheduled_at = $2, step = 0, step_due_at = $2, updated_at = $3 \
         WHERE id = $4 AND status = 'approved'",
    )
    .bind(if scheduled { "scheduled" } else { "sending" })
    .bind(at)
    .bind(now_ms())
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Moves a campaign from one of `from` to `to`. False when it was in none of them.
pub async fn transition(db: &Db, id: i64, from: &[&str], to: &str) -> Result<bool> {
    let list = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let r = sqlx::query(&format!(
        "UPDATE campaigns SET status = $1, updated_at = $2, \
         finished_at = CASE WHEN $1 IN ('done', 'cancelled') THEN $2 ELSE finished_at END \
         WHERE id = $3 AND status IN ({list})"
    ))
    .bind(to)
    .bind(now_ms())
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The step waiting for its hours starts at `now` instead. False when no step waits.
pub async fn start_step_now(db: &Db, id: i64, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE campaigns SET step_due_at = $1, updated_at = $1 \
         WHERE id = $2 AND status = 'sending' AND planned_step < step AND step_due_at > $1",
    )
    .bind(now)
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Campaigns with work due at `now`: scheduled ones whose time came, and sending ones.
pub async fn active(db: &Db, now: i64) -> Result<Vec<CampaignRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE status = 'sending' OR (status = 'scheduled' AND step_due_at <= $1) ORDER BY id"
    ))
    .bind(now)
    .fetch_all(&db.read)
    .await?)
}

/// Takes the planning lease of a campaign (one process plans a step at a time).
pub async fn lease(db: &Db, id: i64, now: i64, ms: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE campaigns SET locked_until = $1 WHERE id = $2 AND (locked_until IS NULL OR locked_until < $3)",
    )
    .bind(now + ms)
    .bind(id)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn unlease(db: &Db, id: i64) -> Result<()> {
    sqlx::query("UPDATE campaigns SET locked_until = NULL WHERE id = $1")
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Step `step` is planned: every recipient row is written.
pub async fn set_planned(db: &Db, id: i64, step: i64, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET planned_step = $1, status = CASE WHEN status = 'scheduled' THEN 'sending' ELSE status END, \
         started_at = COALESCE(started_at, $2), updated_at = $2 WHERE id = $3 AND planned_step < $1",
    )
    .bind(step)
    .bind(now)
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// The campaign moves on to step `next`, due at `due_at`.
pub async fn advance(db: &Db, id: i64, from: i64, due_at: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE campaigns SET step = $1, step_due_at = $2, updated_at = $3 WHERE id = $4 AND step = $5 AND status = 'sending'",
    )
    .bind(from + 1)
    .bind(due_at)
    .bind(now_ms())
    .bind(id)
    .bind(from)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A recipient to write: planned (with `due_at`) or skipped (with its reason).
#[derive(Clone, Debug)]
pub struct NewRecipient {
    pub customer_id: i64,
    pub state: &'static str,
    pub reason: Option<String>,
    /// The skip reason's code, when skipped.
    pub skip: Option<&'static str>,
    pub due_at: i64,
}

/// Writes recipients of `campaign_id`'s `step`; rows already there stay as they are (a plan
/// interrupted and run again writes each customer once).
pub async fn insert_recipients(
    conn: &mut AnyConnection,
    campaign_id: i64,
    step: i64,
    rows: &[NewRecipient],
    now: i64,
) -> Result<u64> {
    let mut written = 0;
    for chunk in rows.chunks(150) {
        let mut sql = String::from(
            "INSERT INTO campaign_recipients (campaign_id, step, customer_id, state, reason, skip, due_at, updated_at) VALUES ",
        );
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 5;
            sql.push_str(&format!(
                "({campaign_id}, {step}, ${}, ${}, ${}, ${}, ${}, {now})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
        }
        sql.push_str(" ON CONFLICT (campaign_id, step, customer_id) DO NOTHING");
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.customer_id)
                .bind(r.state)
                .bind(r.reason.clone())
                .bind(r.skip)
                .bind(r.due_at);
        }
        written += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(written)
}

/// Plans step `step` for the customers of step `step - 1` still in it (not skipped, not
/// cancelled, not opted out, not in a conversation started by replying). One statement.
pub async fn plan_next_step(db: &Db, campaign_id: i64, step: i64, due_at: i64) -> Result<u64> {
    Ok(sqlx::query(
        "INSERT INTO campaign_recipients (campaign_id, step, customer_id, state, due_at, updated_at) \
         SELECT campaign_id, $1, customer_id, 'planned', $2, $2 FROM campaign_recipients \
         WHERE campaign_id = $3 AND step = $4 AND state IN ('sent', 'delivered', 'failed') \
         ON CONFLICT (campaign_id, step, customer_id) DO NOTHING",
    )
    .bind(step)
    .bind(due_at)
    .bind(campaign_id)
    .bind(step - 1)
    .execute(&db.write)
    .await?
    .rows_affected())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub customer_id: i64,
    pub tried: String,
    pub state: String,
}

/// Lease for a claimed batch of recipients.
pub const RECIPIENT_LEASE_MS: i64 = 60_000;

/// Claims up to `limit` recipients of `campaign_id`'s `step` due at `now` (planned, or waiting
/// whose wait is over), each leased so no other process takes it meanwhile.
pub async fn claim_due(
    db: &Db,
    campaign_id: i64,
    step: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<Due>> {
    // On PostgreSQL, SKIP LOCKED: processes claiming at once take different recipients.
    let skip_locked = db.backend.skip_locked();
    Ok(sqlx::query_as(&format!(
        "UPDATE campaign_recipients SET locked_until = $1 WHERE id IN (\
           SELECT id FROM campaign_recipients WHERE campaign_id = $2 AND step = $3 AND state IN ('planned', 'waiting') \
           AND due_at <= $4 AND (locked_until IS NULL OR locked_until < $4) ORDER BY due_at, id LIMIT $5{skip_locked}) \
         AND (locked_until IS NULL OR locked_until < $4) AND state IN ('planned', 'waiting') \
         RETURNING id, customer_id, tried, state"
    ))
    .bind(now + RECIPIENT_LEASE_MS)
    .bind(campaign_id)
    .bind(step)
    .bind(now)
    .bind(limit)
    .fetch_all(&db.write)
    .await?)
}

/// A recipient waits until `until`, saying why.
pub async fn set_waiting(conn: &mut AnyConnection, id: i64, until: i64, why: &str) -> Result<()> {
    sqlx::query(
        "UPDATE campaign_recipients SET state = 'waiting', due_at = $1, reason = $2, locked_until = NULL, updated_at = $3 WHERE id = $4",
    )
    .bind(until)
    .bind(why)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A recipient ends without a message: `state` is skipped, opted_out or failed; `skip` the
/// skip reason's code.
pub async fn set_final(
    conn: &mut AnyConnection,
    id: i64,
    state: &str,
    skip: Option<&str>,
    why: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE campaign_recipients SET state = $1, reason = $2, skip = $3, locked_until = NULL, updated_at = $4 WHERE id = $5",
    )
    .bind(state)
    .bind(why)
    .bind(skip)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a campaign message carries beside its text.
pub struct NewCampaignMessage<'a> {
    pub message_id: i64,
    pub campaign_id: i64,
    pub recipient_id: i64,
    pub customer_id: i64,
    pub step: i64,
    pub channel: &'a str,
    pub purpose: &'a str,
    pub payload: &'a str,
    pub at: i64,
}

/// Records the message sent to a recipient on a channel. False when that recipient already
/// has a message on that channel in this step (another process got there first): the caller
/// rolls back.
pub async fn record_message(conn: &mut AnyConnection, m: &NewCampaignMessage<'_>) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO campaign_messages (message_id, campaign_id, recipient_id, customer_id, step, channel, purpose, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (recipient_id, channel) DO NOTHING",
    )
    .bind(m.message_id)
    .bind(m.campaign_id)
    .bind(m.recipient_id)
    .bind(m.customer_id)
    .bind(m.step)
    .bind(m.channel)
    .bind(m.purpose)
    .bind(m.payload)
    .bind(m.at)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE campaign_recipients SET state = 'sent', channel = $1, message_id = $2, sent_at = $3, \
         reason = CASE WHEN tried = '' THEN NULL ELSE reason END, \
         locked_until = NULL, updated_at = $3 WHERE id = $4",
    )
    .bind(m.channel)
    .bind(m.message_id)
    .bind(m.at)
    .bind(m.recipient_id)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Takes one send from `account_id`'s allowance for the minute of `now`; false when the
/// minute's `limit` is used up. One row per account and minute, shared by every process.
pub async fn take_throttle(
    conn: &mut AnyConnection,
    account_id: i64,
    now: i64,
    limit: i64,
) -> Result<bool> {
    let minute = now / 60_000;
    let r = sqlx::query(
        "INSERT INTO campaign_throttle (channel_account_id, minute, sent) VALUES ($1, $2, 1) \
         ON CONFLICT (channel_account_id, minute) DO UPDATE SET sent = campaign_throttle.sent + 1 \
         WHERE campaign_throttle.sent < $3 RETURNING sent",
    )
    .bind(account_id)
    .bind(minute)
    .bind(limit)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(r.is_some())
}

/// Forgets throttle minutes older than `before`.
pub async fn prune_throttle(db: &Db, before: i64) -> Result<()> {
    sqlx::query("DELETE FROM campaign_throttle WHERE minute < $1")
        .bind(before / 60_000)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// When each of `customers` got campaign messages since `since` (any campaign; a message
/// that failed reached nobody and does not count), and whether each was marketing.
pub async fn recent_sends(
    conn: &mut AnyConnection,
    customers: &[i64],
    since: i64,
) -> Result<Vec<(i64, i64, bool)>> {
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    let ids = id_list(customers);
    let rows = sqlx::query(&format!(
        "SELECT c.customer_id, c.created_at, c.purpose FROM campaign_messages c JOIN messages m ON m.id = c.message_id \
         WHERE c.customer_id IN ({ids}) AND c.created_at > $1 AND m.delivery_state <> 'failed'"
    ))
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let purpose: String = r.try_get("purpose")?;
            Ok((
                r.try_get("customer_id")?,
                r.try_get("created_at")?,
                purpose == Purpose::Marketing.as_str(),
            ))
        })
        .collect()
}

/// A sent recipient and what became of its message.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Outcome {
    pub id: i64,
    pub customer_id: i64,
    pub channel: Option<String>,
    pub tried: String,
    pub sent_at: Option<i64>,
    pub delivery_state: String,
    pub delivery_error: Option<String>,
}

/// Sent recipients of `campaign_id` whose message is now delivered or failed, or still
/// undelivered after `undelivered_before` (a fallback candidate; not email, which reports no
/// delivery: sent is as far as it goes).
pub async fn outcomes(
    db: &Db,
    campaign_id: i64,
    undelivered_before: i64,
    limit: i64,
) -> Result<Vec<Outcome>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.customer_id, r.channel, r.tried, r.sent_at, m.delivery_state, m.failure_reason AS delivery_error \
         FROM campaign_recipients r JOIN messages m ON m.id = r.message_id \
         WHERE r.campaign_id = $1 AND r.state = 'sent' \
           AND (m.delivery_state IN ('delivered', 'read', 'failed') OR (r.sent_at < $2 AND r.channel <> 'email')) \
         ORDER BY r.id LIMIT $3",
    )
    .bind(campaign_id)
    .bind(undelivered_before)
    .bind(limit)
    .fetch_all(&db.read)
    .await?)
}

pub async fn set_delivered(db: &Db, id: i64, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE campaign_recipients SET state = 'delivered', delivered_at = $1, updated_at = $1 WHERE id = $2 AND state = 'sent'",
    )
    .bind(at)
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// The message on `channel` failed or was not delivered in time: the recipient is planned
/// again for the next channel, remembering the ones tried.
pub async fn fall_back(db: &Db, id: i64, tried: &str, why: &str, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE campaign_recipients SET state = 'planned', tried = $1, reason = $2, due_at = $3, channel = NULL, \
         message_id = NULL, locked_until = NULL, updated_at = $3 WHERE id = $4 AND state = 'sent'",
    )
    .bind(tried)
    .bind(why)
    .bind(now)
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The sent message failed and no channel is left.
pub async fn set_failed(db: &Db, id: i64, why: &str) -> Result<()> {
    sqlx::query(
        "UPDATE campaign_recipients SET state = 'failed', reason = $1, updated_at = $2 WHERE id = $3 AND state = 'sent'",
    )
    .bind(why)
    .bind(now_ms())
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// How many recipients of a step are still to be sent (planned or waiting), and how many
/// wait on a message that may still fail or fall back: not yet accepted by the provider, or
/// (not email) sent after `since` and not delivered.
pub async fn pending(db: &Db, campaign_id: i64, step: i64, since: i64) -> Result<(i64, i64)> {
    let r = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN r.state IN ('planned', 'waiting') THEN 1 ELSE 0 END), 0) AS todo, \
                COALESCE(SUM(CASE WHEN r.state = 'sent' AND (m.delivery_state IN ('queued', 'sending') \
                     OR (r.sent_at >= $1 AND r.channel <> 'email' AND m.delivery_state NOT IN ('delivered', 'read'))) \
                     THEN 1 ELSE 0 END), 0) AS open \
         FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id WHERE r.campaign_id = $2 AND r.step = $3",
    )
    .bind(since)
    .bind(campaign_id)
    .bind(step)
    .fetch_one(&db.read)
    .await?;
    Ok((r.try_get("todo")?, r.try_get("open")?))
}

/// Cancels what a campaign has not sent: its planned and waiting recipients, and its queued
/// messages whose request has not left (their outbox jobs end "cancelled").
pub async fn cancel_pending(db: &Db, campaign_id: i64) -> Result<u64> {
    let now = now_ms();
    let mut tx = db.write.begin().await?;
    let n = sqlx::query(
        "UPDATE campaign_recipients SET state = 'cancelled', reason = 'The campaign was cancelled before this was sent.', \
         updated_at = $1 WHERE campaign_id = $2 AND state IN ('planned', 'waiting')",
    )
    .bind(now)
    .bind(campaign_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE messages SET delivery_state = 'failed', failure_reason = 'Not sent: the campaign was cancelled.', updated_at = $1 \
         WHERE id IN (SELECT o.message_id FROM outbox o JOIN campaign_messages c ON c.message_id = o.message_id \
                      WHERE c.campaign_id = $2 AND o.done_at IS NULL AND o.in_flight_at IS NULL \
                        AND (o.locked_until IS NULL OR o.locked_until < $1))",
    )
    .bind(now)
    .bind(campaign_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE outbox SET done_at = $1, outcome = 'cancelled', last_error = 'campaign cancelled' \
         WHERE done_at IS NULL AND in_flight_at IS NULL AND (locked_until IS NULL OR locked_until < $1) \
           AND message_id IN (SELECT message_id FROM campaign_messages WHERE campaign_id = $2)",
    )
    .bind(now)
    .bind(campaign_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Marks the newest campaign recipient of `customer_id` sent within `since` as replied by
/// `message_id`, and records the reply as answering that campaign; returns the campaign.
pub async fn mark_reply(
    conn: &mut AnyConnection,
    customer_id: i64,
    message_id: i64,
    since: i64,
    at: i64,
) -> Result<Option<i64>> {
    let r = sqlx::query(
        "SELECT id, campaign_id FROM campaign_recipients WHERE customer_id = $1 AND sent_at >= $2 \
         AND state IN ('sent', 'delivered', 'failed', 'replied') ORDER BY sent_at DESC, id DESC LIMIT 1",
    )
    .bind(customer_id)
    .bind(since)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let id: i64 = r.try_get("id")?;
    let campaign_id: i64 = r.try_get("campaign_id")?;
    sqlx::query(
        "UPDATE campaign_recipients SET state = 'replied', replied_at = COALESCE(replied_at, $1), \
         reply_message_id = COALESCE(reply_message_id, $2), updated_at = $1 WHERE id = $3",
    )
    .bind(at)
    .bind(message_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_replies (message_id, campaign_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(campaign_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(Some(campaign_id))
}

/// Whether `customer` was ever sent a campaign message on `channel` (the first one carries the
/// preference center link).
pub async fn ever_sent_on(
    conn: &mut AnyConnection,
    customer: i64,
    channel: crate::domain::ChannelKind,
) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 FROM campaign_messages WHERE customer_id = $1 AND channel = $2 LIMIT 1",
    )
    .bind(customer)
    .bind(channel.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}
