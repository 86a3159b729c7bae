//! The durable outbox. A job is leased (locked_until) while a worker delivers it, so a crashed
//! worker's job becomes due again and several processes can share the queue.

use super::{now_ms, Db, Result, StoreError};
use crate::domain::ChannelKind;
use sqlx::Row;

/// How long a claimed job is reserved for one delivery attempt.
pub const LEASE_MS: i64 = 60_000;
/// Attempts before a temporary failure becomes final.
pub const MAX_ATTEMPTS: i64 = 6;

#[derive(Clone, Debug)]
pub struct Job {
    pub outbox_id: i64,
    pub message_id: i64,
    /// Attempts including this one.
    pub attempt: i64,
}

/// What an adapter needs to deliver one message.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub message_id: i64,
    pub conversation_id: i64,
    pub channel: ChannelKind,
    pub account_id: i64,
    /// The recipient identifier's normalised value (email, E.164 phone, provider id).
    pub to: String,
    pub subject: Option<String>,
    pub body_text: String,
    /// What this message answers on its channel (email threading).
    pub reply: ReplyContext,
    /// Files the agent attached.
    pub files: Vec<OutboundFile>,
    /// When the recipient identifier last wrote to us (unix ms): the 24-hour windows.
    pub last_inbound_at: Option<i64>,
    /// The recipient identifier (consent is kept per identifier) and how it is written.
    pub identifier_id: i64,
    pub recipient_label: String,
    /// An automatic answer (an SMS HELP reply): exempt from consent and windows.
    pub automatic: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutboundFile {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The customer's last message on the same channel, for threading headers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplyContext {
    /// Its RFC Message-ID (no angle brackets).
    pub in_reply_to: Option<String>,
    /// Its References followed by its own Message-ID, oldest first.
    pub references: Vec<String>,
    pub subject: Option<String>,
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
    let row = sqlx::query(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM outbox WHERE done_at IS NULL AND next_attempt_at <= $2 \
                     AND (locked_until IS NULL OR locked_until < $2) ORDER BY next_attempt_at, id LIMIT 1) \
           AND done_at IS NULL AND (locked_until IS NULL OR locked_until < $2) \
         RETURNING id, message_id, attempts",
    )
    .bind(now + LEASE_MS)
    .bind(now)
    .fetch_optional(&db.write)
    .await?;
    Ok(match row {
        Some(r) => Some(Job {
            outbox_id: r.try_get("id")?,
            message_id: r.try_get("message_id")?,
            attempt: r.try_get("attempts")?,
        }),
        None => None,
    })
}

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
    let files = if crate::domain::convert::carries_files(channel) {
        sqlx::query(
            "SELECT filename, content_type, data FROM attachments WHERE message_id = $1 ORDER BY id",
        )
        .bind(message_id)
        .fetch_all(&db.read)
        .await?
        .iter()
        .map(|f| {
            Ok(OutboundFile {
                filename: f.try_get("filename")?,
                content_type: f.try_get("content_type")?,
                data: f.try_get("data")?,
            })
        })
        .collect::<Result<Vec<_>>>()?
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

/// Exponential backoff with a cap: 2 s, 4 s, 8 s ... up to 10 minutes.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 20) as u32;
    (1000i64 << exp).min(600_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(super::backoff_ms(1), 2_000);
        assert_eq!(super::backoff_ms(2), 4_000);
        assert!(super::backoff_ms(5) > super::backoff_ms(4));
        assert_eq!(super::backoff_ms(60), 600_000);
        assert_eq!(super::backoff_ms(0), 2_000);
    }
}
