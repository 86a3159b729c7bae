//! Messages (`messages`): inbound and outbound, their delivery state, and the lookups that
//! thread replies. Sending a reply is `service::reply`; storing an inbound message is
//! `service::ingest`.

use super::{now_ms, Db, Result, StoreError};
use crate::domain::reply_choice::LastInbound;
use crate::domain::{ChannelKind, DeliveryState, Direction, IdentifierKind};
use sqlx::{AnyConnection, Row};

/// A message received, as stored.
pub struct NewInbound<'a> {
    pub conversation_id: i64,
    pub customer_id: i64,
    pub channel: ChannelKind,
    pub account_id: i64,
    pub identifier_id: i64,
    pub subject: Option<&'a str>,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
    pub provider_message_id: &'a str,
    pub raw_id: Option<i64>,
    pub at: i64,
    pub rfc_message_id: Option<&'a str>,
    /// `messages.meta`, a JSON object.
    pub meta: String,
    pub automatic: bool,
}

/// Stores an inbound message, inside the caller's transaction; `None` when the account
/// already has a message with its provider id (a duplicate).
pub async fn insert_inbound(conn: &mut AnyConnection, m: &NewInbound<'_>) -> Result<Option<i64>> {
    let r = sqlx::query(
        "INSERT INTO messages (conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, \
           subject, body_text, body_html, provider_message_id, delivery_state, raw_inbound_id, created_at, updated_at, \
           rfc_message_id, meta, automatic) \
         VALUES ($1, $2, 'in', $3, $4, $5, $6, $7, $8, $9, 'received', $10, $11, $11, $12, $13, $14) \
         ON CONFLICT (channel_account_id, provider_message_id) DO NOTHING RETURNING id",
    )
    .bind(m.conversation_id)
    .bind(m.customer_id)
    .bind(m.channel.as_str())
    .bind(m.account_id)
    .bind(m.identifier_id)
    .bind(m.subject)
    .bind(m.body_text)
    .bind(m.body_html)
    .bind(m.provider_message_id)
    .bind(m.raw_id)
    .bind(m.at)
    .bind(m.rfc_message_id)
    .bind(&m.meta)
    .bind(m.automatic as i64)
    .fetch_optional(&mut *conn)
    .await?;
    r.map(|r| r.try_get("id")).transpose().map_err(Into::into)
}

/// A stored message's place: (message, conversation, customer, identifier).
pub type Placed = (i64, i64, i64, Option<i64>);

/// Where the message account `account_id` knows by `provider_message_id` is, inside the
/// caller's transaction.
pub async fn placed(
    conn: &mut AnyConnection,
    account_id: i64,
    provider_message_id: &str,
) -> Result<Placed> {
    Ok(sqlx::query_as(
        "SELECT id, conversation_id, customer_id, identifier_id FROM messages \
         WHERE channel_account_id = $1 AND provider_message_id = $2",
    )
    .bind(account_id)
    .bind(provider_message_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// The customer of the oldest message with RFC Message-ID `rfc_message_id`.
pub async fn customer_by_rfc_id(
    conn: &mut AnyConnection,
    rfc_message_id: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_as::<_, (i64,)>(
        "SELECT customer_id FROM messages WHERE rfc_message_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(rfc_message_id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|(c,)| c))
}

/// What a reply from account `account_id` to identifier `identifier_id` in conversation
/// `conversation_id` needs to know, when the identifier is the conversation's customer's.
pub struct ReplyTarget {
    pub customer_id: i64,
    /// The identifier's kind as stored.
    pub kind: String,
    pub label: String,
    /// The account's channel as stored.
    pub channel: String,
    pub enabled: bool,
    /// The account's name, its state (`ok`, `error`, …) and the words of its last failure.
    pub account_name: String,
    pub account_state: String,
    pub account_state_detail: Option<String>,
    /// The identifier is the customer's own (not one that joined by threading unconfirmed).
    pub verified: bool,
}

pub async fn reply_target(
    conn: &mut AnyConnection,
    conversation_id: i64,
    identifier_id: i64,
    account_id: i64,
) -> Result<Option<ReplyTarget>> {
    let r = sqlx::query(
        "SELECT c.customer_id, i.kind, i.label, i.verified, a.channel, a.enabled, a.name, a.state, a.state_detail \
         FROM conversations c \
         JOIN identifiers i ON i.customer_id = c.customer_id AND i.id = $2 \
         JOIN channel_accounts a ON a.id = $3 \
         WHERE c.id = $1",
    )
    .bind(conversation_id)
    .bind(identifier_id)
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    r.map(|r| {
        Ok(ReplyTarget {
            customer_id: r.try_get("customer_id")?,
            kind: r.try_get("kind")?,
            label: r.try_get("label")?,
            channel: r.try_get("channel")?,
            enabled: r.try_get::<i64, _>("enabled")? != 0,
            account_name: r.try_get("name")?,
            account_state: r.try_get("state")?,
            account_state_detail: r.try_get("state_detail")?,
            verified: r.try_get::<i64, _>("verified")? != 0,
        })
    })
    .transpose()
}

/// An outbound message to queue.
pub struct NewOutbound<'a> {
    pub conversation_id: i64,
    pub customer_id: i64,
    pub channel: ChannelKind,
    pub account_id: i64,
    pub identifier_id: i64,
    /// None for an automatic answer.
    pub author: Option<i64>,
    pub body_text: &'a str,
    /// An automatic answer (an SMS HELP reply).
    pub automatic: bool,
    pub at: i64,
    /// The draft's idempotency key, unique per conversation (`messages_draft_key`).
    pub draft_key: Option<&'a str>,
}

/// Stores an outbound message as queued, inside the caller's transaction; returns its id.
/// With a `draft_key` another message of the conversation already holds (a double submit
/// racing this one), nothing is stored and the answer is `None`.
pub async fn insert_outbound(conn: &mut AnyConnection, m: &NewOutbound<'_>) -> Result<Option<i64>> {
    Ok(sqlx::query(
        "INSERT INTO messages (conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, \
           author_user_id, body_text, delivery_state, automatic, created_at, updated_at, draft_key) \
         VALUES ($1, $2, 'out', $3, $4, $5, $6, $7, 'queued', $8, $9, $9, $10) \
         ON CONFLICT (conversation_id, draft_key) DO NOTHING RETURNING id",
    )
    .bind(m.conversation_id)
    .bind(m.customer_id)
    .bind(m.channel.as_str())
    .bind(m.account_id)
    .bind(m.identifier_id)
    .bind(m.author)
    .bind(m.body_text)
    .bind(m.automatic as i64)
    .bind(m.at)
    .bind(m.draft_key)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?)
}

/// Stores a campaign's message as queued, inside the caller's transaction: no author (the
/// timeline names the campaign), a subject and HTML for email.
pub async fn insert_campaign(
    conn: &mut AnyConnection,
    m: &NewOutbound<'_>,
    subject: Option<&str>,
    html: Option<&str>,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO messages (conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, \
           subject, body_text, body_html, delivery_state, automatic, created_at, updated_at) \
         VALUES ($1, $2, 'out', $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $9) RETURNING id",
    )
    .bind(m.conversation_id)
    .bind(m.customer_id)
    .bind(m.channel.as_str())
    .bind(m.account_id)
    .bind(m.identifier_id)
    .bind(subject)
    .bind(m.body_text)
    .bind(html)
    .bind(m.at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get("id")?)
}

/// The message of `conversation_id` stored from the draft with idempotency key `key`.
pub async fn by_draft_key(
    conn: &mut AnyConnection,
    conversation_id: i64,
    key: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_as::<_, (i64,)>(
        "SELECT id FROM messages WHERE conversation_id = $1 AND draft_key = $2",
    )
    .bind(conversation_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?
    .map(|(id,)| id))
}

/// The customer's last message in the conversation that was not automatic, for the default
/// reply option.
pub async fn last_inbound(db: &Db, conversation_id: i64) -> Result<Option<LastInbound>> {
    let last = sqlx::query(
        "SELECT channel, channel_account_id, identifier_id, created_at FROM messages \
         WHERE conversation_id = $1 AND direction = 'in' AND automatic = 0 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(conversation_id)
    .fetch_optional(&db.read)
    .await?;
    let Some(r) = last else {
        return Ok(None);
    };
    let ch: String = r.try_get("channel")?;
    ChannelKind::parse(&ch)
        .map(|channel| -> Result<LastInbound> {
            Ok(LastInbound {
                channel,
                account_id: r.try_get("channel_account_id")?,
                identifier_id: r.try_get("identifier_id")?,
                at: r.try_get("created_at")?,
            })
        })
        .transpose()
}

/// Moves every message of conversation `from` to conversation `to` of customer `customer`.
pub async fn move_all(conn: &mut AnyConnection, from: i64, to: i64, customer: i64) -> Result<()> {
    sqlx::query(
        "UPDATE messages SET conversation_id = $1, customer_id = $2 WHERE conversation_id = $3",
    )
    .bind(to)
    .bind(customer)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The sanitised HTML body of a message, if it has one.
pub async fn html_body(db: &Db, message_id: i64) -> Result<Option<String>> {
    let r = sqlx::query("SELECT body_html FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_optional(&db.read)
        .await?;
    Ok(match r {
        Some(r) => r.try_get("body_html")?,
        None => None,
    })
}

/// Marks read every message sent through `account_id` to the identifier `kind:value` up to
/// `watermark` (Messenger and Instagram report reads by time). Returns (message, conversation)
/// of each message that changed.
pub async fn read_up_to(
    db: &Db,
    account_id: i64,
    kind: IdentifierKind,
    value: &str,
    watermark: i64,
) -> Result<Vec<(i64, i64)>> {
    let rows = sqlx::query(
        "UPDATE messages SET delivery_state = 'read', delivered_at = COALESCE(delivered_at, $4), updated_at = $4 \
         WHERE channel_account_id = $1 AND direction = 'out' AND delivery_state IN ('sent', 'delivered') \
           AND sent_at <= $3 AND identifier_id = (SELECT id FROM identifiers WHERE kind = $2 AND value = $5) \
         RETURNING id, conversation_id",
    )
    .bind(account_id)
    .bind(kind.as_str())
    .bind(watermark)
    .bind(now_ms())
    .bind(value)
    .fetch_all(&db.write)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("conversation_id")?)))
        .collect()
}

/// Moves a message to `state` if that is forward progress; returns its conversation id when
/// something changed.
pub async fn set_delivery(
    db: &Db,
    message_id: i64,
    state: DeliveryState,
    reason: Option<&str>,
    provider_message_id: Option<&str>,
) -> Result<Option<i64>> {
    let mut tx = db.write.begin().await?;
    let r = set_delivery_in(&mut tx, message_id, state, reason, provider_message_id).await?;
    tx.commit().await?;
    Ok(r)
}

/// [`set_delivery`] inside the caller's transaction.
pub async fn set_delivery_in(
    tx: &mut AnyConnection,
    message_id: i64,
    state: DeliveryState,
    reason: Option<&str>,
    provider_message_id: Option<&str>,
) -> Result<Option<i64>> {
    let r = sqlx::query("SELECT conversation_id, delivery_state FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let current: String = r.try_get("delivery_state")?;
    let current = DeliveryState::parse(&current).unwrap_or(DeliveryState::Queued);
    if !current.may_advance_to(state) {
        return Ok(None);
    }
    let now = now_ms();
    sqlx::query(
        "UPDATE messages SET delivery_state = $1, failure_reason = $2, \
           provider_message_id = COALESCE($3, provider_message_id), \
           sent_at = CASE WHEN $4 = 1 AND sent_at IS NULL THEN $5 ELSE sent_at END, \
           delivered_at = CASE WHEN $6 = 1 AND delivered_at IS NULL THEN $5 ELSE delivered_at END, \
           updated_at = $5 WHERE id = $7",
    )
    .bind(state.as_str())
    .bind(reason)
    .bind(provider_message_id)
    .bind(matches!(
        state,
        DeliveryState::Sent | DeliveryState::Delivered | DeliveryState::Read
    ) as i64)
    .bind(now)
    .bind(matches!(state, DeliveryState::Delivered | DeliveryState::Read) as i64)
    .bind(message_id)
    .execute(&mut *tx)
    .await?;
    Ok(Some(r.try_get("conversation_id")?))
}

/// The message an account knows by `provider_message_id`.
pub async fn by_provider_id(
    db: &Db,
    account_id: i64,
    provider_message_id: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query(
        "SELECT id FROM messages WHERE channel_account_id = $1 AND provider_message_id = $2",
    )
    .bind(account_id)
    .bind(provider_message_id)
    .fetch_optional(&db.read)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?)
}

/// The last 100 messages between one customer identifier and the business on a playground
/// channel, oldest first: what the playground page shows as the customer's own screen.
/// An identifier that does not normalise has no messages.
pub async fn playground_thread(
    db: &Db,
    channel: ChannelKind,
    identifier: &str,
) -> Result<Vec<crate::model::PlaygroundMessage>> {
    let Ok(value) = channel.identifier_kind().normalize(identifier) else {
        return Ok(vec![]);
    };
    let rows = sqlx::query(
        "SELECT m.id, m.direction, m.body_text, m.delivery_state, m.created_at FROM messages m \
         JOIN identifiers i ON i.id = m.identifier_id \
         JOIN channel_accounts a ON a.id = m.channel_account_id \
         WHERE i.kind = $1 AND i.value = $2 AND m.channel = $3 AND a.provider = $4 \
         ORDER BY m.created_at DESC, m.id DESC LIMIT 100",
    )
    .bind(channel.identifier_kind().as_str())
    .bind(value)
    .bind(channel.as_str())
    .bind(crate::domain::providers::PLAYGROUND)
    .fetch_all(&db.read)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter().rev() {
        let d: String = r.try_get("direction")?;
        let s: String = r.try_get("delivery_state")?;
        out.push(crate::model::PlaygroundMessage {
            id: r.try_get("id")?,
            direction: Direction::parse(&d).unwrap_or(Direction::In),
            body_text: r.try_get("body_text")?,
            delivery_state: DeliveryState::parse(&s).unwrap_or(DeliveryState::Received),
            created_at: r.try_get("created_at")?,
        });
    }
    Ok(out)
}

/// Records the RFC Message-ID an email was sent with, so replies to it thread (inside the
/// caller's transaction).
pub async fn set_rfc_message_id(
    conn: &mut AnyConnection,
    message_id: i64,
    rfc_message_id: &str,
) -> Result<()> {
    sqlx::query("UPDATE messages SET rfc_message_id = $1 WHERE id = $2")
        .bind(rfc_message_id)
        .bind(message_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A message as a report fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageFact {
    pub id: i64,
    pub conversation_id: i64,
    pub inbound: bool,
    pub channel: ChannelKind,
    pub author: Option<i64>,
    pub automatic: bool,
    pub at: i64,
}

fn message_fact(r: &sqlx::any::AnyRow) -> Result<Option<MessageFact>> {
    let channel: String = r.try_get("channel")?;
    let direction: String = r.try_get("direction")?;
    // A channel this build does not know (written by a newer one) is not counted.
    let Some(channel) = ChannelKind::parse(&channel) else {
        return Ok(None);
    };
    Ok(Some(MessageFact {
        id: r.try_get("id")?,
        conversation_id: r.try_get("conversation_id")?,
        inbound: direction == "in",
        channel,
        author: r.try_get("author_user_id")?,
        automatic: r.try_get::<i64, _>("automatic")? != 0,
        at: r.try_get("created_at")?,
    }))
}

/// The report facts of conversations `from_id..to_id` (or of one, with `to_id = from_id + 1`)
/// written at or after `since`, by conversation and time.
pub async fn facts(
    conn: &mut AnyConnection,
    from_id: i64,
    to_id: i64,
    since: i64,
) -> Result<Vec<MessageFact>> {
    let rows = sqlx::query(
        "SELECT id, conversation_id, direction, channel, author_user_id, automatic, created_at \
         FROM messages WHERE conversation_id >= $1 AND conversation_id < $2 AND created_at >= $3 \
         ORDER BY conversation_id, created_at, id",
    )
    .bind(from_id)
    .bind(to_id)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(f) = message_fact(r)? {
            out.push(f);
        }
    }
    Ok(out)
}

/// Failed outbound messages written at `from..to` (unix ms) by channel, provider and reason:
/// `(channel, provider, reason, count)`, most first.
pub async fn failures_between(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, String, i64)>> {
    sent_counts(
        conn,
        "COALESCE(m.failure_reason, '')",
        "m.delivery_state = 'failed'",
        from,
        to,
    )
    .await
}

/// Messages sent (outbound, by agents and the system) at `from..to` (unix ms) by channel,
/// provider and delivery state: `(channel, provider, state, count)`.
pub async fn delivery_between(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, String, i64)>> {
    sent_counts(conn, "m.delivery_state", "m.direction = 'out'", from, to).await
}

/// Messages matching `filter` written at `from..to`, counted by channel, provider and the text
/// expression `by`: `(channel, provider, by, count)`, most first.
async fn sent_counts(
    conn: &mut AnyConnection,
    by: &str,
    filter: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, String, i64)>> {
    let rows = sqlx::query(&format!(
        "SELECT m.channel, a.provider, {by} AS k, COUNT(*) AS n FROM messages m \
         JOIN channel_accounts a ON a.id = m.channel_account_id \
         WHERE {filter} AND m.created_at >= $1 AND m.created_at < $2 \
         GROUP BY m.channel, a.provider, {by} ORDER BY n DESC"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("channel")?,
                r.try_get("provider")?,
                r.try_get("k")?,
                r.try_get("n")?,
            ))
        })
        .collect()
}

/// Outbound messages by delivery state (`queued`, `sent`, `delivered`, `read`, `failed`, ...),
/// for operators.
pub async fn delivery_counts(db: &Db) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT delivery_state, COUNT(*) AS n FROM messages WHERE direction = 'out' \
         GROUP BY delivery_state ORDER BY delivery_state",
    )
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("delivery_state")?, r.try_get("n")?)))
        .collect()
}
