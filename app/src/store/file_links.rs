//! Expiring, unguessable links to attachments, for channels that cannot carry files: the
//! message text says "File: report.pdf https://…/files/<token>". Only the SHA-256 of each
//! token is stored (hashed by the server, which holds the hashing code).

use super::{Db, Result};
use sqlx::{AnyConnection, Row};

/// How long a link works: 7 days.
pub const LINK_TTL_MS: i64 = 7 * 24 * 3_600_000;

/// Links for the files of one outbound message: the public address they start with and one
/// fresh token (with its SHA-256 in hex) per file, in the files' order.
#[derive(Clone, Debug)]
pub struct FileLinks {
    /// `CONVERGENCE_PUBLIC_URL` without a trailing slash.
    pub base_url: String,
    pub tokens: Vec<LinkToken>,
}

#[derive(Clone)]
pub struct LinkToken {
    /// URL-safe text of 32 random bytes; never stored.
    pub token: String,
    /// Lowercase hex SHA-256 of `token`.
    pub sha256: String,
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(..)")
    }
}

impl FileLinks {
    /// The public address of token `i`.
    pub fn url(&self, i: usize) -> Option<String> {
        self.tokens
            .get(i)
            .map(|t| format!("{}/files/{}", self.base_url.trim_end_matches('/'), t.token))
    }
}

/// Records one link, inside the caller's transaction.
pub async fn create(
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

/// What a token leads to.
pub enum Lookup {
    Found(super::attachments::AttachmentData),
    Expired,
    Unknown,
}

/// The file behind the token whose SHA-256 is `token_sha256`, if the link is still valid.
pub async fn lookup(db: &Db, token_sha256: &str, now: i64) -> Result<Lookup> {
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
    Ok(Lookup::Found(super::attachments::AttachmentData {
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        data: r.try_get("data")?,
    }))
}
