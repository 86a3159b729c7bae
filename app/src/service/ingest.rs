//! Threading an inbound message into its customer's one conversation.
//!
//! Every channel adapter turns what it received into an [`InboundMessage`]; this is the single
//! place that resolves the sender to a customer, finds or creates the conversation, and stores
//! the message idempotently.

use super::{reports, suggestions};
use crate::domain::identifier::clean_label;
use crate::domain::Direction;
use crate::ports::InboundMessage;
use crate::store::channel_accounts::AccountRow;
use crate::store::messages::{self, NewInbound};
use crate::store::{attachments, campaigns, conversations, customers, identifiers, raw_inbound};
use crate::store::{Db, Result, StoreError};
use sqlx::AnyConnection;

/// Longest inbound text kept in `body_text`; the raw payload always keeps everything.
pub const MAX_INBOUND_CHARS: usize = 100_000;

/// Most referenced Message-IDs looked up for one message.
const MAX_THREAD_REFS: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    pub conversation_id: i64,
    pub message_id: i64,
    pub customer_id: i64,
    /// The sender's identifier (the one the message came through).
    pub identifier_id: i64,
    pub duplicate: bool,
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
    raw_inbound::mark_processed_many(&mut tx, &processed).await?;
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
    raw_inbound::mark_processed_many(&mut tx, &processed).await?;
    tx.commit().await?;
    Ok(Some(out))
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
    let label = clean_label(&msg.identifier);
    let name = msg
        .display_name
        .as_deref()
        .map(clean_name)
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

/// A display name as given (spaces kept), without control characters, at most 200
/// characters.
fn clean_name(n: &str) -> String {
    n.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Resolves `kind:value` to (customer, identifier), creating a customer when nobody has it.
async fn resolve_sender(
    conn: &mut AnyConnection,
    msg: &InboundMessage,
    p: &Prepared,
    at: i64,
) -> Result<(i64, i64)> {
    let kind = msg.identifier_kind;
    if let Some(found) = identifiers::find(conn, kind, &p.value).await? {
        return Ok(found);
    }
    let customer_id = customers::create(conn, &p.name, at).await?;
    // A customer's own first address is theirs: verified.
    match identifiers::insert_if_new(conn, customer_id, kind, &p.value, &p.label, at, true).await? {
        Some(id) => Ok((customer_id, id)),
        None => {
            // Lost a race with another writer: use theirs and drop our empty customer.
            customers::delete(conn, customer_id).await?;
            identifiers::find(conn, kind, &p.value)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }
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
    let at = msg.received_at;
    let last_inbound = (!msg.automatic).then_some(at);
    let known = identifiers::touch(tx, msg.identifier_kind, &p.value, last_inbound).await?;
    let is_new = known.is_none();
    let (customer_id, identifier_id, conversation) = match known {
        Some((customer, identifier, conversation)) => {
            // A known sender answering another customer's conversation may be that customer
            // too: suggest a merge (never made by itself).
            if msg.thread.token_conversation.is_some() || !msg.thread.refs.is_empty() {
                if let Some(other) = threaded_customer(tx, msg).await? {
                    suggestions::record_threaded_reply(tx, customer, other, &p.label, at).await?;
                }
            }
            (customer, identifier, conversation)
        }
        None => match threaded_customer(tx, msg).await? {
            Some(customer_id) => {
                let id = identifiers::add_suggested(
                    tx,
                    customer_id,
                    msg.identifier_kind,
                    &p.value,
                    &p.label,
                    at,
                )
                .await?;
                (customer_id, id, None)
            }
            None => {
                let (c, i) = resolve_sender(tx, msg, p, at).await?;
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
    let inserted = messages::insert_inbound(
        tx,
        &NewInbound {
            conversation_id,
            customer_id,
            channel: account.channel,
            account_id: account.id,
            identifier_id,
            subject: msg.subject.as_deref(),
            body_text: &p.body,
            body_html: msg.body_html.as_deref(),
            provider_message_id: &msg.provider_message_id,
            raw_id,
            at,
            rfc_message_id: msg.thread.rfc_message_id.as_deref(),
            meta,
            automatic: msg.automatic,
        },
    )
    .await?;
    if inserted.is_some() {
        reports::count_message(tx, conversation_id, at, true, account.channel, None).await?;
    }
    let Some(message_id) = inserted else {
        let (message_id, conversation_id, customer_id, stored_identifier) =
            messages::placed(tx, account.id, &msg.provider_message_id).await?;
        return Ok(Ingested {
            conversation_id,
            message_id,
            customer_id,
            identifier_id: stored_identifier.unwrap_or(identifier_id),
            duplicate: true,
        });
    };
    for a in &msg.attachments {
        attachments::insert(
            tx,
            message_id,
            &a.filename,
            &a.content_type,
            a.content_id.as_deref(),
            &a.data,
            at,
        )
        .await?;
    }
    if msg.automatic {
        conversations::touch_for_automatic(tx, conversation_id, account.channel, at).await?;
    } else {
        // The inbox preview shows what the customer wrote, not the history they quoted.
        let (written, _) = crate::domain::quote::split_quoted(&p.body);
        conversations::touch_for_message(
            tx,
            conversation_id,
            account.channel,
            Direction::In,
            written,
            at,
            conversations::Writer {
                author: None,
                identifier: Some(identifier_id),
            },
        )
        .await?;
        if is_new {
            // A known identifier got its time in `identifiers::touch`.
            identifiers::set_last_inbound(tx, identifier_id, at).await?;
        }
        // An answer to a campaign that messaged this customer lately is marked as such.
        campaigns::mark_reply(
            tx,
            customer_id,
            message_id,
            at - crate::domain::campaign_rules::REPLY_WINDOW_MS,
            at,
        )
        .await?;
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
        if let Some(customer) = conversations::customer_of(conn, cid).await? {
            // The conversation's customer may have been merged into another since.
            return Ok(Some(customers::current(conn, customer).await?));
        }
    }
    for id in msg.thread.refs.iter().take(MAX_THREAD_REFS) {
        if let Some(customer) = messages::customer_by_rfc_id(conn, id).await? {
            return Ok(Some(customer));
        }
    }
    Ok(None)
}
