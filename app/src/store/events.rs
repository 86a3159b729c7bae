//! Timeline events (`events`): status changes, assignments, snoozes, channel switches,
//! merges, notes. Their kinds and words are in [`crate::domain::event`].

use super::{now_ms, Result};
use sqlx::{AnyConnection, Row};

/// Appends an event to a conversation's timeline, inside the caller's transaction.
pub async fn add(
    conn: &mut AnyConnection,
    conversation_id: i64,
    kind: &str,
    actor: Option<i64>,
    body: Option<&str>,
    data: serde_json::Value,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO events (conversation_id, kind, actor_user_id, body, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(conversation_id)
    .bind(kind)
    .bind(actor)
    .bind(body)
    .bind(data.to_string())
    .bind(now_ms())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// Moves every event of conversation `from` to conversation `to`.
pub async fn move_all(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    sqlx::query("UPDATE events SET conversation_id = $1 WHERE conversation_id = $2")
        .bind(to)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `(id, data)` of the events of `kind` on conversation `conversation_id` since `since`.
pub async fn of_kind_since(
    conn: &mut AnyConnection,
    conversation_id: i64,
    kind: &str,
    since: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, data FROM events WHERE conversation_id = $1 AND kind = $2 AND created_at >= $3",
    )
    .bind(conversation_id)
    .bind(kind)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?)
}

/// Moves the events `ids` to conversation `to`.
pub async fn move_to(conn: &mut AnyConnection, ids: &[i64], to: i64) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = super::id_list(ids);
    // Integers, so safe to inline.
    sqlx::query(&format!(
        "UPDATE events SET conversation_id = $1 WHERE id IN ({list})"
    ))
    .bind(to)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A timeline event that matters to the reports (status changes and moves).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFact {
    pub id: i64,
    pub conversation_id: i64,
    pub kind: String,
    pub data: String,
    pub actor: Option<i64>,
    pub at: i64,
}

/// The status changes and moves of conversations `from_id..to_id` at or after `since`, by
/// conversation and time.
pub async fn facts(
    conn: &mut AnyConnection,
    from_id: i64,
    to_id: i64,
    since: i64,
) -> Result<Vec<EventFact>> {
    let rows = sqlx::query(
        "SELECT id, conversation_id, kind, data, actor_user_id, created_at FROM events \
         WHERE conversation_id >= $1 AND conversation_id < $2 AND created_at >= $3 \
           AND kind IN ($4, $5) \
         ORDER BY conversation_id, created_at, id",
    )
    .bind(from_id)
    .bind(to_id)
    .bind(since)
    .bind(crate::domain::event::STATUS)
    .bind(crate::domain::event::CHANNEL_SWITCH)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EventFact {
                id: r.try_get("id")?,
                conversation_id: r.try_get("conversation_id")?,
                kind: r.try_get("kind")?,
                data: r.try_get("data")?,
                actor: r.try_get("actor_user_id")?,
                at: r.try_get("created_at")?,
            })
        })
        .collect()
}
