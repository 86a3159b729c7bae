//! Agents' changes to a customer's identifiers and preferred channel.
//!
//! Values are normalised before they are stored: emails by Unicode NFKC and lower case, phone
//! and WhatsApp numbers to E.164 read with a default region (so "(415) 555-0101" typed in the
//! panel meets "+14155550101" from an SMS), provider ids as given. The default region comes
//! from `CONVERGENCE_DEFAULT_REGION` (two letters, e.g. `GB`), else `US`: see
//! [`default_region`].
//!
//! An identifier with history (messages sent or received through it, or consent records) is
//! never deleted: removing it, or changing its value, detaches it to a customer of its own
//! without a conversation. Past messages stay in the timeline they belong to, its consent
//! record is kept, and the next message from that address starts a new conversation.

use crate::domain::identifier::{clean_label, kind_words};
use crate::domain::merge::{self as rules, SOMEONE};
use crate::domain::phone::normalize_in_region;
use crate::domain::{ChannelKind, IdentifierKind};
use crate::model::CustomerRef;
use crate::store::{conversations, customers, identifiers, now_ms, suggestions, users};
use crate::store::{Db, Result, StoreError};
use sqlx::AnyConnection;

/// The region national phone numbers are read in: `CONVERGENCE_DEFAULT_REGION` when it names
/// a region the numbering plan knows, else "US".
pub fn default_region() -> String {
    std::env::var("CONVERGENCE_DEFAULT_REGION")
        .ok()
        .map(|r| r.trim().to_ascii_uppercase())
        .filter(|r| crate::domain::phone::is_region(r))
        .unwrap_or_else(|| "US".to_string())
}

/// The stored form of `raw` as an identifier of `kind`, or why it cannot be one, in words.
pub fn normalize(kind: IdentifierKind, raw: &str, region: &str) -> Result<String> {
    normalize_in_region(kind, raw, region).map_err(StoreError::Invalid)
}

/// What saving an identifier came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Saved {
    /// Stored on the customer (or it already was).
    Stored { identifier_id: i64 },
    /// Another customer holds it. A merge suggestion pairing the two was recorded, so the
    /// panel offers "Merge <name> into this customer".
    BelongsTo { owner: CustomerRef, value: String },
}

/// A customer that exists and is not merged away, inside a transaction: its name.
async fn active_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<String> {
    let c = customers::state(conn, customer_id).await?;
    if c.merged_into.is_some() {
        let top = customers::current(conn, customer_id).await?;
        let top = customers::reference(conn, top).await?;
        return Err(StoreError::Invalid(format!(
            "{} was merged into {}: make changes there.",
            c.name, top.name
        )));
    }
    Ok(c.name)
}

/// Records that `actor` tried to give `customer_id` an identifier `owner` holds, and answers
/// with the owner.
async fn conflict(
    conn: &mut AnyConnection,
    customer_id: i64,
    customer_name: &str,
    owner: i64,
    kind: IdentifierKind,
    value: &str,
    actor: i64,
) -> Result<Saved> {
    let owner = customers::reference(conn, owner).await?;
    let who = users::name_of(conn, actor, false)
        .await?
        .unwrap_or_else(|| SOMEONE.into());
    let detail = rules::conflict_detail(&who, kind, value, customer_name, &owner.name);
    suggestions::record(
        conn,
        customer_id,
        owner.id,
        rules::CONFLICT,
        &detail,
        now_ms(),
    )
    .await?;
    Ok(Saved::BelongsTo {
        owner,
        value: value.to_string(),
    })
}

/// Adds an identifier to a customer. Adding one the customer already has confirms it.
pub async fn add(
    db: &Db,
    customer_id: i64,
    kind: IdentifierKind,
    raw: &str,
    region: &str,
    actor: i64,
) -> Result<Saved> {
    let value = normalize(kind, raw, region)?;
    let label = clean_label(raw);
    let mut tx = db.write.begin().await?;
    let name = active_customer(&mut tx, customer_id).await?;
    let inserted =
        identifiers::insert_if_new(&mut tx, customer_id, kind, &value, &label, now_ms(), true)
            .await?;
    let saved = match inserted {
        Some(identifier_id) => Saved::Stored { identifier_id },
        None => {
            let (owner, id) = identifiers::find(&mut tx, kind, &value)
                .await?
                .ok_or(StoreError::NotFound)?;
            if owner == customer_id {
                identifiers::set_verified(&mut tx, id).await?;
                Saved::Stored { identifier_id: id }
            } else {
                conflict(&mut tx, customer_id, &name, owner, kind, &value, actor).await?
            }
        }
    };
    tx.commit().await?;
    Ok(saved)
}

/// Takes identifier `id` away from its customer: deleted when nothing refers to it, else
/// given to a new customer of its own (named by its label, without a conversation).
async fn take_away(conn: &mut AnyConnection, id: i64, label: &str) -> Result<()> {
    if identifiers::has_history(conn, id).await? {
        let new_customer = customers::create(conn, label, now_ms()).await?;
        identifiers::set_customer(conn, id, new_customer).await
    } else {
        identifiers::delete(conn, id).await
    }
}

/// Changes the value (and label) of identifier `id` of `customer_id`. Same value written
/// differently: only the label changes. A new value for an identifier with history keeps the
/// old one with that history (detached) and adds the new one.
pub async fn edit(
    db: &Db,
    customer_id: i64,
    id: i64,
    raw: &str,
    region: &str,
    actor: i64,
) -> Result<Saved> {
    let mut tx = db.write.begin().await?;
    let name = active_customer(&mut tx, customer_id).await?;
    let cur = identifiers::get(&mut tx, id)
        .await?
        .filter(|r| r.customer_id == customer_id)
        .ok_or(StoreError::NotFound)?;
    let value = normalize(cur.kind, raw, region)?;
    let label = clean_label(raw);
    if value == cur.value {
        identifiers::set_label(&mut tx, id, &label).await?;
        tx.commit().await?;
        return Ok(Saved::Stored { identifier_id: id });
    }
    if let Some((owner, _)) = identifiers::find(&mut tx, cur.kind, &value).await? {
        if owner == customer_id {
            return Err(StoreError::Invalid(format!(
                "{name} already has the {} {value}.",
                kind_words(cur.kind)
            )));
        }
        let saved = conflict(&mut tx, customer_id, &name, owner, cur.kind, &value, actor).await?;
        tx.commit().await?;
        return Ok(saved);
    }
    let identifier_id = if identifiers::has_history(&mut tx, id).await? {
        take_away(&mut tx, id, &cur.label).await?;
        identifiers::insert_if_new(
            &mut tx,
            customer_id,
            cur.kind,
            &value,
            &label,
            now_ms(),
            true,
        )
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("{value} was just taken")))?
    } else {
        identifiers::set_value(&mut tx, id, &value, &label).await?;
        id
    };
    tx.commit().await?;
    Ok(Saved::Stored { identifier_id })
}

/// Removes identifier `id` from `customer_id`. Removing one the customer does not hold (any
/// more) changes nothing, so a form sent twice is harmless.
pub async fn remove(db: &Db, customer_id: i64, id: i64) -> Result<()> {
    let mut tx = db.write.begin().await?;
    active_customer(&mut tx, customer_id).await?;
    if let Some(cur) = identifiers::get(&mut tx, id)
        .await?
        .filter(|r| r.customer_id == customer_id)
    {
        take_away(&mut tx, id, &cur.label).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets (or, with `None`, clears) the channel the customer prefers. The customer must have an
/// identifier that channel can reach.
pub async fn set_preferred_channel(
    db: &Db,
    customer_id: i64,
    channel: Option<ChannelKind>,
) -> Result<()> {
    let mut tx = db.write.begin().await?;
    let name = active_customer(&mut tx, customer_id).await?;
    if let Some(ch) = channel {
        let n = identifiers::count_of_kind(&mut tx, customer_id, ch.identifier_kind()).await?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "{name} has no {} to reach them on {}: add one first.",
                kind_words(ch.identifier_kind()),
                ch.label()
            )));
        }
    }
    customers::set_preferred_channel(&mut tx, customer_id, channel, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// The conversation of `customer_id`, if it has one (for live updates).
pub async fn conversation_of(db: &Db, customer_id: i64) -> Result<Option<i64>> {
    let mut conn = db.read.acquire().await?;
    conversations::of_customer(&mut conn, customer_id).await
}
