//! The durable outbox. A job is leased (locked_until) while a worker delivers it, so a crashed
//! worker's job becomes due again and several processes can share the queue.

use super::{now_ms, Db, Result, StoreError};
use crate::domain::ChannelKind;
use crate::ports::{Outbound, OutboundFile, ReplyContext};
use sqlx::{AnyConnection, Row};

/// How long a claimed job is reserved for one delivery attempt.
pub const LEASE_MS: i64 = 60_000;
/// Attempts before a temporary failure becomes final.
pub const MAX_ATTEMPTS: i64 = 6;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Job {
    #[sqlx(rename = "id")]
    pub outbox_id: i64,
    pub message_id: i64,
    /// Attempts including this one.
    #[sqlx(rename = "attempts")]
    pub attempt: i64,
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

/// Claims the next due job, if any.
pub async fn claim(db: &Db) -> Result<Option<Job>> {
    let now = now_ms();
    Ok(sqlx::query_as(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM outbox WHERE done_at IS NULL AND next_attempt_at <= $2 \
                     AND (locked_until IS NULL OR locked_until < $2) ORDER BY next_attempt_at, id LIMIT 1) \
           AND done_at IS NULL AND (locked_until IS NULL OR locked_until < $2) \
         RETURNING id, message_id, attempts",
    )
    .bind(now + LEASE_MS)
    .bind(now)
    .fetch_optional(&db.write)
    .await?)
}

/// What the sender of message `message_id` needs to deliver it.
pub async fn load(db: &Db, message_id: i64) -> Result<Outbound> {
    let r = sqlx::query(
        "SELECT m.id, m.conversation_id, m.channel, m.channel_account_id, i.value AS recipient, i.last_inbound_at, m.identifier_id, i.label, m.automatic, m.subject, m.body_text \
         FROM messages m JOIN identifiers i ON i.id = m.identifier_id WHERE m.id = $1",
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
        automatic: r.try_get::<i64, _>("automatic")? != 0,
    })
}

pub async fn complete(db: &Db, outbox_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET done_at = $1, locked_until = NULL, last_error = NULL WHERE id = $2",
    )
    .bind(now_ms())
    .bind(outbox_id)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Schedules another attempt after `delay_ms`.
pub async fn retry_later(db: &Db, outbox_id: i64, delay_ms: i64, error: &str) -> Result<()> {
    let now = now_ms();
    sqlx::query("UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3")
        .bind(now + delay_ms)
        .bind(error)
        .bind(outbox_id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Ends the job without delivery (the message is marked failed by the caller).
pub async fn give_up(db: &Db, outbox_id: i64, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET done_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3",
    )
    .bind(now_ms())
    .bind(error)
    .bind(outbox_id)
    .execute(&db.write)
    .await?;
    Ok(())
}
