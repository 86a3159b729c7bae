//! Leases (`leases`): singleton work shared by every server process on the database. A process
//! holds a lease by name until it expires, renewing it well before; whoever finds it expired
//! takes it over. Works the same on SQLite and PostgreSQL (one conditional upsert).

use super::{Db, Result};

/// Takes `name` for `holder` until `now + ttl_ms`, or renews it when `holder` has it already.
/// Answers whether `holder` holds it now (false while another process's lease runs).
pub async fn hold(db: &Db, name: &str, holder: &str, now: i64, ttl_ms: i64) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
    )
    .bind(name)
    .bind(holder)
    .bind(now + ttl_ms)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Gives `name` up, when `holder` has it, so another process may take it at once.
pub async fn release(db: &Db, name: &str, holder: &str) -> Result<()> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Gives up every lease `holder` has (a process stopping cleanly).
pub async fn release_all(db: &Db, holder: &str) -> Result<u64> {
    let r = sqlx::query("DELETE FROM leases WHERE holder = $1")
        .bind(holder)
        .execute(&db.write)
        .await?;
    Ok(r.rows_affected())
}

/// Who holds `name` now, if anyone.
pub async fn holder_of(db: &Db, name: &str, now: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT holder FROM leases WHERE name = $1 AND expires_at > $2")
            .bind(name)
            .bind(now)
            .fetch_optional(&db.read)
            .await?,
    )
}

/// How many leases `holder` has now.
pub async fn held_by(db: &Db, holder: &str, now: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM leases WHERE holder = $1 AND expires_at > $2")
            .bind(holder)
            .bind(now)
            .fetch_one(&db.read)
            .await?,
    )
}
