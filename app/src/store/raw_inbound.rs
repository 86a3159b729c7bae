//! Raw inbound payloads (`raw_inbound`), stored exactly as received before any processing,
//! and where their processing stands (pending, processed, ignored, failed). Not to be confused
//! with the server's inbound worker, which processes them.

use super::{now_ms, Db, Result, StoreError};
use crate::model::FailedEvent;
use crate::ports::{BatchItem, NewRaw, RawInbound};
use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    New(i64),
    /// The same (account, dedupe key) was stored before: a retry or a replay.
    Duplicate,
}

/// Attempts before a failing payload stops being retried automatically.
pub const MAX_ATTEMPTS: i64 = 8;

/// The wait after each passing failure, by attempts made before it: 5 s, 30 s, 2 min, 10 min,
/// 30 min, then hourly. With [`MAX_ATTEMPTS`] a payload is retried for about three and a half
/// hours, long enough for a database restart or a provider's media outage to pass.
pub const RETRY_DELAYS_MS: [i64; 6] = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000];

/// How long a process's claim on the payloads it took lasts: if it dies mid-batch, another
/// process takes them after this.
pub const CLAIM_MS: i64 = 120_000;

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

/// Stores several payloads (of any accounts) in one transaction: one commit for a burst of
/// webhooks, and one multi-row statement per [`MANY_CHUNK`] payloads. The answer for each is in
/// the order given; a payload repeated within the burst is a duplicate of its first copy.
pub async fn store_many(db: &Db, items: Vec<NewRaw>) -> Result<Vec<Stored>> {
    let now = now_ms();
    let mut tx = db.write.begin().await?;
    let mut out = Vec::with_capacity(items.len());
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let chunk: Vec<NewRaw> = items.by_ref().take(MANY_CHUNK).collect();
        let mut sql = String::from(
            "INSERT INTO raw_inbound (channel_account_id, dedupe_key, content_type, payload, state, received_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, 'pending', ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            ));
        }
        sql.push_str(
            " ON CONFLICT (channel_account_id, dedupe_key) DO NOTHING RETURNING id, channel_account_id, dedupe_key",
        );
        let keys: Vec<(i64, String)> = chunk
            .iter()
            .map(|it| (it.account_id, it.dedupe_key.clone()))
            .collect();
        let mut q = sqlx::query(&sql);
        for it in chunk {
            q = q
                .bind(it.account_id)
                .bind(it.dedupe_key)
                .bind(it.content_type)
                .bind(it.payload)
                .bind(now);
        }
        let mut ids: std::collections::HashMap<(i64, String), i64> = q
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    (r.try_get("channel_account_id")?, r.try_get("dedupe_key")?),
                    r.try_get("id")?,
                ))
            })
            .collect::<Result<_>>()?;
        // RETURNING names the rows inserted, in no promised order: match them by key.
        out.extend(keys.into_iter().map(|k| match ids.remove(&k) {
            Some(id) => Stored::New(id),
            None => Stored::Duplicate,
        }));
    }
    tx.commit().await?;
    Ok(out)
}

/// Payloads per INSERT statement in [`store_many`] (5 parameters each, well under either
/// engine's limit).
const MANY_CHUNK: usize = 100;

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

/// Takes up to `limit` pending payloads that are due, oldest first, for this process: each is
/// claimed until `now + CLAIM_MS`, so another process skips it (on PostgreSQL rows another
/// process is claiming are skipped, and a row claimed meanwhile fails the repeated condition).
/// Answers them in id order.
pub async fn claim(db: &Db, now: i64, limit: i64) -> Result<Vec<RawInbound>> {
    let sql = format!(
        "UPDATE raw_inbound SET next_attempt_at = $1 WHERE id IN (\
           SELECT id FROM raw_inbound WHERE state = 'pending' AND next_attempt_at <= $2 \
           AND attempts < $3 ORDER BY id LIMIT $4{}) \
         AND state = 'pending' AND next_attempt_at <= $2 \
         RETURNING id, channel_account_id, content_type, payload, attempts, received_at",
        db.backend.skip_locked()
    );
    let mut rows: Vec<RawInbound> = sqlx::query_as(&sql)
        .bind(now + CLAIM_MS)
        .bind(now)
        .bind(MAX_ATTEMPTS)
        .bind(limit)
        .fetch_all(&db.write)
        .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// The SQL for the wait before the next attempt, from the attempts made so far.
fn retry_delay_sql() -> String {
    let mut s = String::from("CASE attempts");
    for (i, d) in RETRY_DELAYS_MS
        .iter()
        .enumerate()
        .take(RETRY_DELAYS_MS.len() - 1)
    {
        s.push_str(&format!(" WHEN {i} THEN {d}"));
    }
    s.push_str(&format!(
        " ELSE {} END",
        RETRY_DELAYS_MS[RETRY_DELAYS_MS.len() - 1]
    ));
    s
}

/// Pending payloads, oldest first, that have not used up their attempts (due or not).
pub async fn pending(db: &Db, limit: i64) -> Result<Vec<RawInbound>> {
    Ok(sqlx::query_as(
        "SELECT id, channel_account_id, content_type, payload, attempts, received_at FROM raw_inbound \
         WHERE state = 'pending' AND attempts < $1 ORDER BY id LIMIT $2",
    )
    .bind(MAX_ATTEMPTS)
    .bind(limit)
    .fetch_all(&db.read)
    .await?)
}

pub async fn mark_processed(db: &Db, id: i64) -> Result<()> {
    sqlx::query("UPDATE raw_inbound SET state = 'processed', error = NULL, processed_at = $1, attempts = attempts + 1 WHERE id = $2")
        .bind(now_ms())
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Marks processed, inside the caller's transaction, the payloads whose messages it stored.
pub async fn mark_processed_many(conn: &mut AnyConnection, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = (0..ids.len())
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE raw_inbound SET state = 'processed', error = NULL, processed_at = $1, attempts = attempts + 1 WHERE id IN ({list})"
    );
    let mut q = sqlx::query(&sql).bind(now_ms());
    for id in ids {
        q = q.bind(*id);
    }
    q.execute(&mut *conn).await?;
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
/// retry); otherwise it stays pending for another attempt after [`RETRY_DELAYS_MS`].
pub async fn mark_error(db: &Db, id: i64, error: &str, final_: bool) -> Result<()> {
    let sql = format!(
        "UPDATE raw_inbound SET state = CASE WHEN $1 = 1 OR attempts + 1 >= $2 THEN 'failed' ELSE 'pending' END, \
         error = $3, attempts = attempts + 1, processed_at = $4, next_attempt_at = $4 + {} WHERE id = $5",
        retry_delay_sql()
    );
    sqlx::query(&sql)
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

/// Longest payload preview shown to an admin.
const PREVIEW_CHARS: usize = 300;

/// The most recent failed payloads, newest first, for the admin list of failed events.
pub async fn failed(db: &Db, limit: i64) -> Result<Vec<FailedEvent>> {
    let rows = sqlx::query(
        "SELECT r.id, a.name, a.provider, r.received_at, r.attempts, r.error, r.payload FROM raw_inbound r \
         JOIN channel_accounts a ON a.id = r.channel_account_id WHERE r.state = 'failed' ORDER BY r.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let payload: Vec<u8> = r.try_get("payload")?;
            Ok(FailedEvent {
                id: r.try_get("id")?,
                account: r.try_get("name")?,
                provider: r.try_get("provider")?,
                received_at: r.try_get("received_at")?,
                attempts: r.try_get("attempts")?,
                error: r.try_get::<Option<String>, _>("error")?.unwrap_or_default(),
                size: payload.len() as i64,
                preview: crate::domain::text::payload_preview(&payload, PREVIEW_CHARS),
            })
        })
        .collect()
}

/// Puts a failed payload back in the queue with fresh attempts. `NotFound` when it is not
/// (or no longer) failed.
pub async fn retry(db: &Db, id: i64) -> Result<()> {
    let n = sqlx::query(
        "UPDATE raw_inbound SET state = 'pending', attempts = 0, error = NULL, next_attempt_at = 0 \
         WHERE id = $1 AND state = 'failed'",
    )
    .bind(id)
    .execute(&db.write)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The inbound queue for operators: payloads waiting, when the oldest of them arrived, and
/// payloads failed for good (waiting for a person).
pub async fn queue_stats(db: &Db) -> Result<(i64, Option<i64>, i64)> {
    let r = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
         MIN(CASE WHEN state = 'pending' THEN received_at END) AS oldest, \
         COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed \
         FROM raw_inbound WHERE state IN ('pending', 'failed')",
    )
    .fetch_one(&db.read)
    .await?;
    Ok((
        r.try_get("pending")?,
        r.try_get("oldest")?,
        r.try_get("failed")?,
    ))
}
