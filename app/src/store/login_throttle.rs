//! Failed sign-in counters (`login_throttle`), shared by every server process on the database
//! and kept across restarts. A key counts failures in a fixed window opened by its first
//! failure; callers decide what the count means (see `ssr::login_limit`).

use super::{Db, Result};
use sqlx::Row;

/// Failures counted for `key` in its window, when that window is still open at `now`.
pub async fn failures(db: &Db, key: &str, now: i64, window_ms: i64) -> Result<i64> {
    let row =
        sqlx::query("SELECT failures FROM login_throttle WHERE key = $1 AND window_start > $2")
            .bind(key)
            .bind(now - window_ms)
            .fetch_optional(&db.read)
            .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>(0)?,
        None => 0,
    })
}

/// Counts one failure for `key`: in its open window, or in a new one from `now` when the
/// last has closed. Answers the count after this failure.
pub async fn record_failure(db: &Db, key: &str, now: i64, window_ms: i64) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN login_throttle.window_start > $3 \
                      THEN login_throttle.failures + 1 ELSE 1 END, \
           window_start = CASE WHEN login_throttle.window_start > $3 \
                          THEN login_throttle.window_start ELSE $2 END \
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(now - window_ms)
    .fetch_one(&db.write)
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Forgets `key` (a successful sign-in clears its account's failures).
pub async fn clear(db: &Db, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Deletes the rows whose window has closed at `now`; a row with an open window (so any
/// active lockout) stays. Answers how many went.
pub async fn prune(db: &Db, now: i64, window_ms: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1")
        .bind(now - window_ms)
        .execute(&db.write)
        .await?;
    Ok(r.rows_affected())
}

/// Rows held, and the longest key among them (for tests of the bound).
pub async fn size(db: &Db) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(MAX(LENGTH(key)), 0) AS BIGINT) FROM login_throttle",
    )
    .fetch_one(&db.read)
    .await?;
    Ok((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?))
}
