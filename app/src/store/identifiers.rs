//! Identifiers (`identifiers`): the addresses a customer is reached on (an email address, a
//! phone or WhatsApp number, a provider id), stored normalised, one owner each.

use super::{Db, Result, StoreError};
use crate::domain::IdentifierKind;
use sqlx::{AnyConnection, Row};

/// One identifier as stored.
pub struct IdentifierRow {
    pub id: i64,
    pub customer_id: i64,
    pub kind: IdentifierKind,
    pub value: String,
    pub label: String,
    pub verified: bool,
    pub last_inbound_at: Option<i64>,
}

const COLS: &str = "id, customer_id, kind, value, label, verified, last_inbound_at";

/// The row as an [`IdentifierRow`]; `None` for a kind this build does not know.
fn row(r: &sqlx::any::AnyRow) -> Result<Option<IdentifierRow>> {
    let kind: String = r.try_get("kind")?;
    let Ok(kind) = IdentifierKind::parse(&kind) else {
        return Ok(None);
    };
    Ok(Some(IdentifierRow {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        kind,
        value: r.try_get("value")?,
        label: r.try_get("label")?,
        verified: r.try_get::<i64, _>("verified")? != 0,
        last_inbound_at: r.try_get("last_inbound_at")?,
    }))
}

/// Identifier `id`.
pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<IdentifierRow>> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM identifiers WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match r {
        Some(r) => Ok(Some(row(&r)?.ok_or_else(|| {
            StoreError::Invalid("an identifier of an unknown kind".into())
        })?)),
        None => Ok(None),
    }
}

/// Every identifier of `customer_id`, by kind.
pub async fn of_customer(db: &Db, customer_id: i64) -> Result<Vec<IdentifierRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM identifiers WHERE customer_id = $1 ORDER BY kind, id"
    ))
    .bind(customer_id)
    .fetch_all(&db.read)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(row(r)?);
    }
    Ok(out)
}

/// The identifiers of each of `customers`, oldest first.
pub async fn held_by(conn: &mut AnyConnection, customers: &[i64]) -> Result<Vec<IdentifierRow>> {
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::id_list(customers);
    // Integers, so safe to inline.
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM identifiers WHERE customer_id IN ({list}) ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(row(r)?);
    }
    Ok(out)
}

/// (customer, identifier) of `kind:value`, if someone has it.
pub async fn find(
    conn: &mut AnyConnection,
    kind: IdentifierKind,
    value: &str,
) -> Result<Option<(i64, i64)>> {
    Ok(
        sqlx::query_as("SELECT customer_id, id FROM identifiers WHERE kind = $1 AND value = $2")
            .bind(kind.as_str())
            .bind(value)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// (customer, identifier, the customer's conversation if it has one) of a known sender, in
/// one statement that also records the inbound time (`None` for automatic mail). Being a
/// write, it holds the identifier's row until the caller's transaction ends, so a merge that
/// moves the identifier waits for the message instead of leaving it behind (PostgreSQL).
pub async fn touch(
    conn: &mut AnyConnection,
    kind: IdentifierKind,
    value: &str,
    last_inbound: Option<i64>,
) -> Result<Option<(i64, i64, Option<i64>)>> {
    Ok(sqlx::query_as(
        "UPDATE identifiers SET last_inbound_at = COALESCE($3, last_inbound_at) WHERE kind = $1 AND value = $2 \
         RETURNING customer_id, id, \
           (SELECT c.id FROM conversations c WHERE c.customer_id = identifiers.customer_id) AS conversation_id",
    )
    .bind(kind.as_str())
    .bind(value)
    .bind(last_inbound)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Records when the customer last wrote through identifier `id`.
pub async fn set_last_inbound(conn: &mut AnyConnection, id: i64, at: i64) -> Result<()> {
    sqlx::query("UPDATE identifiers SET last_inbound_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives `customer_id` the identifier `kind:value` unless someone has it; returns its id, or
/// `None` when it is taken. Unverified identifiers are suggestions for an agent to confirm.
#[allow(clippy::too_many_arguments)]
pub async fn insert_if_new(
    conn: &mut AnyConnection,
    customer_id: i64,
    kind: IdentifierKind,
    value: &str,
    label: &str,
    at: i64,
    verified: bool,
) -> Result<Option<i64>> {
    let r = sqlx::query(
        "INSERT INTO identifiers (customer_id, kind, value, label, created_at, verified) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, value) DO NOTHING RETURNING id",
    )
    .bind(customer_id)
    .bind(kind.as_str())
    .bind(value)
    .bind(label)
    .bind(at)
    .bind(verified as i64)
    .fetch_optional(&mut *conn)
    .await?;
    r.map(|r| r.try_get("id")).transpose().map_err(Into::into)
}

/// Adds `kind:value` to `customer_id` as a suggestion (unverified) for an agent to confirm;
/// when someone has it already, answers that identifier.
pub async fn add_suggested(
    conn: &mut AnyConnection,
    customer_id: i64,
    kind: IdentifierKind,
    value: &str,
    label: &str,
    at: i64,
) -> Result<i64> {
    match insert_if_new(conn, customer_id, kind, value, label, at, false).await? {
        Some(id) => Ok(id),
        None => Ok(find(conn, kind, value)
            .await?
            .ok_or(StoreError::NotFound)?
            .1),
    }
}

/// Confirms an identifier belongs to its customer.
pub async fn set_verified(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE identifiers SET verified = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An agent confirms a suggested identifier belongs to its customer. `NotFound` when there
/// is no such identifier.
pub async fn confirm(db: &Db, id: i64) -> Result<()> {
    let r = sqlx::query("UPDATE identifiers SET verified = 1 WHERE id = $1")
        .bind(id)
        .execute(&db.write)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A new label (the same value written differently); the agent's word verifies it.
pub async fn set_label(conn: &mut AnyConnection, id: i64, label: &str) -> Result<()> {
    sqlx::query("UPDATE identifiers SET label = $1, verified = 1 WHERE id = $2")
        .bind(label)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A new value for an identifier without history: nobody wrote from the new one yet.
pub async fn set_value(conn: &mut AnyConnection, id: i64, value: &str, label: &str) -> Result<()> {
    sqlx::query(
        "UPDATE identifiers SET value = $1, label = $2, verified = 1, last_inbound_at = NULL WHERE id = $3",
    )
    .bind(value)
    .bind(label)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether messages or consent records refer to identifier `id`.
pub async fn has_history(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM messages WHERE identifier_id = $1) \
              + (SELECT COUNT(*) FROM consent_events WHERE identifier_id = $1) AS n",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get::<i64, _>("n")? > 0)
}

/// Gives identifier `id` to `customer_id`.
pub async fn set_customer(conn: &mut AnyConnection, id: i64, customer_id: i64) -> Result<()> {
    sqlx::query("UPDATE identifiers SET customer_id = $1 WHERE id = $2")
        .bind(customer_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes identifier `id`, which nothing refers to. A merge that listed it must not take a
/// later identifier that reuses the id, so its `merge_moves` entries go too.
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM merge_moves WHERE kind = 'identifier' AND item_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM identifiers WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives every identifier of customer `from` to customer `to`.
pub async fn move_all(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    sqlx::query("UPDATE identifiers SET customer_id = $1 WHERE customer_id = $2")
        .bind(to)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many identifiers of `kind` customer `customer_id` has.
pub async fn count_of_kind(
    conn: &mut AnyConnection,
    customer_id: i64,
    kind: IdentifierKind,
) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM identifiers WHERE customer_id = $1 AND kind = $2")
            .bind(customer_id)
            .bind(kind.as_str())
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?,
    )
}

/// The labels of `customer_id`'s identifiers, by kind.
pub async fn labels_of(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_as::<_, (String,)>(
        "SELECT label FROM identifiers WHERE customer_id = $1 ORDER BY kind, id",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(l,)| l)
    .collect())
}

/// The ids of `customer_id`'s identifiers, except `except`.
pub async fn ids_of(conn: &mut AnyConnection, customer_id: i64, except: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_as::<_, (i64,)>(
        "SELECT id FROM identifiers WHERE customer_id = $1 AND id <> $2",
    )
    .bind(customer_id)
    .bind(except)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(i,)| i)
    .collect())
}

/// The other identifiers of identifier `id`'s customer.
pub async fn siblings(conn: &mut AnyConnection, id: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_as::<_, (i64,)>(
        "SELECT id FROM identifiers WHERE customer_id = (SELECT customer_id FROM identifiers WHERE id = $1) AND id <> $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(i,)| i)
    .collect())
}

/// When identifier `id` last wrote to us (None: never, or no such identifier).
pub async fn last_inbound_at(db: &Db, id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT last_inbound_at FROM identifiers WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.read)
            .await?
            .map(|r| r.try_get::<Option<i64>, _>("last_inbound_at"))
            .transpose()?
            .flatten(),
    )
}

/// Identifier `id`'s customer, value, and the customer's conversation if it has one.
pub async fn context(conn: &mut AnyConnection, id: i64) -> Result<(i64, String, Option<i64>)> {
    sqlx::query_as(
        "SELECT i.customer_id, i.value, c.id AS conversation_id FROM identifiers i \
         LEFT JOIN conversations c ON c.customer_id = i.customer_id WHERE i.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The identifier's value, if it exists (the unsubscribe page names the address).
pub async fn value_of(db: &Db, id: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_as::<_, (String,)>("SELECT value FROM identifiers WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.read)
            .await?
            .map(|(v,)| v),
    )
}

/// `(the other customer, my kind, their kind, value)`: the same normalised value
/// held by another customer under any kind (a phone number that is someone's WhatsApp
/// number), for merge suggestions.
pub async fn same_value_elsewhere(
    conn: &mut AnyConnection,
    customer_id: i64,
) -> Result<Vec<(i64, IdentifierKind, IdentifierKind, String)>> {
    let rows = sqlx::query(
        "SELECT m.kind AS my_kind, o.kind, o.value, o.customer_id FROM identifiers m \
         JOIN identifiers o ON o.value = m.value AND o.customer_id <> m.customer_id \
         WHERE m.customer_id = $1 ORDER BY o.id",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let (Ok(mine), Ok(theirs)) = (
            IdentifierKind::parse(&r.try_get::<String, _>("my_kind")?),
            IdentifierKind::parse(&r.try_get::<String, _>("kind")?),
        ) {
            out.push((r.try_get("customer_id")?, mine, theirs, r.try_get("value")?));
        }
    }
    Ok(out)
}

/// Customers with more than one identifier, now.
pub async fn customers_with_several(conn: &mut sqlx::AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT customer_id FROM identifiers \
         GROUP BY customer_id HAVING COUNT(*) > 1) several",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// Customers known by at least one identifier of each kind: `(kind, customers)`, and (kind
/// `""`) by any identifier.
pub async fn customers_by_kind(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(DISTINCT customer_id) AS n FROM identifiers GROUP BY kind \
         UNION ALL SELECT '' AS kind, COUNT(DISTINCT customer_id) AS n FROM identifiers",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
        .collect()
}
