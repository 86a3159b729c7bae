//! Consent records: every change kept with its source, time and who; the newest per
//! (identifier, purpose) is what holds.

use super::{events, now_ms, Db, Result};
use crate::domain::consent::{source, Purpose};
use crate::domain::keywords::SmsKeyword;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// The consent that holds for one identifier and purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    pub granted: bool,
    pub source: String,
    pub detail: Option<String>,
    pub at: i64,
}

/// Appends one change, inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &mut AnyConnection,
    identifier_id: i64,
    purpose: Purpose,
    granted: bool,
    source: &str,
    detail: Option<&str>,
    actor: Option<i64>,
    message_id: Option<i64>,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO consent_events (identifier_id, purpose, granted, source, detail, actor_user_id, message_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(identifier_id)
    .bind(purpose.as_str())
    .bind(granted as i64)
    .bind(source)
    .bind(detail)
    .bind(actor)
    .bind(message_id)
    .bind(now_ms())
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get("id")?)
}

/// The newest consent of `identifier_id` for `purpose`, if any was ever recorded.
pub async fn current(db: &Db, identifier_id: i64, purpose: Purpose) -> Result<Option<Consent>> {
    let r = sqlx::query(
        "SELECT granted, source, detail, created_at FROM consent_events \
         WHERE identifier_id = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(identifier_id)
    .bind(purpose.as_str())
    .fetch_optional(&db.read)
    .await?;
    r.map(|r| {
        Ok(Consent {
            granted: r.try_get::<i64, _>("granted")? != 0,
            source: r.try_get("source")?,
            detail: r.try_get("detail")?,
            at: r.try_get("created_at")?,
        })
    })
    .transpose()
}

/// Applies an SMS keyword the customer texted from `identifier_id` (message `message_id`):
/// STOP-like words end support and marketing on that number (as carriers do), STOPALL also
/// ends marketing on every identifier of the customer, START-like words restore that number.
/// Adds a timeline event. Returns the sentence shown, or None for HELP (answered, not a
/// consent change).
pub async fn apply_sms_keyword(
    db: &Db,
    conversation_id: i64,
    identifier_id: i64,
    keyword: SmsKeyword,
    word: &str,
    message_id: i64,
) -> Result<String> {
    let detail = format!("texted {}", word.trim().to_uppercase());
    let mut tx = db.write.begin().await?;
    match keyword {
        SmsKeyword::OptOut { all } => {
            for p in Purpose::ALL {
                record(
                    &mut tx,
                    identifier_id,
                    p,
                    false,
                    source::KEYWORD,
                    Some(&detail),
                    None,
                    Some(message_id),
                )
                .await?;
            }
            if all {
                let others = sqlx::query(
                    "SELECT id FROM identifiers WHERE customer_id = (SELECT customer_id FROM identifiers WHERE id = $1) AND id <> $1",
                )
                .bind(identifier_id)
                .fetch_all(&mut *tx)
                .await?;
                for o in others {
                    let id: i64 = o.try_get("id")?;
                    record(
                        &mut tx,
                        id,
                        Purpose::Marketing,
                        false,
                        source::KEYWORD,
                        Some(&detail),
                        None,
                        Some(message_id),
                    )
                    .await?;
                }
            }
        }
        SmsKeyword::OptIn => {
            for p in Purpose::ALL {
                record(
                    &mut tx,
                    identifier_id,
                    p,
                    true,
                    source::KEYWORD,
                    Some(&detail),
                    None,
                    Some(message_id),
                )
                .await?;
            }
        }
        SmsKeyword::Help => {}
    }
    let text = keyword.describe(word);
    events::add(
        &mut tx,
        conversation_id,
        events::CONSENT,
        None,
        Some(&text),
        serde_json::json!({ "identifier_id": identifier_id, "message_id": message_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(text)
}

/// Records that the provider refused a send because the recipient opted out.
pub async fn provider_opt_out(
    db: &Db,
    identifier_id: i64,
    words: &str,
    message_id: i64,
) -> Result<()> {
    let mut tx = db.write.begin().await?;
    record(
        &mut tx,
        identifier_id,
        Purpose::Support,
        false,
        source::PROVIDER,
        Some(words),
        None,
        Some(message_id),
    )
    .await?;
    record(
        &mut tx,
        identifier_id,
        Purpose::Marketing,
        false,
        source::PROVIDER,
        Some(words),
        None,
        Some(message_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The newest consent of every identifier of `customer_id`, for each purpose, in one query
/// (the customer panel and the composer's reply options read it).
pub async fn latest_for_customer(
    db: &Db,
    customer_id: i64,
) -> Result<HashMap<(i64, Purpose), Consent>> {
    let rows = sqlx::query(
        "SELECT e.identifier_id, e.purpose, e.granted, e.source, e.detail, e.created_at FROM consent_events e \
         JOIN identifiers i ON i.id = e.identifier_id WHERE i.customer_id = $1 ORDER BY e.id",
    )
    .bind(customer_id)
    .fetch_all(&db.read)
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        let purpose: String = r.try_get("purpose")?;
        let Some(purpose) = Purpose::parse(&purpose) else {
            continue;
        };
        // Rows come oldest first: the newest one is left in the map.
        out.insert(
            (r.try_get("identifier_id")?, purpose),
            Consent {
                granted: r.try_get::<i64, _>("granted")? != 0,
                source: r.try_get("source")?,
                detail: r.try_get("detail")?,
                at: r.try_get("created_at")?,
            },
        );
    }
    Ok(out)
}

/// One line for the customer panel about an identifier's consent, when it is not the
/// default (opted out of something, or opted back in).
pub fn summary(support: Option<&Consent>, marketing: Option<&Consent>) -> Option<String> {
    let line = |what: &str, c: &Consent| {
        let how = c
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        format!(
            "{what}{how} · {} UTC",
            crate::domain::text::format_time(c.at)
        )
    };
    match (support, marketing) {
        (Some(s), _) if !s.granted => Some(line("Opted out", s)),
        (_, Some(m)) if !m.granted => Some(line("No marketing", m)),
        (Some(s), _) if s.source == source::KEYWORD => Some(line("Opted back in", s)),
        _ => None,
    }
}
