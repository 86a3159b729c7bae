//! Loading: executes the rendered statements on one write connection, in big transactions.

use super::{BoxError, ROWS_PER_TX};
use app::store::{Backend, Db};
use sqlx::Connection;
use std::time::Instant;
use tokio::sync::mpsc;

/// One rendered multi-row INSERT, with the progress it represents.
pub(super) struct Batch {
    pub(super) table: &'static str,
    pub(super) rows: usize,
    pub(super) total: usize,
    pub(super) sql: String,
}

pub(super) async fn load(
    db: &Db,
    rx: &mut mpsc::Receiver<Batch>,
    started: Instant,
) -> Result<(), BoxError> {
    let mut conn = db.write.acquire().await?;
    let (fast, normal) = match db.backend {
        Backend::Sqlite => ("PRAGMA synchronous = OFF", "PRAGMA synchronous = NORMAL"),
        Backend::Postgres => ("SET synchronous_commit = off", "RESET synchronous_commit"),
    };
    sqlx::raw_sql(fast).execute(&mut *conn).await?;
    let res = load_batches(&mut conn, rx, started).await;
    let restored = sqlx::raw_sql(normal).execute(&mut *conn).await;
    res?;
    restored?;
    Ok(())
}

async fn load_batches(
    conn: &mut sqlx::AnyConnection,
    rx: &mut mpsc::Receiver<Batch>,
    started: Instant,
) -> Result<(), BoxError> {
    let mut tx = conn.begin().await?;
    let mut in_tx = 0usize;
    let mut table = "";
    let mut done = 0usize;
    let mut last_report = 0usize;
    while let Some(b) = rx.recv().await {
        if b.table != table {
            table = b.table;
            done = 0;
            last_report = 0;
        }
        sqlx::raw_sql(&b.sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("inserting into {}: {e}", b.table))?;
        done += b.rows;
        in_tx += b.rows;
        if done == b.total || done - last_report >= 100_000 {
            last_report = done;
            eprintln!(
                "seed: {:<13} {:>9} / {:<9} ({:.1} s)",
                b.table,
                done,
                b.total,
                started.elapsed().as_secs_f64()
            );
        }
        if in_tx >= ROWS_PER_TX {
            tx.commit().await?;
            tx = conn.begin().await?;
            in_tx = 0;
        }
    }
    tx.commit().await?;
    Ok(())
}
