//! Merge suggestions as recorded when they happen (`merge_suggestions`), and dismissals
//! (`merge_dismissals`: two customers are different people). Computing the suggestions shown
//! is `service::suggestions`.

use super::{now_ms, Db, Result, StoreError};
use crate::model::CustomerRef;
use sqlx::{AnyConnection, Row};

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

/// The recorded suggestions that pair `customer_id` with another customer: (the other
/// customer as recorded, the words), oldest first.
pub async fn recorded(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<(i64, String)>> {
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT customer_a, customer_b, detail FROM merge_suggestions \
         WHERE customer_a = $1 OR customer_b = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(a, b, d)| (if a == customer_id { b } else { a }, d))
        .collect())
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
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The customers said to be different people from `customer_id`.
pub async fn dismissed(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT customer_a, customer_b FROM merge_dismissals WHERE customer_a = $1 OR customer_b = $1",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(a, b)| if a == customer_id { b } else { a })
        .collect())
}

/// Other customers, not merged away, whose name is `name` case and spaces aside (as the
/// `customers_name_key` index reads it): (id, name), at most `limit`.
pub async fn same_name(
    conn: &mut AnyConnection,
    customer_id: i64,
    name: &str,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, name FROM customers WHERE id <> $1 AND merged_into_id IS NULL \
         AND LOWER(REPLACE(name, ' ', '')) = LOWER(REPLACE($2, ' ', '')) ORDER BY id LIMIT $3",
    )
    .bind(customer_id)
    .bind(name)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// The customers `ids` that are not merged away, as links, by id.
pub async fn unmerged_refs(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<CustomerRef>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::id_list(ids);
    // Integers, so safe to inline.
    let rows = sqlx::query(&format!(
        "SELECT cu.id, cu.name, cu.merged_into_id, c.id AS conversation_id FROM customers cu \
         LEFT JOIN conversations c ON c.customer_id = cu.id WHERE cu.id IN ({list}) ORDER BY cu.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if r.try_get::<Option<i64>, _>("merged_into_id")?.is_some() {
            continue;
        }
        out.push(CustomerRef {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            conversation_id: r.try_get("conversation_id")?,
        });
    }
    Ok(out)
}

/// Merge suggestions waiting for an agent.
pub async fn pending_count(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM merge_suggestions")
        .fetch_one(&mut *conn)
        .await?)
}
