//! Files of messages (`attachments`) and the expiring links to them (`file_links`) that
//! channels without files carry instead: "File: report.pdf https://…/files/<token>". Only
//! the SHA-256 of each link's token is stored (hashed by the server, which holds the code).

use super::{Db, Result};
use sqlx::{AnyConnection, Row};

/// How long a link works: 7 days.
pub const LINK_TTL_MS: i64 = 7 * 24 * 3_600_000;

/// Server-only: the bytes of one attachment.
#[derive(sqlx::FromRow)]
pub struct AttachmentData {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

pub async fn get(db: &Db, id: i64) -> Result<Option<AttachmentData>> {
    Ok(
        sqlx::query_as("SELECT filename, content_type, data FROM attachments WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.read)
            .await?,
    )
}

/// `(attachment id, Content-ID)` of a message's attachments that have a Content-ID.
pub async fn content_ids(db: &Db, message_id: i64) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, content_id FROM attachments WHERE message_id = $1 AND content_id IS NOT NULL ORDER BY id",
    )
    .bind(message_id)
    .fetch_all(&db.read)
    .await?)
}

/// Stores one file of message `message_id`, inside the caller's transaction; returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    message_id: i64,
    filename: &str,
    content_type: &str,
    content_id: Option<&str>,
    data: &[u8],
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO attachments (message_id, filename, content_type, size_bytes, content_id, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(message_id)
    .bind(filename)
    .bind(content_type)
    .bind(data.len() as i64)
    .bind(content_id)
    .bind(data.to_vec())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?)
}

/// Records one link to attachment `attachment_id`, inside the caller's transaction.
pub async fn create_link(
    conn: &mut AnyConnection,
    token_sha256: &str,
    attachment_id: i64,
    message_id: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO file_links (token_sha256, attachment_id, message_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_sha256)
    .bind(attachment_id)
    .bind(message_id)
    .bind(now + LINK_TTL_MS)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a link's token leads to.
pub enum Lookup {
    Found(AttachmentData),
    Expired,
    Unknown,
}

/// The file behind the link whose token's SHA-256 is `token_sha256`, if it is still valid.
pub async fn lookup_link(db: &Db, token_sha256: &str, now: i64) -> Result<Lookup> {
    let r = sqlx::query(
        "SELECT l.expires_at, a.filename, a.content_type, a.data FROM file_links l \
         JOIN attachments a ON a.id = l.attachment_id WHERE l.token_sha256 = $1",
    )
    .bind(token_sha256)
    .fetch_optional(&db.read)
    .await?;
    let Some(r) = r else {
        return Ok(Lookup::Unknown);
    };
    if r.try_get::<i64, _>("expires_at")? <= now {
        return Ok(Lookup::Expired);
    }
    Ok(Lookup::Found(
        <AttachmentData as sqlx::FromRow<_>>::from_row(&r)?,
    ))
}
