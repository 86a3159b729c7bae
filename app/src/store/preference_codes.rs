//! Codes sent to an address a customer adds on their preference center page
//! (`preference_codes`): kept as SHA-256 hashes, tried a few times, used once.

use super::{Db, Result};
use crate::domain::IdentifierKind;
use sqlx::{AnyConnection, Row};

/// A code waiting to be typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub kind: IdentifierKind,
    pub value: String,
    pub code_hash: String,
    pub attempts: i64,
    pub expires_at: i64,
}

/// Stores a code for `kind:value` of `customer_id`.
pub async fn insert(
    conn: &mut AnyConnection,
    customer_id: i64,
    kind: IdentifierKind,
    value: &str,
    code_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO preference_codes (customer_id, kind, value, code_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(customer_id)
    .bind(kind.as_str())
    .bind(value)
    .bind(code_hash)
    .bind(now)
    .bind(expires_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get("id")?)
}

/// The newest unused code of `customer_id`, if any (expired or not: the caller says which).
pub async fn newest(conn: &mut AnyConnection, customer_id: i64) -> Result<Option<Pending>> {
    let r = sqlx::query(
        "SELECT id, kind, value, code_hash, attempts, expires_at FROM preference_codes \
         WHERE customer_id = $1 AND used_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let kind: String = r.try_get("kind")?;
    let Ok(kind) = IdentifierKind::parse(&kind) else {
        return Ok(None);
    };
    Ok(Some(Pending {
        id: r.try_get("id")?,
        kind,
        value: r.try_get("value")?,
        code_hash: r.try_get("code_hash")?,
        attempts: r.try_get("attempts")?,
        expires_at: r.try_get("expires_at")?,
    }))
}

/// Counts a wrong try of code `id`.
pub async fn count_try(db: &Db, id: i64) -> Result<()> {
    sqlx::query("UPDATE preference_codes SET attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Marks code `id` used; false when another request used it first.
pub async fn use_once(conn: &mut AnyConnection, id: i64, now: i64) -> Result<bool> {
    let r =
        sqlx::query("UPDATE preference_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes codes made before `before` (long expired, used or not).
pub async fn prune(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM preference_codes WHERE created_at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}
