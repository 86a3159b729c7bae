//! Delivery reports that arrived before the message they are about was known to us (a status
//! callback racing the send's own answer, or a provider reporting out of order).

use super::{now_ms, Db, Result};
use crate::domain::DeliveryState;
use sqlx::Row;

pub async fn save(
    db: &Db,
    account_id: i64,
    provider_message_id: &str,
    state: DeliveryState,
    reason: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO delivery_reports (channel_account_id, provider_message_id, state, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account_id)
    .bind(provider_message_id)
    .bind(state.as_str())
    .bind(reason)
    .bind(now_ms())
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Removes and returns the reports held for `provider_message_id`, oldest first.
pub async fn take(
    db: &Db,
    account_id: i64,
    provider_message_id: &str,
) -> Result<Vec<(DeliveryState, Option<String>)>> {
    let rows = sqlx::query(
        "DELETE FROM delivery_reports WHERE channel_account_id = $1 AND provider_message_id = $2 \
         RETURNING id, state, reason",
    )
    .bind(account_id)
    .bind(provider_message_id)
    .fetch_all(&db.write)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let s: String = r.try_get("state")?;
        if let Some(state) = DeliveryState::parse(&s) {
            out.push((r.try_get::<i64, _>("id")?, state, r.try_get("reason")?));
        }
    }
    out.sort_by_key(|(id, ..)| *id);
    Ok(out.into_iter().map(|(_, s, r)| (s, r)).collect())
}
