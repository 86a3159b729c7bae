//! Website chat visitors (`chat_visitors`) and what one visitor may read: the chat messages of
//! the conversation their visitor id (an identifier of kind `chat`) belongs to. Every query
//! here is bound to one visitor of one chat channel, so the widget never reads another
//! visitor's conversation, whatever it sends.

use super::{Db, Result};
use sqlx::Row;

/// One message as the widget shows it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct VisitorMessage {
    pub id: i64,
    /// `in` (the visitor wrote it) or `out` (an agent).
    pub direction: String,
    /// `chat`, or `email` for the emails that continued the chat once the visitor had left.
    pub channel: String,
    pub body_text: String,
    pub created_at: i64,
    /// The widget's own id of a message the visitor sent (so it can match its echo).
    pub provider_message_id: Option<String>,
    pub delivery_state: String,
    /// The agent's name, for answers.
    pub author: Option<String>,
}

/// Most messages one read returns (the widget asks again from the last one it has).
pub const PAGE: i64 = 200;

/// Records that `visitor` of chat channel `account` is there at `now` (a request or a stream
/// heartbeat). Answers whether the visitor is new to this channel.
pub async fn touch(db: &Db, account: i64, visitor: &str, now: i64) -> Result<bool> {
    let row = sqlx::query(
        "INSERT INTO chat_visitors (account_id, visitor, last_active_at, created_at) \
         VALUES ($1, $2, $3, $3) \
         ON CONFLICT (account_id, visitor) DO UPDATE SET last_active_at = $3 \
         RETURNING created_at",
    )
    .bind(account)
    .bind(visitor)
    .bind(now)
    .fetch_one(&db.write)
    .await?;
    Ok(row.try_get::<i64, _>(0)? == now)
}

/// Forgets at most `limit` visitors last seen before `before` (unix ms); answers how many.
/// Their tokens have expired, so no widget can name them again; what they wrote stays, with
/// their identifier. Batched, so a backlog never holds the write lock for long.
pub async fn prune(db: &Db, before: i64, limit: i64) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM chat_visitors WHERE id IN \
         (SELECT id FROM chat_visitors WHERE last_active_at < $1 ORDER BY last_active_at LIMIT $2)",
    )
    .bind(before)
    .bind(limit)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected())
}

/// When `visitor` of `account` was last there (None: never).
pub async fn last_active(db: &Db, account: i64, visitor: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT last_active_at FROM chat_visitors WHERE account_id = $1 AND visitor = $2",
    )
    .bind(account)
    .bind(visitor)
    .fetch_optional(&db.read)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get::<i64, _>(0)?),
        None => None,
    })
}

/// Whether any chat visitor of customer `customer` has had the widget open since `since`.
pub async fn visitor_present(db: &Db, customer: i64, since: i64) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM identifiers i JOIN chat_visitors v ON v.visitor = i.value \
         WHERE i.customer_id = $1 AND i.kind = 'chat' AND v.last_active_at >= $2",
    )
    .bind(customer)
    .bind(since)
    .fetch_one(&db.read)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

/// The conversation `visitor` writes in (None until their first message is stored).
pub async fn conversation_of(db: &Db, visitor: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT c.id FROM identifiers i JOIN conversations c ON c.customer_id = i.customer_id \
         WHERE i.kind = 'chat' AND i.value = $1",
    )
    .bind(visitor)
    .fetch_optional(&db.read)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get::<i64, _>(0)?),
        None => None,
    })
}

/// The chat messages of conversation `conversation` after message `after`, oldest first, at
/// most [`PAGE`], with the emails written since the chat began (the chat continued by email:
/// the visitor sees both); answers not yet handed over (queued, failed) are left out.
pub async fn messages_after(db: &Db, conversation: i64, after: i64) -> Result<Vec<VisitorMessage>> {
    let rows = sqlx::query_as::<_, VisitorMessage>(
        "SELECT m.id, m.direction, m.channel, m.body_text, m.created_at, \
                CASE WHEN m.direction = 'in' THEN m.provider_message_id END AS provider_message_id, \
                m.delivery_state, u.name AS author \
         FROM messages m LEFT JOIN users u ON u.id = m.author_user_id \
         WHERE m.conversation_id = $1 AND m.id > $2 \
           AND (m.channel = 'chat' OR (m.channel = 'email' AND m.created_at >= \
                (SELECT MIN(f.created_at) FROM messages f WHERE f.conversation_id = $1 AND f.channel = 'chat'))) \
           AND (m.direction = 'in' OR m.delivery_state IN ('sent', 'delivered', 'read')) \
         ORDER BY m.id LIMIT $3",
    )
    .bind(conversation)
    .bind(after)
    .bind(PAGE)
    .fetch_all(&db.read)
    .await?;
    Ok(rows)
}

/// The last `PAGE` chat messages of `conversation`, oldest first (what a widget shows when it
/// opens).
pub async fn recent(db: &Db, conversation: i64) -> Result<Vec<VisitorMessage>> {
    let first = sqlx::query(
        "SELECT COALESCE(MIN(id), 0) FROM (SELECT id FROM messages \
         WHERE conversation_id = $1 AND channel = 'chat' ORDER BY id DESC LIMIT $2) t",
    )
    .bind(conversation)
    .bind(PAGE)
    .fetch_one(&db.read)
    .await?
    .try_get::<i64, _>(0)?;
    messages_after(db, conversation, first - 1).await
}

/// Moves the agents' chat answers in `conversation` up to message `upto` forward to `state`
/// (`delivered` when the widget got them, `read` when the visitor saw them); never backwards.
/// Answers how many changed.
pub async fn mark_answers(db: &Db, conversation: i64, upto: i64, state: &str) -> Result<u64> {
    let from: &[&str] = match state {
        "read" => &["sent", "delivered"],
        _ => &["sent"],
    };
    let list = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let r = sqlx::query(&format!(
        "UPDATE messages SET delivery_state = $1 \
         WHERE conversation_id = $2 AND channel = 'chat' AND direction = 'out' AND id <= $3 \
           AND delivery_state IN ({list})"
    ))
    .bind(if state == "read" { "read" } else { "delivered" })
    .bind(conversation)
    .bind(upto)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected())
}

/// An agent's chat answer the visitor has not seen.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct UnseenAnswer {
    pub id: i64,
    pub conversation_id: i64,
    pub author_user_id: Option<i64>,
    pub author: Option<String>,
    pub body_text: String,
    pub created_at: i64,
}

/// Chat answers written before `written_before` that nobody has seen, not followed up yet,
/// whose visitor (every chat identifier of the customer) has not been there since
/// `gone_since`: at most `limit`, oldest first.
pub async fn unseen_answers(
    db: &Db,
    written_before: i64,
    gone_since: i64,
    limit: i64,
) -> Result<Vec<UnseenAnswer>> {
    Ok(sqlx::query_as::<_, UnseenAnswer>(
        "SELECT m.id, m.conversation_id, m.author_user_id, u.name AS author, m.body_text, m.created_at \
         FROM messages m LEFT JOIN users u ON u.id = m.author_user_id \
         WHERE m.channel = 'chat' AND m.direction = 'out' \
           AND m.delivery_state IN ('sent', 'delivered') AND m.created_at < $1 \
           AND NOT EXISTS (SELECT 1 FROM chat_followups f WHERE f.message_id = m.id) \
           AND NOT EXISTS (SELECT 1 FROM identifiers i JOIN chat_visitors v ON v.visitor = i.value \
                           WHERE i.customer_id = m.customer_id AND i.kind = 'chat' \
                             AND v.last_active_at >= $2) \
         ORDER BY m.id LIMIT $3",
    )
    .bind(written_before)
    .bind(gone_since)
    .bind(limit)
    .fetch_all(&db.read)
    .await?)
}

/// Records that answers `ids` were followed up by email message `email` (None: they could
/// not be, and are not tried again).
pub async fn record_followup(
    conn: &mut sqlx::AnyConnection,
    ids: &[i64],
    email: Option<i64>,
    at: i64,
) -> Result<()> {
    for id in ids {
        sqlx::query(
            "INSERT INTO chat_followups (message_id, email_message_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(id)
        .bind(email)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The chat account and the page the visitor last wrote from, if the widget said
/// (`messages.meta.page`).
pub async fn last_page(db: &Db, conversation: i64) -> Result<Option<(i64, String)>> {
    let row = sqlx::query(
        "SELECT channel_account_id, meta FROM messages WHERE conversation_id = $1 AND channel = 'chat' \
         AND direction = 'in' AND meta <> '{}' ORDER BY id DESC LIMIT 1",
    )
    .bind(conversation)
    .fetch_optional(&db.read)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let account: i64 = row.try_get(0)?;
    let meta: String = row.try_get(1)?;
    Ok(serde_json::from_str::<serde_json::Value>(&meta)
        .ok()
        .and_then(|v| v.get("page").and_then(|p| p.as_str()).map(str::to_string))
        .map(|p| (account, p)))
}
