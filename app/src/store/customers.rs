//! Customers: one row per person, and the chain of merges (`merged_into_id`) that says who
//! holds a merged customer's identifiers and messages now.

use super::{Db, Result, StoreError};
use crate::domain::ChannelKind;
use crate::model::CustomerRef;
use sqlx::{AnyConnection, Row};

/// Longest chain of merges followed when looking for the customer who holds everything now.
const MAX_CHAIN: usize = 64;

/// A customer's name and where it was merged, if it was.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CustomerState {
    pub name: String,
    #[sqlx(rename = "merged_into_id")]
    pub merged_into: Option<i64>,
}

/// The customer panel's own columns: name, preferred channel and the channels its
/// conversation used.
pub struct PanelRow {
    pub id: i64,
    pub name: String,
    pub preferred_channel: Option<ChannelKind>,
    pub channels_mask: i64,
}

pub async fn state(conn: &mut AnyConnection, id: i64) -> Result<CustomerState> {
    sqlx::query_as("SELECT name, merged_into_id FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Takes the write locks of customers `a` and `b` (PostgreSQL) before they are read, in one
/// statement; pass the same id twice for one customer.
pub async fn lock(conn: &mut AnyConnection, a: i64, b: i64) -> Result<()> {
    sqlx::query("UPDATE customers SET updated_at = updated_at WHERE id = $1 OR id = $2")
        .bind(a)
        .bind(b)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The customer who holds `customer_id`'s identifiers and messages now: itself, or the end of
/// its chain of merges.
pub async fn current(conn: &mut AnyConnection, customer_id: i64) -> Result<i64> {
    let mut id = customer_id;
    for _ in 0..MAX_CHAIN {
        match sqlx::query("SELECT merged_into_id FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        {
            Some(r) => match r.try_get::<Option<i64>, _>("merged_into_id")? {
                Some(next) => id = next,
                None => return Ok(id),
            },
            None => return Ok(id),
        }
    }
    Ok(id)
}

/// A customer as a link: name and conversation.
pub async fn reference(conn: &mut AnyConnection, id: i64) -> Result<CustomerRef> {
    let r = sqlx::query(
        "SELECT cu.id, cu.name, c.id AS conversation_id FROM customers cu \
         LEFT JOIN conversations c ON c.customer_id = cu.id WHERE cu.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(CustomerRef {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        conversation_id: r.try_get("conversation_id")?,
    })
}

/// Where `customer_id` went, when it is merged: the customer holding everything now.
pub async fn merged_into(db: &Db, customer_id: i64) -> Result<Option<CustomerRef>> {
    let mut conn = db.read.acquire().await?;
    let top = current(&mut conn, customer_id).await?;
    if top == customer_id {
        return Ok(None);
    }
    Ok(Some(reference(&mut conn, top).await?))
}

/// The customer's name, empty when there is no such customer.
pub async fn name_of(conn: &mut AnyConnection, id: i64) -> Result<String> {
    Ok(sqlx::query("SELECT name FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get::<String, _>("name"))
        .transpose()?
        .unwrap_or_default())
}

/// Renames customer `id`.
pub async fn rename(conn: &mut AnyConnection, id: i64, name: &str) -> Result<()> {
    sqlx::query("UPDATE customers SET name = $1, updated_at = $2 WHERE id = $3")
        .bind(name)
        .bind(super::now_ms())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Creates a customer named `name`; returns its id.
pub async fn create(conn: &mut AnyConnection, name: &str, at: i64) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO customers (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
    )
    .bind(name)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?)
}

/// Deletes a customer that has nothing (one created for a sender another writer stored first).
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM customers WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records that `id` was merged into `into` (or, with `None`, is separate again).
pub async fn set_merged_into(conn: &mut AnyConnection, id: i64, into: Option<i64>) -> Result<()> {
    sqlx::query("UPDATE customers SET merged_into_id = $1 WHERE id = $2")
        .bind(into)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets (or, with `None`, clears) the channel the customer prefers.
pub async fn set_preferred_channel(
    conn: &mut AnyConnection,
    id: i64,
    channel: Option<ChannelKind>,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE customers SET preferred_channel = $1, updated_at = $2 WHERE id = $3")
        .bind(channel.map(|c| c.as_str()))
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether customer `id` exists.
pub async fn exists(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    Ok(sqlx::query("SELECT id FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// The panel's columns of customer `id`.
pub async fn panel(db: &Db, id: i64) -> Result<PanelRow> {
    let c = sqlx::query(
        "SELECT cu.id, cu.name, cu.preferred_channel, c.channels_mask FROM customers cu \
         LEFT JOIN conversations c ON c.customer_id = cu.id WHERE cu.id = $1",
    )
    .bind(id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(StoreError::NotFound)?;
    let pref: Option<String> = c.try_get("preferred_channel")?;
    Ok(PanelRow {
        id: c.try_get("id")?,
        name: c.try_get("name")?,
        preferred_channel: pref.as_deref().and_then(ChannelKind::parse),
        channels_mask: c.try_get::<Option<i64>, _>("channels_mask")?.unwrap_or(0),
    })
}

/// Customers (not merged into another) by the channel they prefer (`None`: none set).
pub async fn preferred_counts(conn: &mut AnyConnection) -> Result<Vec<(Option<String>, i64)>> {
    let rows = sqlx::query(
        "SELECT preferred_channel, COUNT(*) AS n FROM customers WHERE merged_into_id IS NULL \
         GROUP BY preferred_channel",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("preferred_channel")?, r.try_get("n")?)))
        .collect()
}

/// What a customer chose on their preference center page, beyond consent and the preferred
/// channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chosen {
    pub time_zone: Option<String>,
    /// Quiet hours, minutes after local midnight.
    pub quiet: Option<(u16, u16)>,
    /// At most this many marketing messages in this many days.
    pub frequency: Option<(u32, u32)>,
}

/// Customer `id`'s [`Chosen`].
pub async fn chosen(conn: &mut AnyConnection, id: i64) -> Result<Chosen> {
    let r = sqlx::query(
        "SELECT time_zone, quiet_from, quiet_until, marketing_max, marketing_days FROM customers WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    chosen_of(&r)
}

/// A row's [`Chosen`] (columns `time_zone`, `quiet_from`, `quiet_until`, `marketing_max`,
/// `marketing_days`).
pub fn chosen_of(r: &sqlx::any::AnyRow) -> Result<Chosen> {
    let q: (Option<i64>, Option<i64>) = (r.try_get("quiet_from")?, r.try_get("quiet_until")?);
    let f: (Option<i64>, Option<i64>) = (r.try_get("marketing_max")?, r.try_get("marketing_days")?);
    let minute = |m: i64| u16::try_from(m).ok().filter(|m| *m < 1440);
    let count = |n: i64| u32::try_from(n).ok();
    Ok(Chosen {
        time_zone: r.try_get("time_zone")?,
        quiet: match q {
            (Some(a), Some(b)) => minute(a).zip(minute(b)).filter(|(a, b)| a != b),
            _ => None,
        },
        frequency: match f {
            (Some(m), Some(d)) => count(m).zip(count(d)).filter(|(m, d)| *m > 0 && *d > 0),
            _ => None,
        },
    })
}

/// Stores customer `id`'s [`Chosen`].
pub async fn set_chosen(conn: &mut AnyConnection, id: i64, c: &Chosen, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET time_zone = $1, quiet_from = $2, quiet_until = $3, marketing_max = $4, \
         marketing_days = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(c.time_zone.as_deref())
    .bind(c.quiet.map(|q| q.0 as i64))
    .bind(c.quiet.map(|q| q.1 as i64))
    .bind(c.frequency.map(|f| f.0 as i64))
    .bind(c.frequency.map(|f| f.1 as i64))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Customer `id`'s preferred channel.
pub async fn preferred_channel(conn: &mut AnyConnection, id: i64) -> Result<Option<ChannelKind>> {
    let r = sqlx::query("SELECT preferred_channel FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let p: Option<String> = r.try_get("preferred_channel")?;
    Ok(p.as_deref().and_then(ChannelKind::parse))
}
