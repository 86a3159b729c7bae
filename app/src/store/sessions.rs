//! tower-sessions store on the shared database (both backends).

use super::{now_ms, Db};
use async_trait::async_trait;
use sqlx::Row;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// The session key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "user_id";

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn user_of(record: &Record) -> Option<i64> {
    record.data.get(USER_ID_KEY).and_then(|v| v.as_i64())
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let data = serde_json::to_string(&record.data).map_err(backend)?;
            let res = sqlx::query(
                "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(user_of(record))
            .bind(data)
            .bind(expiry_ms(record))
            .execute(&self.db.write)
            .await
            .map_err(backend)?;
            if res.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(user_of(record))
        .bind(data)
        .bind(expiry_ms(record))
        .execute(&self.db.write)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row =
            sqlx::query("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id.to_string())
                .bind(now_ms())
                .fetch_optional(&self.db.read)
                .await
                .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get("data").map_err(backend)?;
        let expires: i64 = row.try_get("expires_at").map_err(backend)?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(expires as i128 * 1_000_000)
                .map_err(backend)?;
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.db.write)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(&self.db.write)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// Whether any staff member has a session open at `now` (the website chat says "we are
/// away" when nobody does).
pub async fn anyone_signed_in(db: &super::Db, now: i64) -> super::Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM (SELECT 1 FROM sessions WHERE user_id IS NOT NULL AND expires_at > $1 LIMIT 1) t",
    )
    .bind(now)
    .fetch_one(&db.read)
    .await?;
    Ok(sqlx::Row::try_get::<i64, _>(&row, 0)? > 0)
}

/// The session keys that describe a sign-in, set when it happens (shown to the user and admins).
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";
pub const SIGNED_IN_IP_KEY: &str = "signed_in_ip";
pub const SIGNED_IN_AGENT_KEY: &str = "signed_in_agent";

/// One open session of a user, as stored: its id (a secret: never sent anywhere), what the
/// sign-in recorded, and when it expires.
#[derive(Clone, Debug)]
pub struct OpenSession {
    pub id: String,
    pub user_id: i64,
    pub signed_in_at: Option<i64>,
    pub ip: Option<String>,
    pub agent: Option<String>,
    pub expires_at: i64,
}

/// The open sessions of `users` (every user when empty), newest sign-in first.
pub async fn open_of(db: &super::Db, users: &[i64], now: i64) -> super::Result<Vec<OpenSession>> {
    let filter = if users.is_empty() {
        String::new()
    } else {
        format!(" AND user_id IN ({})", super::id_list(users))
    };
    let rows = sqlx::query(&format!(
        "SELECT id, user_id, data, expires_at FROM sessions \
         WHERE user_id IS NOT NULL AND expires_at > $1{filter}"
    ))
    .bind(now)
    .fetch_all(&db.read)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let data: String = r.try_get("data")?;
        let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        out.push(OpenSession {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            signed_in_at: v.get(SIGNED_IN_AT_KEY).and_then(|x| x.as_i64()),
            ip: text(SIGNED_IN_IP_KEY),
            agent: text(SIGNED_IN_AGENT_KEY),
            expires_at: r.try_get("expires_at")?,
        });
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.signed_in_at.unwrap_or(0)));
    Ok(out)
}

/// Ends every session of `user_id` but `keep` (the caller's own, when it stays signed in).
/// Answers how many ended.
pub async fn end_for_user(db: &super::Db, user_id: i64, keep: Option<&str>) -> super::Result<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(&db.write)
        .await?;
    Ok(r.rows_affected())
}

/// Ends one session of `user_id`. Answers whether it was open.
pub async fn end_one(db: &super::Db, user_id: i64, id: &str) -> super::Result<bool> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(r.rows_affected() == 1)
}
