//! Saved views (`saved_views`): a named search, personal or shared with everyone.

use super::{now_ms, Db, Result, StoreError};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewRow {
    pub id: i64,
    /// `None`: shared with everyone.
    pub owner_id: Option<i64>,
    pub name: String,
    pub query: String,
}

fn row(r: &sqlx::any::AnyRow) -> Result<ViewRow> {
    Ok(ViewRow {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        name: r.try_get("name")?,
        query: r.try_get("query")?,
    })
}

/// The views `user_id` sees: shared ones, then their own, each by name.
pub async fn visible(db: &Db, user_id: i64) -> Result<Vec<ViewRow>> {
    let rows = sqlx::query(
        "SELECT id, owner_id, name, query FROM saved_views \
         WHERE owner_id IS NULL OR owner_id = $1 \
         ORDER BY CASE WHEN owner_id IS NULL THEN 0 ELSE 1 END, LOWER(name), id",
    )
    .bind(user_id)
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(row).collect()
}

pub async fn get(db: &Db, id: i64) -> Result<ViewRow> {
    let r = sqlx::query("SELECT id, owner_id, name, query FROM saved_views WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.read)
        .await?
        .ok_or(StoreError::NotFound)?;
    row(&r)
}

/// How many views `owner` (or the shared list) holds under `name` (any case).
pub async fn named(db: &Db, owner: Option<i64>, name: &str) -> Result<Option<i64>> {
    let r = sqlx::query(
        "SELECT id FROM saved_views WHERE LOWER(name) = LOWER($1) \
         AND ((owner_id IS NULL AND $2 = 0) OR owner_id = $2)",
    )
    .bind(name)
    .bind(owner.unwrap_or(0))
    .fetch_optional(&db.read)
    .await?;
    Ok(r.map(|r| r.try_get("id")).transpose()?)
}

pub async fn create(db: &Db, owner: Option<i64>, name: &str, query: &str) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO saved_views (owner_id, name, query, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(owner)
    .bind(name)
    .bind(query)
    .bind(now_ms())
    .fetch_one(&db.write)
    .await?;
    Ok(r.try_get("id")?)
}

pub async fn update(db: &Db, id: i64, name: &str, query: &str) -> Result<()> {
    sqlx::query("UPDATE saved_views SET name = $1, query = $2 WHERE id = $3")
        .bind(name)
        .bind(query)
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<()> {
    let r = sqlx::query("DELETE FROM saved_views WHERE id = $1")
        .bind(id)
        .execute(&db.write)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
