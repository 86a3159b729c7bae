//! Merge suggestions: other customers who may be the same person, with the reasons in words.
//! Shown to agents in the customer panel, never applied by themselves.
//!
//! Two kinds are recorded when they happen (`merge_suggestions`): an email from a known
//! customer that answers another customer's conversation, and an agent adding an identifier
//! another customer holds. Two are computed when shown, so they are always current: the same
//! normalised value held as identifiers of different kinds (a phone and a WhatsApp number),
//! and the same name (case and spaces aside) with a matching identifier pattern (the same
//! email local part, or phone numbers ending in the same nine digits). A dismissal
//! (`merge_dismissals`) says two customers are different people and hides them for good.

use super::identifiers::kind_words;
use super::merge::current_customer;
use super::{Db, Result, StoreError};
use crate::domain::identifier::{email_local_part, name_key, phone_tail};
use crate::domain::IdentifierKind;
use crate::model::{CustomerRef, MergeSuggestion};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// An email from one customer answered another customer's conversation.
pub const THREADED: &str = "threaded_reply";
/// An agent tried to add an identifier another customer holds.
pub const CONFLICT: &str = "conflict";

/// Most same-name candidates looked at for one customer.
const MAX_NAME_CANDIDATES: i64 = 20;

fn pair(a: i64, b: i64) -> (i64, i64) {
    (a.min(b), a.max(b))
}

/// Records a suggestion pairing `a` and `b` inside the caller's transaction; recording the
/// same reason again refreshes its words.
pub async fn record(
    conn: &mut AnyConnection,
    a: i64,
    b: i64,
    reason: &str,
    detail: &str,
    at: i64,
) -> Result<()> {
    if a == b {
        return Ok(());
    }
    let (a, b) = pair(a, b);
    sqlx::query(
        "INSERT INTO merge_suggestions (customer_a, customer_b, reason, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (customer_a, customer_b, reason) DO UPDATE SET detail = excluded.detail, created_at = excluded.created_at",
    )
    .bind(a)
    .bind(b)
    .bind(reason)
    .bind(detail)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn name_of(conn: &mut AnyConnection, id: i64) -> Result<String> {
    Ok(sqlx::query("SELECT name FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get::<String, _>("name"))
        .transpose()?
        .unwrap_or_default())
}

/// At ingest: an email from `sender` (a known customer, writing from `label`) answers a
/// message in `other`'s conversation.
pub async fn record_threaded_reply(
    conn: &mut AnyConnection,
    sender: i64,
    other: i64,
    label: &str,
    at: i64,
) -> Result<()> {
    if sender == other {
        return Ok(());
    }
    let sender_name = name_of(conn, sender).await?;
    let other_name = name_of(conn, other).await?;
    let detail = format!(
        "{sender_name} wrote from {label} in reply to an email in {other_name}'s conversation"
    );
    record(conn, sender, other, THREADED, &detail, at).await
}

/// Says `customer` and `other` are different people: no suggestion pairs them again.
pub async fn dismiss(db: &Db, customer: i64, other: i64, actor: i64) -> Result<()> {
    if customer == other {
        return Err(StoreError::Invalid(
            "A customer cannot be compared with itself.".into(),
        ));
    }
    let mut tx = db.write.begin().await?;
    for id in [customer, other] {
        sqlx::query("SELECT id FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
    }
    let (a, b) = pair(customer, other);
    sqlx::query(
        "INSERT INTO merge_dismissals (customer_a, customer_b, actor_user_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (customer_a, customer_b) DO NOTHING",
    )
    .bind(a)
    .bind(b)
    .bind(actor)
    .bind(super::now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

struct Ident {
    customer_id: i64,
    kind: IdentifierKind,
    value: String,
}

fn idents(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Ident>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.try_get("kind")?;
        if let Ok(kind) = IdentifierKind::parse(&kind) {
            out.push(Ident {
                customer_id: r.try_get("customer_id")?,
                kind,
                value: r.try_get("value")?,
            });
        }
    }
    Ok(out)
}

fn is_phone(k: IdentifierKind) -> bool {
    matches!(k, IdentifierKind::Phone | IdentifierKind::Whatsapp)
}

/// The reasons, in words, why two customers with the same name may be one person.
fn pattern_reasons(mine: &[Ident], theirs: &[Ident]) -> Vec<String> {
    let mut out = Vec::new();
    for m in mine {
        for t in theirs {
            if m.kind == IdentifierKind::Email && t.kind == IdentifierKind::Email {
                if let (Some(a), Some(b)) = (email_local_part(&m.value), email_local_part(&t.value))
                {
                    if a == b && m.value != t.value {
                        out.push(format!(
                            "Same name, and email addresses with the same local part: {} and {}",
                            m.value, t.value
                        ));
                    }
                }
            }
            if is_phone(m.kind) && is_phone(t.kind) && m.value != t.value {
                if let (Some(a), Some(b)) = (phone_tail(&m.value), phone_tail(&t.value)) {
                    if a == b {
                        out.push(format!(
                            "Same name, and numbers ending in the same nine digits: {} and {}",
                            m.value, t.value
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The suggestions for `customer_id`: each other customer once, with every reason.
pub async fn for_customer(db: &Db, customer_id: i64) -> Result<Vec<MergeSuggestion>> {
    let mut conn = db.read.acquire().await?;
    let me = sqlx::query("SELECT name, merged_into_id FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if me.try_get::<Option<i64>, _>("merged_into_id")?.is_some() {
        return Ok(Vec::new());
    }
    let my_name: String = me.try_get("name")?;
    let mut reasons: BTreeMap<i64, Vec<String>> = BTreeMap::new();

    // Recorded when they happened; the other side may have been merged since.
    let rows = sqlx::query(
        "SELECT customer_a, customer_b, detail FROM merge_suggestions \
         WHERE customer_a = $1 OR customer_b = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let a: i64 = r.try_get("customer_a")?;
        let b: i64 = r.try_get("customer_b")?;
        let other = current_customer(&mut conn, if a == customer_id { b } else { a }).await?;
        if other != customer_id {
            reasons.entry(other).or_default().push(r.try_get("detail")?);
        }
    }

    // The same value under another kind (a phone number that is someone's WhatsApp number).
    let rows = sqlx::query(
        "SELECT m.kind AS my_kind, o.kind, o.value, o.customer_id FROM identifiers m \
         JOIN identifiers o ON o.value = m.value AND o.customer_id <> m.customer_id \
         WHERE m.customer_id = $1 ORDER BY o.id",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let (Ok(mine), Ok(theirs)) = (
            IdentifierKind::parse(&r.try_get::<String, _>("my_kind")?),
            IdentifierKind::parse(&r.try_get::<String, _>("kind")?),
        ) else {
            continue;
        };
        let value: String = r.try_get("value")?;
        reasons
            .entry(r.try_get("customer_id")?)
            .or_default()
            .push(format!(
                "{value} is this customer's {} and their {}",
                kind_words(mine),
                kind_words(theirs)
            ));
    }

    // The same name, with a matching identifier pattern.
    let key = name_key(&my_name);
    if !key.is_empty() {
        let rows = sqlx::query(
            "SELECT id, name FROM customers WHERE id <> $1 AND merged_into_id IS NULL \
             AND LOWER(REPLACE(name, ' ', '')) = LOWER(REPLACE($2, ' ', '')) ORDER BY id LIMIT $3",
        )
        .bind(customer_id)
        .bind(&my_name)
        .bind(MAX_NAME_CANDIDATES)
        .fetch_all(&mut *conn)
        .await?;
        let mut same: Vec<i64> = Vec::new();
        for r in &rows {
            if name_key(&r.try_get::<String, _>("name")?) == key {
                same.push(r.try_get("id")?);
            }
        }
        if !same.is_empty() {
            let list = id_list(&same);
            let mine = idents(
                &sqlx::query(
                    "SELECT customer_id, kind, value FROM identifiers WHERE customer_id = $1",
                )
                .bind(customer_id)
                .fetch_all(&mut *conn)
                .await?,
            )?;
            // The ids come from our own query, so they are safe to inline.
            let theirs = idents(
                &sqlx::query(&format!(
                    "SELECT customer_id, kind, value FROM identifiers WHERE customer_id IN ({list}) ORDER BY id"
                ))
                .fetch_all(&mut *conn)
                .await?,
            )?;
            for other in same {
                let t: Vec<Ident> = theirs
                    .iter()
                    .filter(|i| i.customer_id == other)
                    .map(|i| Ident {
                        customer_id: i.customer_id,
                        kind: i.kind,
                        value: i.value.clone(),
                    })
                    .collect();
                let found = pattern_reasons(&mine, &t);
                if !found.is_empty() {
                    reasons.entry(other).or_default().extend(found);
                }
            }
        }
    }

    if reasons.is_empty() {
        return Ok(Vec::new());
    }
    let dismissed = sqlx::query(
        "SELECT customer_a, customer_b FROM merge_dismissals WHERE customer_a = $1 OR customer_b = $1",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &dismissed {
        let a: i64 = r.try_get("customer_a")?;
        let b: i64 = r.try_get("customer_b")?;
        reasons.remove(&if a == customer_id { b } else { a });
    }
    if reasons.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = reasons.keys().copied().collect();
    let rows = sqlx::query(&format!(
        "SELECT cu.id, cu.name, cu.merged_into_id, c.id AS conversation_id FROM customers cu \
         LEFT JOIN conversations c ON c.customer_id = cu.id WHERE cu.id IN ({}) ORDER BY cu.id",
        id_list(&ids)
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if r.try_get::<Option<i64>, _>("merged_into_id")?.is_some() {
            continue;
        }
        let id: i64 = r.try_get("id")?;
        let mut words = reasons.remove(&id).unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        words.retain(|w| seen.insert(w.clone()));
        out.push(MergeSuggestion {
            customer: CustomerRef {
                id,
                name: r.try_get("name")?,
                conversation_id: r.try_get("conversation_id")?,
            },
            reasons: words,
        });
    }
    Ok(out)
}

fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(kind: IdentifierKind, value: &str) -> Ident {
        Ident {
            customer_id: 0,
            kind,
            value: value.into(),
        }
    }

    #[test]
    fn patterns_match_local_parts_and_number_tails() {
        use IdentifierKind::*;
        let mine = [
            i(Email, "ada.lovelace@example.com"),
            i(Phone, "+447700900123"),
        ];
        let theirs = [
            i(Email, "ada.lovelace@work.example"),
            i(Whatsapp, "+4407700900123"),
        ];
        let r = pattern_reasons(&mine, &theirs);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].contains("same local part"));
        assert!(r[1].contains("nine digits"));
        let strangers = [i(Email, "grace@example.com"), i(Phone, "+15550102000")];
        assert!(pattern_reasons(&mine, &strangers).is_empty());
    }
}
