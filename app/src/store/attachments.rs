//! Files that came with messages, and the HTML bodies that reference them by Content-ID.

use super::{Db, Result};
use sqlx::Row;

/// Server-only: the bytes of one attachment.
pub struct AttachmentData {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

pub async fn get(db: &Db, id: i64) -> Result<Option<AttachmentData>> {
    let r = sqlx::query("SELECT filename, content_type, data FROM attachments WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.read)
        .await?;
    r.map(|r| {
        Ok(AttachmentData {
            filename: r.try_get("filename")?,
            content_type: r.try_get("content_type")?,
            data: r.try_get("data")?,
        })
    })
    .transpose()
}

/// `(attachment id, Content-ID)` of a message's attachments that have a Content-ID.
pub async fn content_ids(db: &Db, message_id: i64) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT id, content_id FROM attachments WHERE message_id = $1 AND content_id IS NOT NULL ORDER BY id",
    )
    .bind(message_id)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("content_id")?)))
        .collect()
}

/// The sanitised HTML body of a message, if it has one.
pub async fn message_html(db: &Db, message_id: i64) -> Result<Option<String>> {
    let r = sqlx::query("SELECT body_html FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_optional(&db.read)
        .await?;
    Ok(match r {
        Some(r) => r.try_get("body_html")?,
        None => None,
    })
}
