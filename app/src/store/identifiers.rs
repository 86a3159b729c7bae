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

use super::merge::{current_customer, customer_ref};
use super::{now_ms, suggestions, Db, Result, StoreError};
use crate::domain::{ChannelKind, IdentifierKind};
use crate::model::CustomerRef;
use sqlx::{AnyConnection, Row};

/// Longest label kept for an identifier, in characters.
const MAX_LABEL_CHARS: usize = 200;

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
    match kind {
        IdentifierKind::Phone | IdentifierKind::Whatsapp => {
            crate::domain::phone::to_e164(raw, region).map_err(StoreError::Invalid)
        }
        _ => kind
            .normalize(raw)
            .map_err(|e| StoreError::Invalid(capitalise(&e.to_string()))),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

fn clean_label(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_LABEL_CHARS)
        .collect()
}

/// How an identifier is named in sentences: "phone number", "WhatsApp number".
pub fn kind_words(kind: IdentifierKind) -> &'static str {
    match kind {
        IdentifierKind::Email => "email address",
        IdentifierKind::Phone => "phone number",
        IdentifierKind::Whatsapp => "WhatsApp number",
        IdentifierKind::Messenger => "Messenger id",
        IdentifierKind::Instagram => "Instagram id",
        IdentifierKind::Telegram => "Telegram id",
    }
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

/// A customer that exists and is not merged away, inside a transaction.
async fn active_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<String> {
    let r = sqlx::query("SELECT name, merged_into_id FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let name: String = r.try_get("name")?;
    if r.try_get::<Option<i64>, _>("merged_into_id")?.is_some() {
        let top = current_customer(conn, customer_id).await?;
        let top = customer_ref(conn, top).await?;
        return Err(StoreError::Invalid(format!(
            "{name} was merged into {}: make changes there.",
            top.name
        )));
    }
    Ok(name)
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
    let owner = customer_ref(conn, owner).await?;
    let who: String = sqlx::query("SELECT name FROM users WHERE id = $1")
        .bind(actor)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get::<String, _>("name"))
        .transpose()?
        .unwrap_or_else(|| "A staff member".into());
    let detail = format!(
        "{who} tried to add the {} {value} to {customer_name}, but {} has it",
        kind_words(kind),
        owner.name
    );
    suggestions::record(
        conn,
        customer_id,
        owner.id,
        suggestions::CONFLICT,
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
    let inserted = sqlx::query(
        "INSERT INTO identifiers (customer_id, kind, value, label, created_at, verified) \
         VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT (kind, value) DO NOTHING RETURNING id",
    )
    .bind(customer_id)
    .bind(kind.as_str())
    .bind(&value)
    .bind(&label)
    .bind(now_ms())
    .fetch_optional(&mut *tx)
    .await?;
    let saved = match inserted {
        Some(r) => Saved::Stored {
            identifier_id: r.try_get("id")?,
        },
        None => {
            let (owner, id) = super::ingest::find_identity(&mut tx, kind, &value)
                .await?
                .ok_or(StoreError::NotFound)?;
            if owner == customer_id {
                sqlx::query("UPDATE identifiers SET verified = 1 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Saved::Stored { identifier_id: id }
            } else {
                conflict(&mut tx, customer_id, &name, owner, kind, &value, actor).await?
            }
        }
    };
    tx.commit().await?;
    Ok(saved)
}

struct IdentRow {
    customer_id: i64,
    kind: IdentifierKind,
    value: String,
    label: String,
}

async fn ident(conn: &mut AnyConnection, id: i64) -> Result<Option<IdentRow>> {
    let Some(r) =
        sqlx::query("SELECT customer_id, kind, value, label FROM identifiers WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let kind: String = r.try_get("kind")?;
    Ok(Some(IdentRow {
        customer_id: r.try_get("customer_id")?,
        kind: IdentifierKind::parse(&kind).map_err(|e| StoreError::Invalid(e.to_string()))?,
        value: r.try_get("value")?,
        label: r.try_get("label")?,
    }))
}

/// Whether messages or consent records refer to identifier `id`.
async fn has_history(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM messages WHERE identifier_id = $1) \
              + (SELECT COUNT(*) FROM consent_events WHERE identifier_id = $1) AS n",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get::<i64, _>("n")? > 0)
}

/// Takes identifier `id` away from its customer: deleted when nothing refers to it, else
/// given to a new customer of its own (named by its label, without a conversation).
async fn take_away(conn: &mut AnyConnection, id: i64, label: &str) -> Result<()> {
    if has_history(conn, id).await? {
        let at = now_ms();
        let new_customer: i64 = sqlx::query(
            "INSERT INTO customers (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
        )
        .bind(label)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
        sqlx::query("UPDATE identifiers SET customer_id = $1 WHERE id = $2")
            .bind(new_customer)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    } else {
        // A merge that listed it must not take a later identifier that reuses the id.
        sqlx::query("DELETE FROM merge_moves WHERE kind = 'identifier' AND item_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM identifiers WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
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
    let cur = ident(&mut tx, id)
        .await?
        .filter(|r| r.customer_id == customer_id)
        .ok_or(StoreError::NotFound)?;
    let value = normalize(cur.kind, raw, region)?;
    let label = clean_label(raw);
    if value == cur.value {
        sqlx::query("UPDATE identifiers SET label = $1, verified = 1 WHERE id = $2")
            .bind(&label)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Saved::Stored { identifier_id: id });
    }
    if let Some((owner, _)) = super::ingest::find_identity(&mut tx, cur.kind, &value).await? {
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
    let identifier_id = if has_history(&mut tx, id).await? {
        take_away(&mut tx, id, &cur.label).await?;
        sqlx::query(
            "INSERT INTO identifiers (customer_id, kind, value, label, created_at, verified) \
             VALUES ($1, $2, $3, $4, $5, 1) RETURNING id",
        )
        .bind(customer_id)
        .bind(cur.kind.as_str())
        .bind(&value)
        .bind(&label)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?
    } else {
        sqlx::query(
            "UPDATE identifiers SET value = $1, label = $2, verified = 1, last_inbound_at = NULL WHERE id = $3",
        )
        .bind(&value)
        .bind(&label)
        .bind(id)
        .execute(&mut *tx)
        .await?;
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
    if let Some(cur) = ident(&mut tx, id)
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
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM identifiers WHERE customer_id = $1 AND kind = $2",
        )
        .bind(customer_id)
        .bind(ch.identifier_kind().as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "{name} has no {} to reach them on {}: add one first.",
                kind_words(ch.identifier_kind()),
                ch.label()
            )));
        }
    }
    sqlx::query("UPDATE customers SET preferred_channel = $1, updated_at = $2 WHERE id = $3")
        .bind(channel.map(|c| c.as_str()))
        .bind(now_ms())
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The conversation of `customer_id`, if it has one (for live updates).
pub async fn conversation_of(db: &Db, customer_id: i64) -> Result<Option<i64>> {
    let mut conn = db.read.acquire().await?;
    super::merge::conversation_of(&mut conn, customer_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_numbers_meet() {
        let a = normalize(IdentifierKind::Phone, "(201) 555-0123", "US").unwrap();
        let b = normalize(IdentifierKind::Whatsapp, "+1 201 555 0123", "GB").unwrap();
        assert_eq!(a, "+12015550123");
        assert_eq!(a, b);
        assert_eq!(
            normalize(IdentifierKind::Phone, "020 7946 0958", "GB").unwrap(),
            "+442079460958"
        );
    }

    #[test]
    fn bad_values_are_refused_in_words() {
        let e = normalize(IdentifierKind::Email, "not an address", "US").unwrap_err();
        assert!(e.to_string().contains("is not an email address"), "{e}");
        assert!(normalize(IdentifierKind::Phone, "hello", "US").is_err());
        assert!(normalize(IdentifierKind::Telegram, "has space", "US").is_err());
        assert_eq!(
            normalize(IdentifierKind::Telegram, " 700100200 ", "US").unwrap(),
            "700100200"
        );
    }

    #[test]
    fn labels_lose_control_characters() {
        assert_eq!(clean_label("  a\u{7}b \n"), "ab");
        assert_eq!(clean_label(&"x".repeat(300)).chars().count(), 200);
    }
}
