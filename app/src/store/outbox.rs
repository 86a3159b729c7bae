//! The durable outbox. A job is leased (locked_until) while a worker delivers it, so a crashed
//! worker's job becomes due again and several processes can share the queue.

use super::{now_ms, Db, Result, StoreError};
use crate::domain::consent::Purpose;
use crate::domain::ChannelKind;
use crate::ports::{CampaignSend, Outbound, OutboundFile, ReplyContext};
use sqlx::{AnyConnection, Row};

/// How long a claimed job is reserved; the worker renews it every [`HEARTBEAT_MS`] while a
/// send runs, so a job held by a dead process is taken over within this time.
pub const LEASE_MS: i64 = 15_000;
/// How often a running send renews its lease.
pub const HEARTBEAT_MS: i64 = 5_000;

/// How a finished job ended without delivery (`outbox.outcome`).
pub const FAILED: &str = "failed";
/// The request may have reached the provider and could not be looked up: the agent decides.
pub const UNKNOWN: &str = "unknown";
pub const CANCELLED: &str = "cancelled";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Job {
    #[sqlx(rename = "id")]
    pub outbox_id: i64,
    pub message_id: i64,
    /// Attempts including this one.
    #[sqlx(rename = "attempts")]
    pub attempt: i64,
    /// When an earlier attempt's request left without its outcome being recorded (the process
    /// died, or the answer was lost): look the message up before sending anything.
    pub in_flight_at: Option<i64>,
    /// Where the retry horizon starts.
    pub since: i64,
}

/// Queues message `message_id` for delivery now, inside the caller's transaction.
pub async fn enqueue(conn: &mut AnyConnection, message_id: i64, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (message_id, attempts, next_attempt_at, created_at) VALUES ($1, 0, $2, $2)",
    )
    .bind(message_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Most Message-IDs kept in a References header.
const MAX_REFERENCES: usize = 20;

async fn reply_context(
    db: &Db,
    conversation_id: i64,
    message_id: i64,
    channel: ChannelKind,
) -> Result<ReplyContext> {
    let r = sqlx::query(
        "SELECT rfc_message_id, meta, subject FROM messages WHERE conversation_id = $1 AND channel = $2 \
         AND direction = 'in' AND rfc_message_id IS NOT NULL AND id <> $3 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(conversation_id)
    .bind(channel.as_str())
    .bind(message_id)
    .fetch_optional(&db.read)
    .await?;
    let Some(r) = r else {
        return Ok(ReplyContext::default());
    };
    let id: String = r.try_get("rfc_message_id")?;
    let meta: String = r.try_get("meta")?;
    let mut references: Vec<String> = serde_json::from_str::<serde_json::Value>(&meta)
        .ok()
        .and_then(|m| m.get("references").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    references.push(id.clone());
    if references.len() > MAX_REFERENCES {
        // Keep the thread's first message and the most recent ones (RFC 5322 3.6.4 practice).
        let first = references[0].clone();
        let tail = references.split_off(references.len() - (MAX_REFERENCES - 1));
        references = std::iter::once(first).chain(tail).collect();
    }
    Ok(ReplyContext {
        in_reply_to: Some(id),
        references,
        subject: r.try_get("subject")?,
    })
}

/// Claims the next due job, if any. On PostgreSQL the row is locked with `SKIP LOCKED`, so
/// processes claiming at once take different jobs instead of one of them finding none.
pub async fn claim(db: &Db) -> Result<Option<Job>> {
    let now = now_ms();
    let skip_locked = db.backend.skip_locked();
    Ok(sqlx::query_as(&format!(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM outbox WHERE done_at IS NULL AND next_attempt_at <= $2 \
                     AND (locked_until IS NULL OR locked_until < $2) ORDER BY next_attempt_at, id LIMIT 1{skip_locked}) \
           AND done_at IS NULL AND (locked_until IS NULL OR locked_until < $2) \
         RETURNING id, message_id, attempts, in_flight_at, COALESCE(retry_from, created_at) AS since"
    ))
    .bind(now + LEASE_MS)
    .bind(now)
    .fetch_optional(&db.write)
    .await?)
}

/// What the sender of message `message_id` needs to deliver it.
pub async fn load(db: &Db, message_id: i64) -> Result<Outbound> {
    let r = sqlx::query(
        "SELECT m.id, m.conversation_id, m.channel, m.channel_account_id, i.value AS recipient, i.last_inbound_at, m.identifier_id, i.label, i.customer_id, m.automatic, m.subject, m.body_text, \
                cm.campaign_id, cm.purpose, cm.payload \
         FROM messages m JOIN identifiers i ON i.id = m.identifier_id LEFT JOIN campaign_messages cm ON cm.message_id = m.id WHERE m.id = $1",
    )
    .bind(message_id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(StoreError::NotFound)?;
    let ch: String = r.try_get("channel")?;
    let channel =
        ChannelKind::parse(&ch).ok_or_else(|| StoreError::Invalid(format!("bad channel {ch}")))?;
    let conversation_id: i64 = r.try_get("conversation_id")?;
    let reply = if channel == ChannelKind::Email {
        reply_context(db, conversation_id, message_id, channel).await?
    } else {
        ReplyContext::default()
    };
    // Channels that cannot carry files got them as links in the text when the reply was
    // queued (`file_links`); the files stay with the message but are not sent.
    let files: Vec<OutboundFile> = if crate::domain::convert::carries_files(channel) {
        sqlx::query_as(
            "SELECT filename, content_type, data FROM attachments WHERE message_id = $1 ORDER BY id",
        )
        .bind(message_id)
        .fetch_all(&db.read)
        .await?
    } else {
        Vec::new()
    };
    Ok(Outbound {
        message_id,
        conversation_id,
        channel,
        account_id: r.try_get("channel_account_id")?,
        to: r.try_get("recipient")?,
        subject: r.try_get("subject")?,
        body_text: r.try_get("body_text")?,
        reply,
        files,
        last_inbound_at: r.try_get("last_inbound_at")?,
        identifier_id: r.try_get("identifier_id")?,
        recipient_label: r.try_get("label")?,
        customer_id: r.try_get("customer_id")?,
        automatic: r.try_get::<i64, _>("automatic")? != 0,
        campaign: campaign_part(&r)?,
    })
}

/// The campaign part of a loaded message, when a campaign sent it. A payload that cannot be
/// read (never written by us) sends the text alone.
fn campaign_part(r: &sqlx::any::AnyRow) -> Result<Option<CampaignSend>> {
    let Some(campaign_id) = r.try_get::<Option<i64>, _>("campaign_id")? else {
        return Ok(None);
    };
    let purpose: String = r.try_get("purpose")?;
    let payload: String = r.try_get("payload")?;
    Ok(Some(CampaignSend {
        campaign_id,
        purpose: Purpose::parse(&purpose).unwrap_or(Purpose::Marketing),
        extra: serde_json::from_str(&payload).unwrap_or_default(),
    }))
}

pub async fn complete(db: &Db, outbox_id: i64) -> Result<()> {
    let mut conn = db.write.acquire().await?;
    complete_in(&mut conn, outbox_id).await
}

/// [`complete`] inside the caller's transaction.
pub async fn complete_in(conn: &mut AnyConnection, outbox_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET done_at = $1, locked_until = NULL, last_error = NULL, in_flight_at = NULL, outcome = NULL WHERE id = $2",
    )
    .bind(now_ms())
    .bind(outbox_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Extends the lease of a job whose send is still running.
pub async fn renew(db: &Db, outbox_id: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET locked_until = $1 WHERE id = $2 AND done_at IS NULL")
        .bind(now_ms() + LEASE_MS)
        .bind(outbox_id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Records that the request of this attempt is about to leave, before it does: should the
/// process die before the answer is recorded, the next claim looks the message up instead of
/// sending it again.
pub async fn mark_in_flight(db: &Db, outbox_id: i64, at: i64) -> Result<()> {
    let mut conn = db.write.acquire().await?;
    mark_in_flight_in(&mut conn, outbox_id, at).await
}

/// [`mark_in_flight`] inside the caller's transaction.
pub async fn mark_in_flight_in(conn: &mut AnyConnection, outbox_id: i64, at: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET in_flight_at = $1 WHERE id = $2")
        .bind(at)
        .bind(outbox_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The provider does not have the message: the next send is a first one again.
pub async fn clear_in_flight(db: &Db, outbox_id: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET in_flight_at = NULL WHERE id = $1")
        .bind(outbox_id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Schedules another attempt at `at` (unix ms). The request of this attempt did not reach the
/// provider, unless `keep_in_flight` (its outcome is still to be looked up).
pub async fn retry_at(
    db: &Db,
    outbox_id: i64,
    at: i64,
    error: &str,
    keep_in_flight: bool,
) -> Result<()> {
    let sql = if keep_in_flight {
        "UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3"
    } else {
        "UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2, in_flight_at = NULL WHERE id = $3"
    };
    sqlx::query(sql)
        .bind(at)
        .bind(error)
        .bind(outbox_id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Schedules another attempt after `delay_ms`.
pub async fn retry_later(db: &Db, outbox_id: i64, delay_ms: i64, error: &str) -> Result<()> {
    retry_at(db, outbox_id, now_ms() + delay_ms, error, false).await
}

/// Gives the job back without counting the attempt (the worker is shutting down before it
/// started, or gave up waiting for a send): another process may claim it at once.
pub async fn release(db: &Db, outbox_id: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET locked_until = NULL WHERE id = $1 AND done_at IS NULL")
        .bind(outbox_id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Ends the job without delivery (the message is marked failed by the caller).
pub async fn give_up(db: &Db, outbox_id: i64, error: &str) -> Result<()> {
    end(db, outbox_id, error, FAILED).await
}

/// Ends the job with `outcome` ([`FAILED`], [`UNKNOWN`]).
pub async fn end(db: &Db, outbox_id: i64, error: &str, outcome: &str) -> Result<()> {
    let mut conn = db.write.acquire().await?;
    end_in(&mut conn, outbox_id, error, outcome).await
}

/// [`end`] inside the caller's transaction.
pub async fn end_in(
    conn: &mut AnyConnection,
    outbox_id: i64,
    error: &str,
    outcome: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET done_at = $1, locked_until = NULL, last_error = $2, outcome = $3 WHERE id = $4",
    )
    .bind(now_ms())
    .bind(error)
    .bind(outcome)
    .bind(outbox_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues a failed (or delivery-unknown, when `unknown_too`) message again, now, with a fresh
/// retry horizon. False when its job is not in such a state (pending, sent, cancelled).
pub async fn requeue(db: &Db, message_id: i64, unknown_too: bool) -> Result<bool> {
    let now = now_ms();
    let mut tx = db.write.begin().await?;
    let r = sqlx::query(
        "UPDATE outbox SET done_at = NULL, outcome = NULL, attempts = 0, next_attempt_at = $1, retry_from = $1, \
         in_flight_at = NULL, locked_until = NULL, last_error = NULL \
         WHERE message_id = $2 AND done_at IS NOT NULL \
           AND (COALESCE(outcome, 'failed') = 'failed' OR (outcome = 'unknown' AND $3 = 1)) \
           AND EXISTS (SELECT 1 FROM messages m WHERE m.id = outbox.message_id AND m.delivery_state = 'failed')",
    )
    .bind(now)
    .bind(message_id)
    .bind(i64::from(unknown_too))
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE messages SET delivery_state = 'queued', failure_reason = NULL, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(message_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Cancels a message's delivery: a failed or delivery-unknown one (then no longer offered for
/// retry), or one waiting for another attempt and not being sent right now (then failed with
/// `reason`). False otherwise.
pub async fn cancel(db: &Db, message_id: i64, reason: &str) -> Result<bool> {
    let now = now_ms();
    let mut tx = db.write.begin().await?;
    let r = sqlx::query(
        "UPDATE outbox SET done_at = COALESCE(done_at, $1), outcome = 'cancelled', locked_until = NULL \
         WHERE message_id = $2 AND COALESCE(outcome, '') <> 'cancelled' \
           AND ((done_at IS NOT NULL AND EXISTS (SELECT 1 FROM messages m WHERE m.id = outbox.message_id AND m.delivery_state = 'failed')) \
                OR (done_at IS NULL AND in_flight_at IS NULL AND (locked_until IS NULL OR locked_until < $1)))",
    )
    .bind(now)
    .bind(message_id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE messages SET delivery_state = 'failed', failure_reason = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(reason)
    .bind(now)
    .bind(message_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The conversation of an outbound message, if `message_id` is one.
pub async fn conversation_of(db: &Db, message_id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT conversation_id FROM messages WHERE id = $1 AND direction = 'out'")
            .bind(message_id)
            .fetch_optional(&db.read)
            .await?
            .map(|r| r.try_get("conversation_id"))
            .transpose()?,
    )
}

/// The failed messages of channel account `account_id` (not the delivery-unknown ones: each of
/// those needs a person's decision).
pub async fn failed_of_account(db: &Db, account_id: i64) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT o.message_id FROM messages m JOIN outbox o ON o.message_id = m.id \
         WHERE m.channel_account_id = $1 AND m.delivery_state = 'failed' \
           AND o.done_at IS NOT NULL AND COALESCE(o.outcome, 'failed') = 'failed' ORDER BY o.message_id",
    )
    .bind(account_id)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<i64, _>("message_id")?))
        .collect()
}

/// The accounts whose messages wait for another attempt after a temporary failure: (account,
/// how many, the earliest next attempt). One query over the pending jobs.
pub async fn failing_accounts(db: &Db) -> Result<Vec<(i64, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT m.channel_account_id AS account, COUNT(*) AS n, MIN(o.next_attempt_at) AS next_at \
         FROM outbox o JOIN messages m ON m.id = o.message_id \
         WHERE o.done_at IS NULL AND o.last_error IS NOT NULL GROUP BY m.channel_account_id",
    )
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("account")?,
                r.try_get("n")?,
                r.try_get("next_at")?,
            ))
        })
        .collect()
}

/// How the provider of an account is doing, from its delivery jobs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountHealth {
    /// Messages waiting for another attempt after a temporary failure.
    pub retrying: i64,
    /// The latest error of those.
    pub last_error: Option<String>,
    /// The earliest next attempt of those.
    pub next_attempt_at: Option<i64>,
    /// Failed messages that can be retried.
    pub failed: i64,
}

pub async fn account_health(db: &Db, account_id: i64) -> Result<AccountHealth> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(o.next_attempt_at) AS next_at FROM outbox o JOIN messages m ON m.id = o.message_id \
         WHERE m.channel_account_id = $1 AND o.done_at IS NULL AND o.last_error IS NOT NULL",
    )
    .bind(account_id)
    .fetch_one(&db.read)
    .await?;
    let retrying: i64 = r.try_get("n")?;
    let next_attempt_at: Option<i64> = r.try_get("next_at")?;
    let last_error: Option<String> = if retrying > 0 {
        sqlx::query(
            "SELECT o.last_error FROM outbox o JOIN messages m ON m.id = o.message_id \
             WHERE m.channel_account_id = $1 AND o.done_at IS NULL AND o.last_error IS NOT NULL \
             ORDER BY o.next_attempt_at DESC, o.id DESC LIMIT 1",
        )
        .bind(account_id)
        .fetch_optional(&db.read)
        .await?
        .map(|r| r.try_get::<Option<String>, _>("last_error"))
        .transpose()?
        .flatten()
    } else {
        None
    };
    let failed = failed_of_account(db, account_id).await?.len() as i64;
    Ok(AccountHealth {
        retrying,
        last_error,
        next_attempt_at,
        failed,
    })
}

/// The outbox for operators: jobs not done, and the due time of the one due longest ago.
pub async fn queue_stats(db: &Db) -> Result<(i64, Option<i64>)> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS depth, MIN(next_attempt_at) AS oldest FROM outbox WHERE done_at IS NULL",
    )
    .fetch_one(&db.read)
    .await?;
    Ok((r.try_get("depth")?, r.try_get("oldest")?))
}
