//! Consent records (`consent_events`): every change kept with its source, time and who; the
//! newest per (identifier, purpose) is what holds.

use super::{now_ms, Db, Result, StoreError};
use crate::domain::consent::{self as rules, Consent, ConsentStatus, Latest, Purpose};
use crate::domain::IdentifierKind;
use crate::model::{ConsentChange, ConsentHolds, CustomerConsent, IdentifierConsent};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// A stored change's columns that say what holds.
#[derive(sqlx::FromRow)]
struct Holding {
    granted: i64,
    source: String,
    detail: Option<String>,
    created_at: i64,
}

impl From<Holding> for Consent {
    fn from(h: Holding) -> Consent {
        Consent {
            granted: h.granted != 0,
            source: h.source,
            detail: h.detail,
            at: h.created_at,
        }
    }
}

/// Appends one change, inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &mut AnyConnection,
    identifier_id: i64,
    purpose: Purpose,
    granted: bool,
    source: &str,
    detail: Option<&str>,
    actor: Option<i64>,
    message_id: Option<i64>,
) -> Result<i64> {
    let change = Change {
        granted,
        source,
        detail,
        actor,
        message_id,
        at: now_ms(),
    };
    record_change(conn, identifier_id, purpose, &change).await
}

/// One change as stored, with its own time (an import may name when consent was given).
pub struct Change<'a> {
    pub granted: bool,
    pub source: &'a str,
    pub detail: Option<&'a str>,
    pub actor: Option<i64>,
    pub message_id: Option<i64>,
    pub at: i64,
}

/// Appends `c`, inside the caller's transaction.
pub async fn record_change(
    conn: &mut AnyConnection,
    identifier_id: i64,
    purpose: Purpose,
    c: &Change<'_>,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO consent_events (identifier_id, purpose, granted, source, detail, actor_user_id, message_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(identifier_id)
    .bind(purpose.as_str())
    .bind(c.granted as i64)
    .bind(c.source)
    .bind(c.detail)
    .bind(c.actor)
    .bind(c.message_id)
    .bind(c.at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get("id")?)
}

/// The newest consent of `identifier_id` for `purpose`, if any was ever recorded.
pub async fn current(db: &Db, identifier_id: i64, purpose: Purpose) -> Result<Option<Consent>> {
    let mut conn = db.read.acquire().await?;
    newest(&mut conn, identifier_id, purpose).await
}

/// [`current`] inside the caller's transaction.
pub async fn newest(
    conn: &mut AnyConnection,
    identifier_id: i64,
    purpose: Purpose,
) -> Result<Option<Consent>> {
    let r: Option<Holding> = sqlx::query_as(
        "SELECT granted, source, detail, created_at FROM consent_events \
         WHERE identifier_id = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(identifier_id)
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(r.map(Consent::from))
}

/// Whether the same import line was recorded before: same answer and detail, and (when the
/// line names one) the same time.
pub async fn imported_before(
    conn: &mut AnyConnection,
    identifier_id: i64,
    purpose: Purpose,
    granted: bool,
    detail: Option<&str>,
    at: Option<i64>,
) -> Result<bool> {
    const SAME: &str = "SELECT id FROM consent_events WHERE identifier_id = $1 AND purpose = $2 AND source = $3 \
                        AND granted = $4 AND COALESCE(detail, '') = $5 AND ($6 = 0 OR created_at = $7) LIMIT 1";
    Ok(sqlx::query(SAME)
        .bind(identifier_id)
        .bind(purpose.as_str())
        .bind(rules::source::IMPORT)
        .bind(granted as i64)
        .bind(detail.unwrap_or(""))
        .bind(at.is_some() as i64)
        .bind(at.unwrap_or(0))
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// The newest consent of every identifier of `customer_id`, for each purpose, in one query
/// (the customer panel and the composer's reply options read it).
pub async fn latest_for_customer(db: &Db, customer_id: i64) -> Result<Latest> {
    let rows = sqlx::query(
        "SELECT e.identifier_id, e.purpose, e.granted, e.source, e.detail, e.created_at FROM consent_events e \
         JOIN identifiers i ON i.id = e.identifier_id WHERE i.customer_id = $1 ORDER BY e.id",
    )
    .bind(customer_id)
    .fetch_all(&db.read)
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        let purpose: String = r.try_get("purpose")?;
        let Some(purpose) = Purpose::parse(&purpose) else {
            continue;
        };
        // Rows come oldest first: the newest one is left in the map.
        let holding = <Holding as sqlx::FromRow<_>>::from_row(&r)?;
        out.insert((r.try_get("identifier_id")?, purpose), holding.into());
    }
    Ok(out)
}

/// Most changes listed in a customer's consent histories (the newest are kept).
pub const HISTORY_LIMIT: i64 = 200;

fn holds(status_of: Option<&Consent>, history: &[ConsentChange], purpose: Purpose) -> ConsentHolds {
    ConsentHolds {
        status: ConsentStatus::of(status_of.map(|c| c.granted)),
        // The change that holds, when the listed history reaches it.
        since: status_of.and_then(|c| {
            history
                .iter()
                .find(|h| h.purpose == purpose && h.granted == c.granted && h.at == c.at)
                .cloned()
        }),
    }
}

/// Every identifier of `customer_id` with the consent that holds for each purpose and its
/// changes, newest first (at most [`HISTORY_LIMIT`] in all). Three queries.
pub async fn customer_consent(db: &Db, customer_id: i64) -> Result<CustomerConsent> {
    let latest = latest_for_customer(db, customer_id).await?;
    customer_consent_from(db, customer_id, &latest).await
}

/// [`customer_consent`] with the consent that holds already read ([`latest_for_customer`]).
pub async fn customer_consent_from(
    db: &Db,
    customer_id: i64,
    latest: &Latest,
) -> Result<CustomerConsent> {
    let idents = sqlx::query(
        "SELECT i.id, i.kind, i.value FROM customers c JOIN identifiers i ON i.customer_id = c.id \
         WHERE c.id = $1 ORDER BY i.id",
    )
    .bind(customer_id)
    .fetch_all(&db.read)
    .await?;
    if idents.is_empty() {
        let exists = sqlx::query("SELECT id FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(&db.read)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
    }
    let rows = sqlx::query(
        "SELECT e.id, e.identifier_id, e.purpose, e.granted, e.source, e.detail, e.created_at, u.name AS actor_name \
         FROM consent_events e JOIN identifiers i ON i.id = e.identifier_id \
         LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE i.customer_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(HISTORY_LIMIT + 1)
    .fetch_all(&db.read)
    .await?;
    let truncated = rows.len() as i64 > HISTORY_LIMIT;
    let mut history: HashMap<i64, Vec<ConsentChange>> = HashMap::new();
    for r in rows.iter().take(HISTORY_LIMIT as usize) {
        let Some(purpose) = Purpose::parse(&r.try_get::<String, _>("purpose")?) else {
            continue;
        };
        let src: String = r.try_get("source")?;
        let detail: Option<String> = r.try_get("detail")?;
        let who: Option<String> = r.try_get("actor_name")?;
        history
            .entry(r.try_get("identifier_id")?)
            .or_default()
            .push(ConsentChange {
                id: r.try_get("id")?,
                purpose,
                granted: r.try_get::<i64, _>("granted")? != 0,
                how: rules::source_words(&src, detail.as_deref(), who.as_deref()),
                reason: rules::reason(&src, detail.as_deref()).map(str::to_string),
                who,
                at: r.try_get("created_at")?,
            });
    }
    let mut identifiers = Vec::with_capacity(idents.len());
    for r in idents {
        let id: i64 = r.try_get("id")?;
        let kind: String = r.try_get("kind")?;
        let Ok(kind) = IdentifierKind::parse(&kind) else {
            continue;
        };
        let h = history.remove(&id).unwrap_or_default();
        identifiers.push(IdentifierConsent {
            id,
            kind,
            value: r.try_get("value")?,
            support: holds(latest.get(&(id, Purpose::Support)), &h, Purpose::Support),
            marketing: holds(
                latest.get(&(id, Purpose::Marketing)),
                &h,
                Purpose::Marketing,
            ),
            history: h,
        });
    }
    Ok(CustomerConsent {
        customer_id,
        identifiers,
        truncated,
    })
}

/// Consent changes recorded at `from..to` (unix ms) by identifier kind, purpose, source and
/// whether given: `(kind, purpose, source, granted, count)`.
pub async fn changes_between(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, String, bool, i64)>> {
    let rows = sqlx::query(
        "SELECT i.kind, ce.purpose, ce.source, ce.granted, COUNT(*) AS n \
         FROM consent_events ce JOIN identifiers i ON i.id = ce.identifier_id \
         WHERE ce.created_at >= $1 AND ce.created_at < $2 \
         GROUP BY i.kind, ce.purpose, ce.source, ce.granted",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("kind")?,
                r.try_get("purpose")?,
                r.try_get("source")?,
                r.try_get::<i64, _>("granted")? != 0,
                r.try_get("n")?,
            ))
        })
        .collect()
}

/// The newest change of every (identifier, purpose) that has one, with the identifier's kind
/// and customer: `(kind, customer_id, purpose, granted)` (who may be reached now). Tens of
/// thousands of them cross from the database as one text value ([`super::joined`]).
pub async fn newest_all(conn: &mut AnyConnection) -> Result<Vec<(String, i64, String, bool)>> {
    let all = super::joined(
        conn,
        "i.kind || ' ' || i.customer_id || ' ' || ce.purpose || ' ' || ce.granted",
    );
    let text: Option<String> = sqlx::query_scalar(&format!(
        "SELECT {all} FROM consent_events ce JOIN identifiers i ON i.id = ce.identifier_id \
         WHERE NOT EXISTS (SELECT 1 FROM consent_events n WHERE n.identifier_id = ce.identifier_id \
                           AND n.purpose = ce.purpose AND n.id > ce.id)"
    ))
    .fetch_one(&mut *conn)
    .await?;
    let text = text.unwrap_or_default();
    text.split(';')
        .filter(|s| !s.is_empty())
        .map(|item| {
            let mut it = item.split(' ');
            let parsed = (|| {
                let kind = it.next()?.to_string();
                let customer = it.next()?.parse().ok()?;
                let purpose = it.next()?.to_string();
                let granted: i64 = it.next()?.parse().ok()?;
                Some((kind, customer, purpose, granted != 0))
            })();
            parsed.ok_or_else(|| StoreError::Invalid(format!("consent rows hold {item:?}")))
        })
        .collect()
}
