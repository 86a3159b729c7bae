//! Fixed-window request counters (`rate_counters`), shared by every server process on the
//! database: a limit holds whichever process a request reaches. A key counts hits in a window
//! opened by its first hit; callers decide what the count means.

use super::{Db, Result};
use sqlx::Row;

/// Counts one hit for `key` at `now` in its open window, or in a new one when the last has
/// closed (`window_ms` long). Answers the count including this hit.
pub async fn hit(db: &Db, key: &str, now: i64, window_ms: i64) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO rate_counters (key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN rate_counters.window_start > $3 THEN rate_counters.hits + 1 ELSE 1 END, \
           window_start = CASE WHEN rate_counters.window_start > $3 \
                          THEN rate_counters.window_start ELSE $2 END \
         RETURNING hits",
    )
    .bind(key)
    .bind(now)
    .bind(now - window_ms)
    .fetch_one(&db.write)
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Deletes the counters whose window opened before `before`. Answers how many went.
pub async fn prune(db: &Db, before: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM rate_counters WHERE window_start < $1")
        .bind(before)
        .execute(&db.write)
        .await?;
    Ok(r.rows_affected())
}
