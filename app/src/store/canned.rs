//! Canned responses (`canned_responses`): saved replies, shared with everyone (no owner) or
//! one user's own. A shortcut is unique within its scope (the shared ones, or one user's),
//! checked here before writing: a shared and a personal response may share a shortcut.

use super::{now_ms, Db, Result, StoreError};
use sqlx::{AnyConnection, Row};

/// A stored response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedRow {
    pub id: i64,
    /// None: shared with everyone.
    pub owner_id: Option<i64>,
    pub shortcut: String,
    pub title: String,
    pub body: String,
}

const COLUMNS: &str = "id, owner_id, shortcut, title, body";

fn row_of(r: &sqlx::any::AnyRow) -> Result<CannedRow> {
    Ok(CannedRow {
        id: r.try_get("id")?,
        owner_id: r.try_get::<Option<i64>, _>("owner_id")?,
        shortcut: r.try_get("shortcut")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
    })
}

/// The responses `user_id` sees: the shared ones and their own, by shortcut (their own
/// before a shared one with the same shortcut).
pub async fn visible_to(db: &Db, user_id: i64) -> Result<Vec<CannedRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM canned_responses WHERE owner_id IS NULL OR owner_id = $1 \
         ORDER BY shortcut, CASE WHEN owner_id IS NULL THEN 1 ELSE 0 END, id"
    ))
    .bind(user_id)
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(row_of).collect()
}

/// One response, whoever owns it.
pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<CannedRow> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM canned_responses WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    row_of(&row)
}

/// The id of the response with `shortcut` in `owner`'s scope (None: the shared ones).
pub async fn in_scope(
    conn: &mut AnyConnection,
    owner: Option<i64>,
    shortcut: &str,
) -> Result<Option<i64>> {
    let row = match owner {
        Some(owner) => {
            sqlx::query(
                "SELECT id FROM canned_responses WHERE owner_id = $1 AND shortcut = $2 \
                 ORDER BY id LIMIT 1",
            )
            .bind(owner)
            .bind(shortcut)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT id FROM canned_responses WHERE owner_id IS NULL AND shortcut = $1 \
                 ORDER BY id LIMIT 1",
            )
            .bind(shortcut)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

fn taken(owner: Option<i64>, shortcut: &str) -> StoreError {
    StoreError::Conflict(match owner {
        Some(_) => format!("You have a response /{shortcut} already."),
        None => format!("A shared response /{shortcut} exists already."),
    })
}

/// Stores a new response in `owner`'s scope (None: shared); a shortcut taken in that scope
/// is a conflict, in words.
pub async fn create(
    conn: &mut AnyConnection,
    owner: Option<i64>,
    shortcut: &str,
    title: &str,
    body: &str,
) -> Result<i64> {
    if in_scope(conn, owner, shortcut).await?.is_some() {
        return Err(taken(owner, shortcut));
    }
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO canned_responses (owner_id, shortcut, title, body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(owner)
    .bind(shortcut)
    .bind(title)
    .bind(body)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// Changes a response's shortcut, title and body (its scope stays); a shortcut another
/// response of the scope has is a conflict, in words.
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    shortcut: &str,
    title: &str,
    body: &str,
) -> Result<()> {
    let current = get(conn, id).await?;
    if in_scope(conn, current.owner_id, shortcut)
        .await?
        .is_some_and(|other| other != id)
    {
        return Err(taken(current.owner_id, shortcut));
    }
    let r = sqlx::query(
        "UPDATE canned_responses SET shortcut = $1, title = $2, body = $3, updated_at = $4 \
         WHERE id = $5",
    )
    .bind(shortcut)
    .bind(title)
    .bind(body)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    let r = sqlx::query("DELETE FROM canned_responses WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
