//! Where each mailbox's IMAP sync stands: the resume position (UIDVALIDITY, last UID) and the
//! progress and errors the admin page shows.

use super::{now_ms, Db, Result};
use crate::model::MailboxStatus;
use sqlx::Row;

/// The resume position of a mailbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub uidvalidity: Option<u32>,
    pub last_uid: u32,
}

/// Makes sure the account has a sync row for `folder`. Changing the folder starts over.
pub async fn ensure(db: &Db, account_id: i64, folder: &str) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO mailbox_sync (channel_account_id, folder, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (channel_account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(folder)
    .bind(now)
    .execute(&db.write)
    .await?;
    sqlx::query(
        "UPDATE mailbox_sync SET folder = $2, uidvalidity = NULL, last_uid = 0, updated_at = $3 \
         WHERE channel_account_id = $1 AND folder <> $2",
    )
    .bind(account_id)
    .bind(folder)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(())
}

pub async fn position(db: &Db, account_id: i64) -> Result<Position> {
    let r =
        sqlx::query("SELECT uidvalidity, last_uid FROM mailbox_sync WHERE channel_account_id = $1")
            .bind(account_id)
            .fetch_optional(&db.read)
            .await?;
    Ok(match r {
        Some(r) => Position {
            uidvalidity: r
                .try_get::<Option<i64>, _>("uidvalidity")?
                .map(|v| v as u32),
            last_uid: r.try_get::<i64, _>("last_uid")? as u32,
        },
        None => Position::default(),
    })
}

/// Records a new position (after a batch is stored) and the import's progress.
pub async fn set_position(db: &Db, account_id: i64, pos: Position, done: i64) -> Result<()> {
    sqlx::query(
        "UPDATE mailbox_sync SET uidvalidity = $2, last_uid = $3, done = $4, updated_at = $5 \
         WHERE channel_account_id = $1",
    )
    .bind(account_id)
    .bind(pos.uidvalidity.map(i64::from))
    .bind(i64::from(pos.last_uid))
    .bind(done)
    .bind(now_ms())
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Sets the phase (and, for an import, its size); `detail` is the server's words on errors.
pub async fn set_phase(
    db: &Db,
    account_id: i64,
    phase: &str,
    detail: Option<&str>,
    total: Option<i64>,
) -> Result<()> {
    let now = now_ms();
    let success = matches!(phase, "idle" | "polling" | "importing");
    sqlx::query(
        "UPDATE mailbox_sync SET phase = $2, detail = $3, \
           total = CASE WHEN $4 < 0 THEN total ELSE $4 END, \
           done = CASE WHEN $4 < 0 THEN done ELSE 0 END, \
           last_success_at = CASE WHEN $5 = 1 THEN $6 ELSE last_success_at END, updated_at = $6 \
         WHERE channel_account_id = $1",
    )
    .bind(account_id)
    .bind(phase)
    .bind(detail)
    .bind(total.unwrap_or(-1))
    .bind(success as i64)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(())
}

pub async fn status(db: &Db, account_id: i64) -> Result<Option<MailboxStatus>> {
    let r = sqlx::query(
        "SELECT folder, phase, total, done, detail, last_success_at FROM mailbox_sync \
         WHERE channel_account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(&db.read)
    .await?;
    r.map(|r| {
        Ok(MailboxStatus {
            folder: r.try_get("folder")?,
            phase: r.try_get("phase")?,
            total: r.try_get("total")?,
            done: r.try_get("done")?,
            detail: r.try_get("detail")?,
            last_success_at: r.try_get("last_success_at")?,
        })
    })
    .transpose()
}

/// The account's overall state as the channel list shows it (`ok`, `error`, `disabled`).
pub async fn set_account_state(
    db: &Db,
    account_id: i64,
    state: &str,
    detail: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE channel_accounts SET state = $2, state_detail = $3 WHERE id = $1 \
         AND (state <> $2 OR COALESCE(state_detail, '') <> COALESCE($3, ''))",
    )
    .bind(account_id)
    .bind(state)
    .bind(detail)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Every synced mailbox with its phase and its last successful look (unix ms), for operators.
pub async fn sync_states(db: &Db) -> Result<Vec<(i64, String, Option<i64>)>> {
    let rows = sqlx::query(
        "SELECT channel_account_id, phase, last_success_at FROM mailbox_sync ORDER BY channel_account_id",
    )
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("channel_account_id")?,
                r.try_get("phase")?,
                r.try_get("last_success_at")?,
            ))
        })
        .collect()
}
