//! Messages: outbound replies (with their outbox entry) and delivery state changes.

use super::{conversations, now_ms, Db, Result, StoreError};
use crate::domain::{convert, ChannelKind, DeliveryState, Direction, IdentifierKind};
use sqlx::Row;

/// Longest reply body accepted from the composer (per-channel limits come on top).
pub const MAX_BODY_CHARS: usize = 20_000;

/// Writes an outbound message and its outbox entry in one transaction. The identifier must
/// belong to the conversation's customer and fit the account's channel.
pub async fn queue_reply(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    author: i64,
    body: &str,
) -> Result<i64> {
    queue_reply_with_files(
        db,
        conversation_id,
        account_id,
        identifier_id,
        author,
        body,
        &[],
    )
    .await
}

/// Most files on one outbound message, and their total size.
pub const MAX_OUTBOUND_FILES: usize = 10;
pub const MAX_OUTBOUND_BYTES: usize = 20 * 1024 * 1024;

/// [`queue_reply`] with files attached (stored with the message, in the same transaction).
/// Only email carries files; see [`queue_reply_with_links`] for the other channels.
pub async fn queue_reply_with_files(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    author: i64,
    body: &str,
    files: &[super::ingest::NewAttachment],
) -> Result<i64> {
    queue_reply_with_links(
        db,
        conversation_id,
        account_id,
        identifier_id,
        author,
        body,
        files,
        None,
    )
    .await
}

/// Writes an outbound message and its outbox entry in one transaction. The identifier must
/// belong to the conversation's customer and fit the account's channel. The text is converted
/// for the channel (`convert::for_channel`: what the composer previewed). On a channel that
/// cannot carry files, each file becomes a line "File: <name> <link>" with one of `links`'
/// tokens (the files are still stored with the message, and the links expire).
#[allow(clippy::too_many_arguments)]
pub async fn queue_reply_with_links(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    author: i64,
    body: &str,
    files: &[super::ingest::NewAttachment],
    links: Option<&super::file_links::FileLinks>,
) -> Result<i64> {
    if files.len() > MAX_OUTBOUND_FILES {
        return Err(StoreError::Invalid(format!(
            "attach at most {MAX_OUTBOUND_FILES} files"
        )));
    }
    if files.iter().map(|f| f.data.len()).sum::<usize>() > MAX_OUTBOUND_BYTES {
        return Err(StoreError::Invalid(format!(
            "attachments may total at most {} MB",
            MAX_OUTBOUND_BYTES / (1024 * 1024)
        )));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(StoreError::Invalid(format!(
            "a message can have at most {MAX_BODY_CHARS} characters"
        )));
    }
    let mut tx = db.write.begin().await?;
    let r = sqlx::query(
        "SELECT c.customer_id, i.kind, i.label, a.channel, a.enabled FROM conversations c \
         JOIN identifiers i ON i.customer_id = c.customer_id AND i.id = $2 \
         JOIN channel_accounts a ON a.id = $3 \
         WHERE c.id = $1",
    )
    .bind(conversation_id)
    .bind(identifier_id)
    .bind(account_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StoreError::Invalid("this customer cannot be reached that way".into()))?;
    let customer_id: i64 = r.try_get("customer_id")?;
    let kind: String = r.try_get("kind")?;
    let channel: String = r.try_get("channel")?;
    let channel = ChannelKind::parse(&channel)
        .ok_or_else(|| StoreError::Invalid("unknown channel".into()))?;
    if IdentifierKind::parse(&kind).ok() != Some(channel.identifier_kind()) {
        return Err(StoreError::Invalid(format!(
            "a {} identifier cannot receive {} messages",
            kind,
            channel.label()
        )));
    }
    let as_links = !files.is_empty() && !convert::carries_files(channel);
    let links = match links {
        Some(l) if as_links && l.tokens.len() >= files.len() => Some(l),
        _ if as_links => {
            return Err(StoreError::Invalid(format!(
                "files can be sent by email; {} replies carry text only",
                channel.label()
            )))
        }
        _ => None,
    };
    if r.try_get::<i64, _>("enabled")? == 0 {
        return Err(StoreError::Invalid(
            "that channel account is disabled".into(),
        ));
    }
    let mut text = convert::for_channel(channel, body).text;
    if let Some(l) = links {
        let lines: Vec<String> = files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some(convert::file_link_line(&f.filename, &l.url(i)?)))
            .collect();
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&lines.join("\n"));
    }
    if text.trim().is_empty() {
        return Err(StoreError::Invalid("the message is empty".into()));
    }
    crate::domain::window::check_text_limit(channel, &text).map_err(StoreError::Invalid)?;
    let now = now_ms();
    // Consent and the reply window, as the composer showed them (the outbox asks again).
    let label: String = r.try_get("label")?;
    super::sending::gate(db, identifier_id)
        .await?
        .check(channel, &label, now)
        .map_err(StoreError::Invalid)?;
    let id: i64 = sqlx::query(
        "INSERT INTO messages (conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, \
           author_user_id, body_text, delivery_state, created_at, updated_at) \
         VALUES ($1, $2, 'out', $3, $4, $5, $6, $7, 'queued', $8, $8) RETURNING id",
    )
    .bind(conversation_id)
    .bind(customer_id)
    .bind(channel.as_str())
    .bind(account_id)
    .bind(identifier_id)
    .bind(author)
    .bind(&text)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    for (i, f) in files.iter().enumerate() {
        let aid: i64 = sqlx::query(
            "INSERT INTO attachments (message_id, filename, content_type, size_bytes, content_id, data, created_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, $6) RETURNING id",
        )
        .bind(id)
        .bind(&f.filename)
        .bind(&f.content_type)
        .bind(f.data.len() as i64)
        .bind(f.data.clone())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        if let Some(t) = links.and_then(|l| l.tokens.get(i)) {
            super::file_links::create(&mut tx, &t.sha256, aid, id, now).await?;
        }
    }
    sqlx::query("INSERT INTO outbox (message_id, attempts, next_attempt_at, created_at) VALUES ($1, 0, $2, $2)")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    conversations::touch_for_message(
        &mut tx,
        conversation_id,
        channel,
        Direction::Out,
        &text,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues an automatic answer (an SMS HELP reply): no author, marked automatic, exempt from
/// consent and windows (carriers require HELP to be answered even after STOP).
pub async fn queue_automatic(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    body: &str,
) -> Result<i64> {
    let mut tx = db.write.begin().await?;
    let r = sqlx::query("SELECT customer_id FROM conversations WHERE id = $1")
        .bind(conversation_id)
        .fetch_one(&mut *tx)
        .await?;
    let customer_id: i64 = r.try_get("customer_id")?;
    let channel: String = sqlx::query("SELECT channel FROM channel_accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("channel")?;
    let channel = ChannelKind::parse(&channel)
        .ok_or_else(|| StoreError::Invalid("unknown channel".into()))?;
    let now = now_ms();
    let id: i64 = sqlx::query(
        "INSERT INTO messages (conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, \
           body_text, delivery_state, automatic, created_at, updated_at) \
         VALUES ($1, $2, 'out', $3, $4, $5, $6, 'queued', 1, $7, $7) RETURNING id",
    )
    .bind(conversation_id)
    .bind(customer_id)
    .bind(channel.as_str())
    .bind(account_id)
    .bind(identifier_id)
    .bind(body)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    sqlx::query("INSERT INTO outbox (message_id, attempts, next_attempt_at, created_at) VALUES ($1, 0, $2, $2)")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
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
    tx.commit().await?;
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
    .bind(super::channel_accounts::PLAYGROUND)
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

/// Records the RFC Message-ID an email was sent with, so replies to it thread.
pub async fn set_rfc_message_id(db: &Db, message_id: i64, rfc_message_id: &str) -> Result<()> {
    sqlx::query("UPDATE messages SET rfc_message_id = $1 WHERE id = $2")
        .bind(rfc_message_id)
        .bind(message_id)
        .execute(&db.write)
        .await?;
    Ok(())
}
