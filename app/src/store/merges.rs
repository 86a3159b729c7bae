//! Reversible merges of two customers (`merges`, and `merge_moves`: every identifier, message
//! and event a merge moved, so that undoing it moves exactly those back). The use cases are in
//! `service::merge`.

use super::{Db, Result};
use crate::model::{CustomerRef, MergeView};
use sqlx::{AnyConnection, Row};

/// A merge not undone yet.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct ActiveMerge {
    pub id: i64,
    /// 1 when the merge made the merged customer's conversation (it had none).
    pub created_conversation: i64,
    pub created_at: i64,
}

/// The newest merge of `merged` into `survivor` that is not undone.
pub async fn active(
    conn: &mut AnyConnection,
    merged: i64,
    survivor: i64,
) -> Result<Option<ActiveMerge>> {
    Ok(sqlx::query_as(
        "SELECT id, created_conversation, created_at FROM merges \
         WHERE merged_id = $1 AND survivor_id = $2 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(merged)
    .bind(survivor)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Records a merge; returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    survivor: i64,
    merged: i64,
    created_conversation: bool,
    actor: Option<i64>,
    at: i64,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO merges (survivor_id, merged_id, created_conversation, actor_user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(survivor)
    .bind(merged)
    .bind(created_conversation as i64)
    .bind(actor)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?)
}

/// Lists in `merge_moves` what merge `merge_id` is about to move: the identifiers of customer
/// `merged`, and the messages and events of its conversation `merged_conversation`.
pub async fn record_moves(
    conn: &mut AnyConnection,
    merge_id: i64,
    merged: i64,
    merged_conversation: i64,
) -> Result<()> {
    for (kind, sql) in [
        (
            "identifier",
            "SELECT $1, $2, id FROM identifiers WHERE customer_id = $3",
        ),
        (
            "message",
            "SELECT $1, $2, id FROM messages WHERE conversation_id = $3",
        ),
        (
            "event",
            "SELECT $1, $2, id FROM events WHERE conversation_id = $3",
        ),
    ] {
        sqlx::query(&format!(
            "INSERT INTO merge_moves (merge_id, kind, item_id) {sql}"
        ))
        .bind(merge_id)
        .bind(kind)
        .bind(if kind == "identifier" {
            merged
        } else {
            merged_conversation
        })
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Names the merge's timeline event.
pub async fn set_event(conn: &mut AnyConnection, merge_id: i64, event_id: i64) -> Result<()> {
    sqlx::query("UPDATE merges SET event_id = $1 WHERE id = $2")
        .bind(event_id)
        .bind(merge_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records that `actor` undid merge `merge_id`.
pub async fn mark_undone(
    conn: &mut AnyConnection,
    merge_id: i64,
    actor: i64,
    at: i64,
) -> Result<()> {
    sqlx::query("UPDATE merges SET undone_at = $1, undone_by = $2 WHERE id = $3")
        .bind(at)
        .bind(actor)
        .bind(merge_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The items a merge moved, by kind: a subquery for `IN (…)`; `$1` is the merge id.
const MOVED: &str = "SELECT item_id FROM merge_moves WHERE merge_id = $1 AND kind = ";

/// Gives customer `merged` back the identifiers merge `merge_id` moved to `survivor`.
pub async fn move_back_identifiers(
    conn: &mut AnyConnection,
    merge_id: i64,
    merged: i64,
    survivor: i64,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE identifiers SET customer_id = $2 WHERE customer_id = $3 AND id IN ({MOVED}'identifier')"
    ))
    .bind(merge_id)
    .bind(merged)
    .bind(survivor)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How many messages customer `merged` wrote (through identifiers it holds now) into the
/// survivor's conversation since `since`, that merge `merge_id` did not move there.
pub async fn wrote_since(
    conn: &mut AnyConnection,
    merge_id: i64,
    survivor_conversation: i64,
    merged: i64,
    since: i64,
) -> Result<i64> {
    Ok(sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = $2 AND direction = 'in' AND automatic = 0 \
           AND created_at >= $4 AND identifier_id IN (SELECT id FROM identifiers WHERE customer_id = $3) \
           AND id NOT IN ({MOVED}'message')"
    ))
    .bind(merge_id)
    .bind(survivor_conversation)
    .bind(merged)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?)
}

/// Moves back to `merged`'s conversation the messages merge `merge_id` moved, and every
/// message that came or went through one of `merged`'s identifiers since.
pub async fn move_back_messages(
    conn: &mut AnyConnection,
    merge_id: i64,
    merged_conversation: i64,
    merged: i64,
    survivor_conversation: i64,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE messages SET conversation_id = $2, customer_id = $3 WHERE conversation_id = $4 \
           AND (id IN ({MOVED}'message') OR identifier_id IN (SELECT id FROM identifiers WHERE customer_id = $3))"
    ))
    .bind(merge_id)
    .bind(merged_conversation)
    .bind(merged)
    .bind(survivor_conversation)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves back to `merged_conversation` the events merge `merge_id` moved.
pub async fn move_back_events(
    conn: &mut AnyConnection,
    merge_id: i64,
    merged_conversation: i64,
    survivor_conversation: i64,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE events SET conversation_id = $2 WHERE conversation_id = $3 AND id IN ({MOVED}'event')"
    ))
    .bind(merge_id)
    .bind(merged_conversation)
    .bind(survivor_conversation)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The customers merged into `customer_id` and not separated again, newest first.
pub async fn merged_here(db: &Db, customer_id: i64) -> Result<Vec<MergeView>> {
    let rows = sqlx::query(
        "SELECT g.id, g.merged_id, g.created_at, cu.name, c.id AS conversation_id, u.name AS actor_name \
         FROM merges g JOIN customers cu ON cu.id = g.merged_id \
         LEFT JOIN conversations c ON c.customer_id = g.merged_id \
         LEFT JOIN users u ON u.id = g.actor_user_id \
         WHERE g.survivor_id = $1 AND g.undone_at IS NULL ORDER BY g.id DESC",
    )
    .bind(customer_id)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MergeView {
                merge_id: r.try_get("id")?,
                customer: CustomerRef {
                    id: r.try_get("merged_id")?,
                    name: r.try_get("name")?,
                    conversation_id: r.try_get("conversation_id")?,
                },
                actor_name: r.try_get("actor_name")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Merges made at `from..to` (unix ms) and, of all merges, those undone then: `(merges, undos)`.
pub async fn counts_between(conn: &mut AnyConnection, from: i64, to: i64) -> Result<(i64, i64)> {
    let r = sqlx::query(
        "SELECT \
           (SELECT COUNT(*) FROM merges WHERE created_at >= $1 AND created_at < $2) AS merged, \
           (SELECT COUNT(*) FROM merges WHERE undone_at >= $1 AND undone_at < $2) AS undone",
    )
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    Ok((r.try_get("merged")?, r.try_get("undone")?))
}
