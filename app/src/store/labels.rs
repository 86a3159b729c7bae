//! Labels (`labels`, `conversation_labels`): the admin's list and the labels on conversations.

use super::{now_ms, Db, Result, StoreError};
use crate::model::Label;
use sqlx::{AnyConnection, Row};

fn label_of(r: &sqlx::any::AnyRow) -> Result<Label> {
    Ok(Label {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        colour: r.try_get("colour")?,
    })
}

/// Every label, by name.
pub async fn all(db: &Db) -> Result<Vec<Label>> {
    let rows = sqlx::query("SELECT id, name, colour FROM labels ORDER BY name_key")
        .fetch_all(&db.read)
        .await?;
    rows.iter().map(label_of).collect()
}

/// The label called `name` (any case).
pub async fn by_name(db: &Db, key: &str) -> Result<Option<Label>> {
    let row = sqlx::query("SELECT id, name, colour FROM labels WHERE name_key = $1")
        .bind(key)
        .fetch_optional(&db.read)
        .await?;
    row.as_ref().map(label_of).transpose()
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Label> {
    let row = sqlx::query("SELECT id, name, colour FROM labels WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    label_of(&row)
}

/// Creates a label; a name already taken (any case) is a conflict, in words.
pub async fn create(db: &Db, name: &str, key: &str, colour: &str) -> Result<Label> {
    let row = sqlx::query(
        "INSERT INTO labels (name, name_key, colour, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(key)
    .bind(colour)
    .bind(now_ms())
    .fetch_one(&db.write)
    .await
    .map_err(|e| super::conflict(e, &format!("A label called {name:?} exists already.")))?;
    Ok(Label {
        id: row.try_get("id")?,
        name: name.into(),
        colour: colour.into(),
    })
}

pub async fn update(db: &Db, id: i64, name: &str, key: &str, colour: &str) -> Result<()> {
    let r = sqlx::query("UPDATE labels SET name = $1, name_key = $2, colour = $3 WHERE id = $4")
        .bind(name)
        .bind(key)
        .bind(colour)
        .bind(id)
        .execute(&db.write)
        .await
        .map_err(|e| super::conflict(e, &format!("A label called {name:?} exists already.")))?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a label and takes it off every conversation.
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM conversation_labels WHERE label_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let r = sqlx::query("DELETE FROM labels WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Puts a label on a conversation; false when it was there already.
pub async fn attach(
    conn: &mut AnyConnection,
    conversation_id: i64,
    label_id: i64,
    by: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO conversation_labels (conversation_id, label_id, added_by, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_id, label_id) DO NOTHING",
    )
    .bind(conversation_id)
    .bind(label_id)
    .bind(by)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Takes a label off a conversation; false when it was not there.
pub async fn detach(conn: &mut AnyConnection, conversation_id: i64, label_id: i64) -> Result<bool> {
    let r =
        sqlx::query("DELETE FROM conversation_labels WHERE conversation_id = $1 AND label_id = $2")
            .bind(conversation_id)
            .bind(label_id)
            .execute(&mut *conn)
            .await?;
    Ok(r.rows_affected() > 0)
}

/// The labels of each of `conversations`: (conversation id, label), by name.
pub async fn of_conversations(db: &Db, conversations: &[i64]) -> Result<Vec<(i64, Label)>> {
    if conversations.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::id_list(conversations);
    let rows = sqlx::query(&format!(
        "SELECT cl.conversation_id, l.id, l.name, l.colour FROM conversation_labels cl \
         JOIN labels l ON l.id = cl.label_id WHERE cl.conversation_id IN ({list}) ORDER BY l.name_key"
    ))
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("conversation_id")?, label_of(r)?)))
        .collect()
}

/// Copies every label of conversation `from` to `to` (a merge: the merged conversation keeps
/// its own, for an undo).
pub async fn copy_all(conn: &mut AnyConnection, from: i64, to: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversation_labels (conversation_id, label_id, added_by, created_at) \
         SELECT $1, label_id, added_by, created_at FROM conversation_labels WHERE conversation_id = $2 \
         ON CONFLICT (conversation_id, label_id) DO NOTHING",
    )
    .bind(to)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
