//! Raw inbound data, stored exactly as received before any processing.

use super::{now_ms, Db, Result};
use sqlx::Row;

#[derive(Clone, Debug)]
pub struct RawInbound {
    pub id: i64,
    pub channel_account_id: i64,
    pub content_type: String,
    pub payload: Vec<u8>,
    pub attempts: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    New(i64),
    /// The same (account, dedupe key) was stored before: a retry or a replay.
    Duplicate,
}

/// Attempts before a failing payload stops being retried automatically.
pub const MAX_ATTEMPTS: i64 = 5;

pub async fn store(
    db: &Db,
    account_id: i64,
    dedupe_key: &str,
    content_type: &str,
    payload: &[u8],
) -> Result<Stored> {
    let row = sqlx::query(
        "INSERT INTO raw_inbound (channel_account_id, dedupe_key, content_type, payload, state, received_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (channel_account_id, dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(account_id)
    .bind(dedupe_key)
    .bind(content_type)
    .bind(payload.to_vec())
    .bind(now_ms())
    .fetch_optional(&db.write)
    .await?;
    Ok(match row {
        Some(r) => Stored::New(r.try_get("id")?),
        None => Stored::Duplicate,
    })
}

/// One payload of a batch; `error` stores it straight into the failed list (e.g. over a size
/// limit), kept for a person to see.
pub struct BatchItem {
    pub dedupe_key: String,
    pub payload: Vec<u8>,
    pub error: Option<String>,
}

/// Stores a batch in one transaction; returns how many were new (the rest were duplicates).
pub async fn store_batch(
    db: &Db,
    account_id: i64,
    content_type: &str,
    items: &[BatchItem],
) -> Result<usize> {
    let now = now_ms();
    let mut tx = db.write.begin().await?;
    let mut new = 0;
    for it in items {
        let r = sqlx::query(
            "INSERT INTO raw_inbound (channel_account_id, dedupe_key, content_type, payload, state, error, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (channel_account_id, dedupe_key) DO NOTHING",
        )
        .bind(account_id)
        .bind(&it.dedupe_key)
        .bind(content_type)
        .bind(it.payload.clone())
        .bind(if it.error.is_some() { "failed" } else { "pending" })
        .bind(it.error.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        new += r.rows_affected() as usize;
    }
    tx.commit().await?;
    Ok(new)
}

/// Pending payloads, oldest first, that have not used up their attempts.
pub async fn pending(db: &Db, limit: i64) -> Result<Vec<RawInbound>> {
    let rows = sqlx::query(
        "SELECT id, channel_account_id, content_type, payload, attempts FROM raw_inbound \
         WHERE state = 'pending' AND attempts < $1 ORDER BY id LIMIT $2",
    )
    .bind(MAX_ATTEMPTS)
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RawInbound {
                id: r.try_get("id")?,
                channel_account_id: r.try_get("channel_account_id")?,
                content_type: r.try_get("content_type")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

pub async fn mark_processed(db: &Db, id: i64) -> Result<()> {
    sqlx::query("UPDATE raw_inbound SET state = 'processed', error = NULL, processed_at = $1, attempts = attempts + 1 WHERE id = $2")
        .bind(now_ms())
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Done with nothing to store; `reason` says why, for the admin view.
pub async fn mark_ignored(db: &Db, id: i64, reason: &str) -> Result<()> {
    sqlx::query("UPDATE raw_inbound SET state = 'ignored', error = $1, processed_at = $2, attempts = attempts + 1 WHERE id = $3")
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Records a processing error. `final_` moves it to the failed list (kept for a person to
/// retry); otherwise it stays pending for another attempt.
pub async fn mark_error(db: &Db, id: i64, error: &str, final_: bool) -> Result<()> {
    sqlx::query(
        "UPDATE raw_inbound SET state = CASE WHEN $1 = 1 OR attempts + 1 >= $2 THEN 'failed' ELSE 'pending' END, \
         error = $3, attempts = attempts + 1, processed_at = $4 WHERE id = $5",
    )
    .bind(final_ as i64)
    .bind(MAX_ATTEMPTS)
    .bind(error)
    .bind(now_ms())
    .bind(id)
    .execute(&db.write)
    .await?;
    Ok(())
}

pub async fn state_of(db: &Db, id: i64) -> Result<(String, Option<String>)> {
    let r = sqlx::query("SELECT state, error FROM raw_inbound WHERE id = $1")
        .bind(id)
        .fetch_one(&db.read)
        .await?;
    Ok((r.try_get("state")?, r.try_get("error")?))
}
