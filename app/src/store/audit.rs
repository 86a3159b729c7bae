//! The audit trail (`audit_log`): rows are added, read and exported; nothing here (or
//! anywhere) updates or deletes one.

use super::{now_ms, Db, Result};
use crate::domain::audit::AuditAction;
use crate::model::AuditEntry;
use sqlx::AnyConnection;

/// One entry to add.
#[derive(Clone, Debug)]
pub struct NewEntry<'a> {
    pub actor_id: Option<i64>,
    /// Who, in words (`Ana Admin <ana@example.com>`, `system`, `someone as x@y`).
    pub actor: &'a str,
    pub action: AuditAction,
    pub target: &'a str,
    pub detail: &'a str,
    pub ip: Option<&'a str>,
}

/// Longest text kept per field (a typed email on a refused sign-in is the caller's words).
const FIELD_CHARS: usize = 500;

fn bounded(s: &str) -> String {
    s.chars().take(FIELD_CHARS).collect()
}

/// The insert of `e`, bound, for a pool or a transaction.
fn insert<'q>(e: &NewEntry<'_>) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor, action, target, detail, ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now_ms())
    .bind(e.actor_id)
    .bind(bounded(e.actor))
    .bind(e.action.as_str())
    .bind(bounded(e.target))
    .bind(bounded(e.detail))
    .bind(e.ip.map(bounded))
}

pub async fn record(db: &Db, e: &NewEntry<'_>) -> Result<()> {
    insert(e).execute(&db.write).await?;
    Ok(())
}

/// [`record`] inside the caller's transaction (the entry stands or falls with the change).
pub async fn record_in(conn: &mut AnyConnection, e: &NewEntry<'_>) -> Result<()> {
    insert(e).execute(&mut *conn).await?;
    Ok(())
}

/// What the admin filters by; every part optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub action: Option<AuditAction>,
    /// Part of the words of who acted or what was acted on (a user's name or email), any case.
    pub actor: Option<String>,
    pub since: Option<i64>,
    /// Entries older than this id (the next page).
    pub before: Option<i64>,
}

/// `s` as a LIKE pattern matching it anywhere, with `%`, `_` and `\` taken literally.
fn contains_pattern(s: &str) -> String {
    let mut p = String::from("%");
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Up to `limit` entries matching `f`, newest first.
pub async fn list(db: &Db, f: &Filter, limit: i64) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as::<_, AuditRow>(
        "SELECT id, at, actor, action, target, detail, ip FROM audit_log \
         WHERE ($1 = '' OR action = $1) \
         AND ($2 = '' OR LOWER(actor) LIKE $2 ESCAPE '\\' OR LOWER(target) LIKE $2 ESCAPE '\\') \
         AND at >= $3 AND id < $4 ORDER BY id DESC LIMIT $5",
    )
    .bind(f.action.map_or("", AuditAction::as_str))
    .bind(
        f.actor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(contains_pattern)
            .unwrap_or_default(),
    )
    .bind(f.since.unwrap_or(0))
    .bind(f.before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.read)
    .await?
    .into_iter()
    .map(AuditRow::into_entry)
    .collect())
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    detail: String,
    ip: Option<String>,
}

impl AuditRow {
    fn into_entry(self) -> AuditEntry {
        AuditEntry {
            id: self.id,
            at: self.at,
            actor: self.actor,
            action: self.action,
            target: self.target,
            detail: self.detail,
            ip: self.ip,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(super::contains_pattern("Ana"), "%ana%");
        assert_eq!(super::contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
