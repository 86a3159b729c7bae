//! Threading an inbound message into its customer's one conversation.
//!
//! Every channel adapter turns what it received into an [`InboundMessage`]; this is the single
//! place that resolves the sender to a customer, finds or creates the conversation, and stores
//! the message idempotently.

use super::channel_accounts::AccountRow;
use super::{conversations, Db, Result, StoreError};
use crate::domain::{Direction, IdentifierKind};
use sqlx::{AnyConnection, Row};

/// Longest inbound text kept in `body_text`; the raw payload always keeps everything.
pub const MAX_INBOUND_CHARS: usize = 100_000;

#[derive(Clone, Debug, PartialEq)]
pub struct InboundMessage {
    pub identifier_kind: IdentifierKind,
    /// As the provider gave it; normalised here.
    pub identifier: String,
    pub display_name: Option<String>,
    /// Unique per channel account; duplicates of it are ignored.
    pub provider_message_id: String,
    pub subject: Option<String>,
    pub body_text: String,
    /// Already sanitised HTML (email); shown in a sandboxed frame.
    pub body_html: Option<String>,
    pub received_at: i64,
    /// Channel threading facts; empty for channels that have none.
    pub thread: ThreadHints,
    /// Auto-replies, bulk mail and bounces: stored and shown, but never reopen a conversation.
    pub automatic: bool,
    /// Channel-specific facts kept as JSON on the message (`messages.meta`).
    pub meta: Option<serde_json::Value>,
    pub attachments: Vec<NewAttachment>,
    /// Files the provider holds for us (a URL or a media id): the inbound worker downloads
    /// them with the channel's media fetcher, within size limits, before storing the message.
    pub media: Vec<MediaRef>,
}

/// A file held by the provider, to be downloaded by the channel adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    /// An URL (Twilio, Messenger) or the provider's media id (WhatsApp, Telegram file_id).
    pub locator: String,
    pub content_type: Option<String>,
    pub filename: Option<String>,
}

/// What else, besides the sender's identifier, tells which conversation a message belongs to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThreadHints {
    /// This message's own RFC 5322 Message-ID, without angle brackets.
    pub rfc_message_id: Option<String>,
    /// Message-IDs it answers: In-Reply-To first, then References from newest to oldest.
    pub refs: Vec<String>,
    /// A conversation named by a verified reply-address token.
    pub token_conversation: Option<i64>,
}

/// A file that came with an inbound message.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAttachment {
    /// Already made safe for a Content-Disposition header and a file system.
    pub filename: String,
    pub content_type: String,
    /// The `Content-ID` (without angle brackets) that inline `cid:` references use.
    pub content_id: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    pub conversation_id: i64,
    pub message_id: i64,
    pub customer_id: i64,
    /// The sender's identifier (the one the message came through).
    pub identifier_id: i64,
    pub duplicate: bool,
}

/// (customer, identifier) of `kind:value`, if someone has it.
pub(crate) async fn find_identity(
    conn: &mut AnyConnection,
    kind: IdentifierKind,
    value: &str,
) -> Result<Option<(i64, i64)>> {
    let r = sqlx::query("SELECT id, customer_id FROM identifiers WHERE kind = $1 AND value = $2")
        .bind(kind.as_str())
        .bind(value)
        .fetch_optional(&mut *conn)
        .await?;
    r.map(|r| Ok((r.try_get("customer_id")?, r.try_get("id")?)))
        .transpose()
}

/// (customer, identifier, the customer's conversation if it has one) of a known sender, in
/// one statement that also records the inbound time (`None` for automatic mail). Being a
/// write, it holds the identifier's row until the message is stored, so a merge that moves
/// the identifier waits for the message instead of leaving it behind (PostgreSQL).
async fn touch_identity(
    conn: &mut AnyConnection,
    kind: IdentifierKind,
    value: &str,
    last_inbound: Option<i64>,
) -> Result<Option<(i64, i64, Option<i64>)>> {
    let r = sqlx::query(
        "UPDATE identifiers SET last_inbound_at = COALESCE($3, last_inbound_at) WHERE kind = $1 AND value = $2 \
         RETURNING id, customer_id, \
           (SELECT c.id FROM conversations c WHERE c.customer_id = identifiers.customer_id) AS conversation_id",
    )
    .bind(kind.as_str())
    .bind(value)
    .bind(last_inbound)
    .fetch_optional(&mut *conn)
    .await?;
    r.map(|r| {
        Ok((
            r.try_get("customer_id")?,
            r.try_get("id")?,
            r.try_get("conversation_id")?,
        ))
    })
    .transpose()
}

/// Resolves `kind:value` to (customer, identifier), creating a customer when nobody has it.
pub async fn resolve_identity(
    conn: &mut AnyConnection,
    kind: IdentifierKind,
    value: &str,
    label: &str,
    name: &str,
    at: i64,
) -> Result<(i64, i64)> {
    if let Some(found) = find_identity(conn, kind, value).await? {
        return Ok(found);
    }
    let customer_id: i64 = sqlx::query(
        "INSERT INTO customers (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
    )
    .bind(name)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let r = sqlx::query(
        "INSERT INTO identifiers (customer_id, kind, value, label, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (kind, value) DO NOTHING RETURNING id",
    )
    .bind(customer_id)
    .bind(kind.as_str())
    .bind(value)
    .bind(label)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await?;
    match r {
        Some(r) => Ok((customer_id, r.try_get("id")?)),
        None => {
            // Lost a race with another writer: use theirs and drop our empty customer.
            sqlx::query("DELETE FROM customers WHERE id = $1")
                .bind(customer_id)
                .execute(&mut *conn)
                .await?;
            find_identity(conn, kind, value)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }
}

/// Stores an inbound message in its customer's conversation. Idempotent per
/// (account, provider message id).
pub async fn ingest_message(
    db: &Db,
    account: &AccountRow,
    raw_id: Option<i64>,
    msg: &InboundMessage,
) -> Result<Ingested> {
    ingest_batch(db, account, &[(raw_id, msg)])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)?
}

/// Stores several messages of one account in one transaction (one commit for the lot), each
/// in its own savepoint so that one bad or duplicate message leaves the others stored.
/// Results come back in input order; the outer `Err` means nothing was stored.
pub async fn ingest_batch(
    db: &Db,
    account: &AccountRow,
    items: &[(Option<i64>, &InboundMessage)],
) -> Result<Vec<Result<Ingested>>> {
    let prepared: Vec<std::result::Result<Prepared, String>> =
        items.iter().map(|(_, m)| prepare(account, m)).collect();
    // The usual case: every message is new and stores cleanly, so the batch needs no
    // savepoints. Anything else (a duplicate, an error) starts over with one savepoint each.
    if let Some(done) = ingest_optimistic(db, account, items, &prepared).await? {
        return Ok(done);
    }
    use sqlx::Acquire;
    let mut tx = db.write.begin().await?;
    let mut out = Vec::with_capacity(items.len());
    let mut processed = Vec::new();
    for (&(raw_id, msg), p) in items.iter().zip(&prepared) {
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                out.push(Err(StoreError::Invalid(e.clone())));
                continue;
            }
        };
        let mut sp = tx.begin().await?;
        let one = store_one(&mut sp, account, raw_id, msg, p).await;
        match &one {
            Ok(r) if !r.duplicate => {
                sp.commit().await?;
                processed.extend(raw_id);
            }
            // A duplicate may have created nothing, or a customer it must not keep.
            _ => sp.rollback().await?,
        }
        out.push(one);
    }
    mark_processed(&mut tx, &processed).await?;
    tx.commit().await?;
    Ok(out)
}

/// All messages in one transaction without savepoints; `None` (and nothing stored) as soon as
/// one is a duplicate or fails.
async fn ingest_optimistic(
    db: &Db,
    account: &AccountRow,
    items: &[(Option<i64>, &InboundMessage)],
    prepared: &[std::result::Result<Prepared, String>],
) -> Result<Option<Vec<Result<Ingested>>>> {
    let mut tx = db.write.begin().await?;
    let mut out = Vec::with_capacity(items.len());
    let mut processed = Vec::new();
    for (&(raw_id, msg), p) in items.iter().zip(prepared) {
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                out.push(Err(StoreError::Invalid(e.clone())));
                continue;
            }
        };
        match store_one(&mut tx, account, raw_id, msg, p).await {
            Ok(r) if !r.duplicate => {
                processed.extend(raw_id);
                out.push(Ok(r));
            }
            _ => {
                tx.rollback().await?;
                return Ok(None);
            }
        }
    }
    mark_processed(&mut tx, &processed).await?;
    tx.commit().await?;
    Ok(Some(out))
}

/// The raw payloads whose message was stored are processed, in the same transaction.
async fn mark_processed(conn: &mut AnyConnection, raw_ids: &[i64]) -> Result<()> {
    if raw_ids.is_empty() {
        return Ok(());
    }
    let list = (0..raw_ids.len())
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE raw_inbound SET state = 'processed', error = NULL, processed_at = $1, attempts = attempts + 1 WHERE id IN ({list})"
    );
    let mut q = sqlx::query(&sql).bind(super::now_ms());
    for id in raw_ids {
        q = q.bind(*id);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// What a message's sender and text become once checked and normalised.
struct Prepared {
    value: String,
    label: String,
    name: String,
    body: String,
}

/// Checks and normalises; the error is in words.
fn prepare(account: &AccountRow, msg: &InboundMessage) -> std::result::Result<Prepared, String> {
    if msg.identifier_kind != account.channel.identifier_kind() {
        return Err(format!(
            "a {} account cannot receive from a {} identifier",
            account.channel.label(),
            msg.identifier_kind.as_str()
        ));
    }
    if msg.provider_message_id.is_empty() || msg.provider_message_id.len() > 512 {
        return Err("the provider message id is missing or too long".into());
    }
    let value = msg
        .identifier_kind
        .normalize(&msg.identifier)
        .map_err(|e| e.to_string())?;
    let label: String = msg
        .identifier
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let name: String = msg
        .display_name
        .as_deref()
        .map(|n| {
            n.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| label.clone());
    let body: String = msg.body_text.chars().take(MAX_INBOUND_CHARS).collect();
    Ok(Prepared {
        value,
        label,
        name,
        body,
    })
}

/// One message inside the caller's transaction. A duplicate answers with the stored message
/// (`duplicate: true`); the caller rolls its savepoint back then.
async fn store_one(
    tx: &mut AnyConnection,
    account: &AccountRow,
    raw_id: Option<i64>,
    msg: &InboundMessage,
    p: &Prepared,
) -> Result<Ingested> {
    let Prepared {
        value,
        label,
        name,
        body,
    } = p;
    let at = msg.received_at;
    let last_inbound = (!msg.automatic).then_some(at);
    let known = touch_identity(tx, msg.identifier_kind, value, last_inbound).await?;
    let is_new = known.is_none();
    let (customer_id, identifier_id, conversation) = match known {
        Some((customer, identifier, conversation)) => {
            let found = (customer, identifier);
            // A known sender answering another customer's conversation may be that customer
            // too: suggest a merge (never made by itself).
            if msg.thread.token_conversation.is_some() || !msg.thread.refs.is_empty() {
                if let Some(other) = threaded_customer(tx, msg).await? {
                    super::suggestions::record_threaded_reply(tx, found.0, other, label, at)
                        .await?;
                }
            }
            (customer, identifier, conversation)
        }
        None => match threaded_customer(tx, msg).await? {
            Some(customer_id) => {
                let id = add_suggested_identifier(
                    tx,
                    customer_id,
                    msg.identifier_kind,
                    value,
                    label,
                    at,
                )
                .await?;
                (customer_id, id, None)
            }
            None => {
                let (c, i) =
                    resolve_identity(tx, msg.identifier_kind, value, label, name, at).await?;
                (c, i, None)
            }
        },
    };
    let conversation_id = match conversation {
        Some(c) => c,
        None => conversations::ensure_for_customer(tx, customer_id, at).await?,
    };
    let meta = msg
        .meta
        .as_ref()
        .map(|m| m.to_string())
        .unwrap_or_else(|| "{}".into());
    let inserted = sqlx::query(
        "INSERT INTO messages (conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, \
           subject, body_text, body_html, provider_message_id, delivery_state, raw_inbound_id, created_at, updated_at, \
           rfc_message_id, meta, automatic) \
         VALUES ($1, $2, 'in', $3, $4, $5, $6, $7, $8, $9, 'received', $10, $11, $11, $12, $13, $14) \
         ON CONFLICT (channel_account_id, provider_message_id) DO NOTHING RETURNING id",
    )
    .bind(conversation_id)
    .bind(customer_id)
    .bind(account.channel.as_str())
    .bind(account.id)
    .bind(identifier_id)
    .bind(msg.subject.as_deref())
    .bind(body)
    .bind(msg.body_html.as_deref())
    .bind(&msg.provider_message_id)
    .bind(raw_id)
    .bind(at)
    .bind(msg.thread.rfc_message_id.as_deref())
    .bind(meta)
    .bind(msg.automatic as i64)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = inserted else {
        let existing = sqlx::query("SELECT id, conversation_id, customer_id, identifier_id FROM messages WHERE channel_account_id = $1 AND provider_message_id = $2")
            .bind(account.id)
            .bind(&msg.provider_message_id)
            .fetch_one(&mut *tx)
            .await?;
        return Ok(Ingested {
            conversation_id: existing.try_get("conversation_id")?,
            message_id: existing.try_get("id")?,
            customer_id: existing.try_get("customer_id")?,
            identifier_id: existing
                .try_get::<Option<i64>, _>("identifier_id")?
                .unwrap_or(identifier_id),
            duplicate: true,
        });
    };
    let message_id: i64 = row.try_get("id")?;
    for a in &msg.attachments {
        sqlx::query(
            "INSERT INTO attachments (message_id, filename, content_type, size_bytes, content_id, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(message_id)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.data.len() as i64)
        .bind(a.content_id.as_deref())
        .bind(a.data.clone())
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    if msg.automatic {
        conversations::touch_for_automatic(tx, conversation_id, account.channel, at).await?;
    } else {
        // The inbox preview shows what the customer wrote, not the history they quoted.
        let (written, _) = crate::domain::quote::split_quoted(body);
        conversations::touch_for_message(
            tx,
            conversation_id,
            account.channel,
            Direction::In,
            written,
            at,
        )
        .await?;
        if is_new {
            // A known identifier got its time in `touch_identity`.
            sqlx::query("UPDATE identifiers SET last_inbound_at = $1 WHERE id = $2")
                .bind(at)
                .bind(identifier_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(Ingested {
        conversation_id,
        message_id,
        customer_id,
        identifier_id,
        duplicate: false,
    })
}

/// For a sender nobody has yet: the customer whose conversation this message answers, by a
/// signed reply-address token or by In-Reply-To/References naming a message we hold.
async fn threaded_customer(conn: &mut AnyConnection, msg: &InboundMessage) -> Result<Option<i64>> {
    if let Some(cid) = msg.thread.token_conversation {
        let r = sqlx::query("SELECT customer_id FROM conversations WHERE id = $1")
            .bind(cid)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(r) = r {
            // The conversation's customer may have been merged into another since.
            let customer = r.try_get("customer_id")?;
            return Ok(Some(super::merge::current_customer(conn, customer).await?));
        }
    }
    for id in msg.thread.refs.iter().take(MAX_THREAD_REFS) {
        let r = sqlx::query(
            "SELECT customer_id FROM messages WHERE rfc_message_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = r {
            return Ok(Some(r.try_get("customer_id")?));
        }
    }
    Ok(None)
}

/// Most referenced Message-IDs looked up for one message.
const MAX_THREAD_REFS: usize = 20;

/// Adds an identifier to `customer_id` as a suggestion (verified = 0) for an agent to confirm.
async fn add_suggested_identifier(
    conn: &mut AnyConnection,
    customer_id: i64,
    kind: IdentifierKind,
    value: &str,
    label: &str,
    at: i64,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO identifiers (customer_id, kind, value, label, created_at, verified) VALUES ($1, $2, $3, $4, $5, 0) \
         ON CONFLICT (kind, value) DO NOTHING RETURNING id",
    )
    .bind(customer_id)
    .bind(kind.as_str())
    .bind(value)
    .bind(label)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await?;
    match r {
        Some(r) => Ok(r.try_get("id")?),
        None => {
            let (_, id) = find_identity(conn, kind, value)
                .await?
                .ok_or(StoreError::NotFound)?;
            Ok(id)
        }
    }
}
