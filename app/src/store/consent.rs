//! Consent records: every change kept with its source, time and who; the newest per
//! (identifier, purpose) is what holds.

use super::{events, now_ms, Db, Result, StoreError};
use crate::domain::consent::{self as rules, source, ConsentStatus, Purpose};
use crate::domain::keywords::SmsKeyword;
use crate::domain::IdentifierKind;
use crate::model::{ConsentChange, ConsentHolds, CustomerConsent, IdentifierConsent};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// The consent that holds, per (identifier, purpose), for one customer's identifiers.
pub type Latest = HashMap<(i64, Purpose), Consent>;

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
    let change = Change {
        granted,
        source,
        detail,
        actor,
        message_id,
        at: now_ms(),
    };
    record_change(conn, identifier_id, purpose, &change).await
}

/// One change as stored, with its own time (an import may name when consent was given).
struct Change<'a> {
    granted: bool,
    source: &'a str,
    detail: Option<&'a str>,
    actor: Option<i64>,
    message_id: Option<i64>,
    at: i64,
}

async fn record_change(
    conn: &mut AnyConnection,
    identifier_id: i64,
    purpose: Purpose,
    c: &Change<'_>,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO consent_events (identifier_id, purpose, granted, source, detail, actor_user_id, message_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(identifier_id)
    .bind(purpose.as_str())
    .bind(c.granted as i64)
    .bind(c.source)
    .bind(c.detail)
    .bind(c.actor)
    .bind(c.message_id)
    .bind(c.at)
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
pub async fn latest_for_customer(db: &Db, customer_id: i64) -> Result<Latest> {
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

/// Most changes listed in a customer's consent histories (the newest are kept).
pub const HISTORY_LIMIT: i64 = 200;

fn holds(status_of: Option<&Consent>, history: &[ConsentChange], purpose: Purpose) -> ConsentHolds {
    ConsentHolds {
        status: ConsentStatus::of(status_of.map(|c| c.granted)),
        // The change that holds, when the listed history reaches it.
        since: status_of.and_then(|c| {
            history
                .iter()
                .find(|h| h.purpose == purpose && h.granted == c.granted && h.at == c.at)
                .cloned()
        }),
    }
}

/// Every identifier of `customer_id` with the consent that holds for each purpose and its
/// changes, newest first (at most [`HISTORY_LIMIT`] in all). Three queries.
pub async fn customer_consent(db: &Db, customer_id: i64) -> Result<CustomerConsent> {
    let latest = latest_for_customer(db, customer_id).await?;
    customer_consent_from(db, customer_id, &latest).await
}

/// [`customer_consent`] with the consent that holds already read ([`latest_for_customer`]).
pub async fn customer_consent_from(
    db: &Db,
    customer_id: i64,
    latest: &Latest,
) -> Result<CustomerConsent> {
    let idents = sqlx::query(
        "SELECT i.id, i.kind, i.value FROM customers c JOIN identifiers i ON i.customer_id = c.id \
         WHERE c.id = $1 ORDER BY i.id",
    )
    .bind(customer_id)
    .fetch_all(&db.read)
    .await?;
    if idents.is_empty() {
        let exists = sqlx::query("SELECT id FROM customers WHERE id = $1")
            .bind(customer_id)
            .fetch_optional(&db.read)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
    }
    let rows = sqlx::query(
        "SELECT e.id, e.identifier_id, e.purpose, e.granted, e.source, e.detail, e.created_at, u.name AS actor_name \
         FROM consent_events e JOIN identifiers i ON i.id = e.identifier_id \
         LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE i.customer_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(HISTORY_LIMIT + 1)
    .fetch_all(&db.read)
    .await?;
    let truncated = rows.len() as i64 > HISTORY_LIMIT;
    let mut history: HashMap<i64, Vec<ConsentChange>> = HashMap::new();
    for r in rows.iter().take(HISTORY_LIMIT as usize) {
        let Some(purpose) = Purpose::parse(&r.try_get::<String, _>("purpose")?) else {
            continue;
        };
        let src: String = r.try_get("source")?;
        let detail: Option<String> = r.try_get("detail")?;
        let who: Option<String> = r.try_get("actor_name")?;
        history
            .entry(r.try_get("identifier_id")?)
            .or_default()
            .push(ConsentChange {
                id: r.try_get("id")?,
                purpose,
                granted: r.try_get::<i64, _>("granted")? != 0,
                how: rules::source_words(&src, detail.as_deref(), who.as_deref()),
                reason: rules::reason(&src, detail.as_deref()).map(str::to_string),
                who,
                at: r.try_get("created_at")?,
            });
    }
    let mut identifiers = Vec::with_capacity(idents.len());
    for r in idents {
        let id: i64 = r.try_get("id")?;
        let kind: String = r.try_get("kind")?;
        let Ok(kind) = IdentifierKind::parse(&kind) else {
            continue;
        };
        let h = history.remove(&id).unwrap_or_default();
        identifiers.push(IdentifierConsent {
            id,
            kind,
            value: r.try_get("value")?,
            support: holds(latest.get(&(id, Purpose::Support)), &h, Purpose::Support),
            marketing: holds(
                latest.get(&(id, Purpose::Marketing)),
                &h,
                Purpose::Marketing,
            ),
            history: h,
        });
    }
    Ok(CustomerConsent {
        customer_id,
        identifiers,
        truncated,
    })
}

/// The customer's identifier `identifier_id`: (customer, value, the customer's conversation).
async fn identifier_context(
    conn: &mut AnyConnection,
    identifier_id: i64,
) -> Result<(i64, String, Option<i64>)> {
    let r = sqlx::query(
        "SELECT i.customer_id, i.value, c.id AS conversation_id FROM identifiers i \
         LEFT JOIN conversations c ON c.customer_id = i.customer_id WHERE i.id = $1",
    )
    .bind(identifier_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok((
        r.try_get("customer_id")?,
        r.try_get("value")?,
        r.try_get("conversation_id")?,
    ))
}

async fn other_identifiers(
    conn: &mut AnyConnection,
    customer_id: i64,
    except: i64,
) -> Result<Vec<i64>> {
    let rows = sqlx::query("SELECT id FROM identifiers WHERE customer_id = $1 AND id <> $2")
        .bind(customer_id)
        .bind(except)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<i64, _>("id")?))
        .collect()
}

/// A change a staff member records in the customer panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentChange {
    pub identifier_id: i64,
    pub purpose: Purpose,
    pub granted: bool,
    pub reason: String,
    /// A marketing opt-out that applies to every identifier of the customer.
    pub all_channels: bool,
}

/// Records `change` (source agent, with its reason and the actor) and a timeline event.
/// Returns the customer's conversation, if there is one, for the live update.
pub async fn record_by_agent(
    db: &Db,
    change: &AgentChange,
    actor_id: i64,
    actor_name: &str,
) -> Result<Option<i64>> {
    let reason = rules::check_agent_change(
        change.purpose,
        change.granted,
        &change.reason,
        change.all_channels,
    )
    .map_err(StoreError::Invalid)?;
    let mut tx = db.write.begin().await?;
    let (customer_id, value, conversation) =
        identifier_context(&mut tx, change.identifier_id).await?;
    let c = Change {
        granted: change.granted,
        source: source::AGENT,
        detail: Some(&reason),
        actor: Some(actor_id),
        message_id: None,
        at: now_ms(),
    };
    record_change(&mut tx, change.identifier_id, change.purpose, &c).await?;
    if change.all_channels {
        for other in other_identifiers(&mut tx, customer_id, change.identifier_id).await? {
            record_change(&mut tx, other, Purpose::Marketing, &c).await?;
        }
    }
    let what = match (change.purpose, change.granted) {
        (Purpose::Support, true) => "may receive answers",
        (Purpose::Support, false) => "opted out of all messages",
        (Purpose::Marketing, true) => "agreed to marketing",
        (Purpose::Marketing, false) => "opted out of marketing",
    };
    let scope = if change.all_channels {
        " on every channel"
    } else {
        ""
    };
    let text = format!("{actor_name} recorded that {value} {what}{scope} ({reason})");
    if let Some(conv) = conversation {
        events::add(
            &mut tx,
            conv,
            events::CONSENT,
            Some(actor_id),
            Some(&text),
            serde_json::json!({
                "identifier_id": change.identifier_id,
                "purpose": change.purpose.as_str(),
                "granted": change.granted,
                "source": source::AGENT,
                "all_channels": change.all_channels,
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(conversation)
}

/// What following an email's unsubscribe link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The identifier's value (the email address), for the confirmation page.
    pub value: String,
    /// The customer's conversation, for the live update.
    pub conversation_id: Option<i64>,
    /// False when it was already opted out (a second click, a mail client's retry).
    pub changed: bool,
}

/// The identifier's value, if it exists (the unsubscribe page names the address).
pub async fn identifier_value(db: &Db, identifier_id: i64) -> Result<Option<String>> {
    let r = sqlx::query("SELECT value FROM identifiers WHERE id = $1")
        .bind(identifier_id)
        .fetch_optional(&db.read)
        .await?;
    r.map(|r| Ok(r.try_get("value")?)).transpose()
}

/// The customer followed an unsubscribe link: marketing ends on that identifier (and, when
/// they asked for `all` email, support answers too). Purposes already opted out are left as
/// they are, so repeated posts add nothing. Adds a timeline event when something changed.
pub async fn unsubscribe(db: &Db, identifier_id: i64, all: bool) -> Result<Unsubscribed> {
    let mut tx = db.write.begin().await?;
    let (_, value, conversation) = identifier_context(&mut tx, identifier_id).await?;
    let purposes: &[Purpose] = if all {
        &[Purpose::Marketing, Purpose::Support]
    } else {
        &[Purpose::Marketing]
    };
    let detail = if all {
        "unsubscribe link, all email"
    } else {
        "unsubscribe link"
    };
    let mut changed = false;
    for &p in purposes {
        let current = sqlx::query(
            "SELECT granted FROM consent_events WHERE identifier_id = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(identifier_id)
        .bind(p.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get::<i64, _>("granted"))
        .transpose()?;
        if current == Some(0) {
            continue;
        }
        let c = Change {
            granted: false,
            source: source::UNSUBSCRIBE,
            detail: Some(detail),
            actor: None,
            message_id: None,
            at: now_ms(),
        };
        record_change(&mut tx, identifier_id, p, &c).await?;
        changed = true;
    }
    if changed {
        if let Some(conv) = conversation {
            let text = if all {
                format!("{value} unsubscribed from all email (unsubscribe link)")
            } else {
                format!("{value} unsubscribed from marketing email (unsubscribe link)")
            };
            events::add(
                &mut tx,
                conv,
                events::CONSENT,
                None,
                Some(&text),
                serde_json::json!({ "identifier_id": identifier_id, "source": source::UNSUBSCRIBE, "all": all }),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(Unsubscribed {
        value,
        conversation_id: conversation,
        changed,
    })
}

/// What importing one line did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    Recorded,
    /// The same line was imported before: nothing written.
    AlreadyImported,
    /// A later change holds (its words); the line's older consent is not applied.
    NewerHolds(String),
    /// No customer has this identifier.
    UnknownIdentifier,
}

/// One line of a consent import: `kind:value` (normalised) for `purpose`, given or refused
/// `at` (unix ms; None: now). Idempotent: the same line imported twice is recorded once.
pub async fn import(
    db: &Db,
    kind: IdentifierKind,
    value: &str,
    purpose: Purpose,
    granted: bool,
    detail: Option<&str>,
    at: Option<i64>,
) -> Result<Imported> {
    let mut tx = db.write.begin().await?;
    let Some(id) = sqlx::query("SELECT id FROM identifiers WHERE kind = $1 AND value = $2")
        .bind(kind.as_str())
        .bind(value)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get::<i64, _>("id"))
        .transpose()?
    else {
        return Ok(Imported::UnknownIdentifier);
    };
    // The same line imported before (same answer, detail and, when given, time)?
    const SAME: &str = "SELECT id FROM consent_events WHERE identifier_id = $1 AND purpose = $2 AND source = $3 \
                        AND granted = $4 AND COALESCE(detail, '') = $5 AND ($6 = 0 OR created_at = $7) LIMIT 1";
    let same = sqlx::query(SAME)
        .bind(id)
        .bind(purpose.as_str())
        .bind(source::IMPORT)
        .bind(granted as i64)
        .bind(detail.unwrap_or(""))
        .bind(at.is_some() as i64)
        .bind(at.unwrap_or(0))
        .fetch_optional(&mut *tx)
        .await?;
    if same.is_some() {
        return Ok(Imported::AlreadyImported);
    }
    if let Some(t) = at {
        let newer = sqlx::query(
            "SELECT granted, source, detail, created_at FROM consent_events \
             WHERE identifier_id = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(id)
        .bind(purpose.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = newer {
            let when: i64 = r.try_get("created_at")?;
            if when > t {
                let src: String = r.try_get("source")?;
                let d: Option<String> = r.try_get("detail")?;
                let state = if r.try_get::<i64, _>("granted")? != 0 {
                    "granted"
                } else {
                    "opted out"
                };
                return Ok(Imported::NewerHolds(format!(
                    "{state} on {} UTC ({})",
                    crate::domain::text::format_time(when),
                    rules::source_words(&src, d.as_deref(), None)
                )));
            }
        }
    }
    let c = Change {
        granted,
        source: source::IMPORT,
        detail,
        actor: None,
        message_id: None,
        at: at.unwrap_or_else(now_ms),
    };
    record_change(&mut tx, id, purpose, &c).await?;
    tx.commit().await?;
    Ok(Imported::Recorded)
}
