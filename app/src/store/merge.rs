//! Reversible merges of two customers.
//!
//! A merge deletes nothing. The merged customer keeps its row, with `merged_into_id` naming
//! the survivor, and keeps its conversation row (status, assignee, snooze untouched; empty while
//! merged). Its identifiers, messages and events move to the survivor and its conversation, and
//! `merge_moves` lists each moved id. Consent follows by itself: it is kept per identifier.
//!
//! Undoing moves back the listed identifiers and events, the listed messages, and every
//! message that came or went through one of the merged customer's identifiers after the merge.
//! The survivor keeps what was its own and what happened on it meanwhile (notes, status
//! changes). Both conversations' summaries are computed again from their messages.

use super::{conversations, events, now_ms, Db, Result, StoreError};
use crate::model::{CustomerRef, MergeView};
use sqlx::{AnyConnection, Row};

/// Timeline event kind of a merge, on the survivor's timeline; `body` says it in words.
pub const MERGE: &str = "merge";
/// Timeline event kind of an undone merge, on the survivor's timeline.
pub const UNMERGE: &str = "unmerge";

/// Longest chain of merges followed when looking for the customer who holds everything now.
const MAX_CHAIN: usize = 64;

/// What a merge or its undo touched, for live updates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeOutcome {
    pub merge_id: i64,
    pub survivor_id: i64,
    pub merged_id: i64,
    pub survivor_conversation: i64,
    /// `None` when the undo removed a conversation the merge had made.
    pub merged_conversation: Option<i64>,
}

struct CustomerState {
    name: String,
    merged_into: Option<i64>,
}

async fn state(conn: &mut AnyConnection, id: i64) -> Result<CustomerState> {
    let r = sqlx::query("SELECT name, merged_into_id FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(CustomerState {
        name: r.try_get("name")?,
        merged_into: r.try_get("merged_into_id")?,
    })
}

/// The conversation of `customer_id`, if it has one.
pub async fn conversation_of(conn: &mut AnyConnection, customer_id: i64) -> Result<Option<i64>> {
    let r = sqlx::query("SELECT id FROM conversations WHERE customer_id = $1")
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?;
    r.map(|r| r.try_get("id")).transpose().map_err(Into::into)
}

/// The customer who holds `customer_id`'s identifiers and messages now: itself, or the end of
/// its chain of merges.
pub async fn current_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<i64> {
    let mut id = customer_id;
    for _ in 0..MAX_CHAIN {
        match sqlx::query("SELECT merged_into_id FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        {
            Some(r) => match r.try_get::<Option<i64>, _>("merged_into_id")? {
                Some(next) => id = next,
                None => return Ok(id),
            },
            None => return Ok(id),
        }
    }
    Ok(id)
}

async fn user_name(conn: &mut AnyConnection, id: i64) -> Result<String> {
    Ok(sqlx::query("SELECT name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get::<String, _>("name"))
        .transpose()?
        .unwrap_or_else(|| "A staff member".into()))
}

/// Merges `merged` into `survivor`, as `actor`. Merging a customer already merged into this
/// survivor answers that merge again (a form sent twice merges once).
pub async fn merge(db: &Db, survivor: i64, merged: i64, actor: i64) -> Result<MergeOutcome> {
    if survivor == merged {
        return Err(StoreError::Invalid(
            "A customer cannot be merged into itself.".into(),
        ));
    }
    let mut tx = db.write.begin().await?;
    // Take both rows' write locks (PostgreSQL) before reading them.
    sqlx::query("UPDATE customers SET updated_at = updated_at WHERE id = $1 OR id = $2")
        .bind(survivor)
        .bind(merged)
        .execute(&mut *tx)
        .await?;
    let s = state(&mut tx, survivor).await?;
    let m = state(&mut tx, merged).await?;
    if m.merged_into == Some(survivor) {
        let r = sqlx::query(
            "SELECT id FROM merges WHERE merged_id = $1 AND survivor_id = $2 AND undone_at IS NULL \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(merged)
        .bind(survivor)
        .fetch_one(&mut *tx)
        .await?;
        let sc = conversation_of(&mut tx, survivor)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mc = conversation_of(&mut tx, merged).await?;
        tx.commit().await?;
        return Ok(MergeOutcome {
            merge_id: r.try_get("id")?,
            survivor_id: survivor,
            merged_id: merged,
            survivor_conversation: sc,
            merged_conversation: mc,
        });
    }
    if let Some(t) = s.merged_into {
        let t = state(&mut tx, t).await?;
        return Err(StoreError::Invalid(format!(
            "{} was merged into {}: merge into {} instead.",
            s.name, t.name, t.name
        )));
    }
    if let Some(t) = m.merged_into {
        let t = state(&mut tx, t).await?;
        return Err(StoreError::Invalid(format!(
            "{} is already merged into {}.",
            m.name, t.name
        )));
    }
    let at = now_ms();
    let sc = conversations::ensure_for_customer(&mut tx, survivor, at).await?;
    let (mc, created) = match conversation_of(&mut tx, merged).await? {
        Some(c) => (c, false),
        None => (
            conversations::ensure_for_customer(&mut tx, merged, at).await?,
            true,
        ),
    };
    let merge_id: i64 = sqlx::query(
        "INSERT INTO merges (survivor_id, merged_id, created_conversation, actor_user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(survivor)
    .bind(merged)
    .bind(created as i64)
    .bind(actor)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let labels: Vec<String> =
        sqlx::query("SELECT label FROM identifiers WHERE customer_id = $1 ORDER BY kind, id")
            .bind(merged)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("label"))
            .collect::<Result<_, _>>()?;
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
        .bind(if kind == "identifier" { merged } else { mc })
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE identifiers SET customer_id = $1 WHERE customer_id = $2")
        .bind(survivor)
        .bind(merged)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE messages SET conversation_id = $1, customer_id = $2 WHERE conversation_id = $3",
    )
    .bind(sc)
    .bind(survivor)
    .bind(mc)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE events SET conversation_id = $1 WHERE conversation_id = $2")
        .bind(sc)
        .bind(mc)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE customers SET merged_into_id = $1 WHERE id = $2")
        .bind(survivor)
        .bind(merged)
        .execute(&mut *tx)
        .await?;
    let who = user_name(&mut tx, actor).await?;
    let idents = if labels.is_empty() {
        String::new()
    } else {
        format!(" with {}", labels.join(", "))
    };
    let body = format!(
        "{who} merged {}{idents} into {}. Their messages, notes and events are in this timeline now; \
         \"Undo merge\" in the customer panel separates them again.",
        m.name, s.name
    );
    let event_id = events::add(
        &mut tx,
        sc,
        MERGE,
        Some(actor),
        Some(&body),
        serde_json::json!({ "merge_id": merge_id, "merged_id": merged, "merged_name": m.name }),
    )
    .await?;
    sqlx::query("UPDATE merges SET event_id = $1 WHERE id = $2")
        .bind(event_id)
        .bind(merge_id)
        .execute(&mut *tx)
        .await?;
    conversations::recompute_summary(&mut tx, sc).await?;
    conversations::recompute_summary(&mut tx, mc).await?;
    tx.commit().await?;
    Ok(MergeOutcome {
        merge_id,
        survivor_id: survivor,
        merged_id: merged,
        survivor_conversation: sc,
        merged_conversation: Some(mc),
    })
}

/// Undoes the merge that merged `merged` into another customer, as `actor`. Refused while the
/// survivor is itself merged into a third customer: that later merge is undone first.
pub async fn unmerge(db: &Db, merged: i64, actor: i64) -> Result<MergeOutcome> {
    let mut tx = db.write.begin().await?;
    sqlx::query("UPDATE customers SET updated_at = updated_at WHERE id = $1")
        .bind(merged)
        .execute(&mut *tx)
        .await?;
    let m = state(&mut tx, merged).await?;
    let Some(survivor) = m.merged_into else {
        return Err(StoreError::Invalid(format!(
            "{} is not merged into another customer.",
            m.name
        )));
    };
    let g = sqlx::query(
        "SELECT id, created_conversation, created_at FROM merges \
         WHERE merged_id = $1 AND survivor_id = $2 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(merged)
    .bind(survivor)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StoreError::Invalid(format!("No merge of {} to undo.", m.name)))?;
    let merge_id: i64 = g.try_get("id")?;
    let merged_at: i64 = g.try_get("created_at")?;
    sqlx::query("UPDATE customers SET updated_at = updated_at WHERE id = $1")
        .bind(survivor)
        .execute(&mut *tx)
        .await?;
    let s = state(&mut tx, survivor).await?;
    if let Some(t) = s.merged_into {
        let t = state(&mut tx, t).await?;
        return Err(StoreError::Invalid(format!(
            "{} was merged into {} after {} was merged into {}: undo the later merge first (in {}'s customer panel).",
            s.name, t.name, m.name, s.name, t.name
        )));
    }
    let sc = conversation_of(&mut tx, survivor)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mc = conversation_of(&mut tx, merged)
        .await?
        .ok_or(StoreError::NotFound)?;
    const MOVED: &str = "SELECT item_id FROM merge_moves WHERE merge_id = $1 AND kind = ";
    sqlx::query(&format!(
        "UPDATE identifiers SET customer_id = $2 WHERE customer_id = $3 AND id IN ({MOVED}'identifier')"
    ))
    .bind(merge_id)
    .bind(merged)
    .bind(survivor)
    .execute(&mut *tx)
    .await?;
    // The customer wrote after the merge: their conversation is open again, as it would be.
    let wrote_since: i64 = sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = $2 AND direction = 'in' AND automatic = 0 \
           AND created_at >= $4 AND identifier_id IN (SELECT id FROM identifiers WHERE customer_id = $3) \
           AND id NOT IN ({MOVED}'message')"
    ))
    .bind(merge_id)
    .bind(sc)
    .bind(merged)
    .bind(merged_at)
    .fetch_one(&mut *tx)
    .await?
    .try_get("n")?;
    sqlx::query(&format!(
        "UPDATE messages SET conversation_id = $2, customer_id = $3 WHERE conversation_id = $4 \
           AND (id IN ({MOVED}'message') OR identifier_id IN (SELECT id FROM identifiers WHERE customer_id = $3))"
    ))
    .bind(merge_id)
    .bind(mc)
    .bind(merged)
    .bind(sc)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "UPDATE events SET conversation_id = $2 WHERE conversation_id = $3 AND id IN ({MOVED}'event')"
    ))
    .bind(merge_id)
    .bind(mc)
    .bind(sc)
    .execute(&mut *tx)
    .await?;
    // Consent changes recorded after the merge for an identifier that goes back (a STOP texted
    // meanwhile) go back with it, like the message that caused them.
    let consent_events = sqlx::query(
        "SELECT id, data FROM events WHERE conversation_id = $1 AND kind = $2 AND created_at >= $3",
    )
    .bind(sc)
    .bind(events::CONSENT)
    .bind(merged_at)
    .fetch_all(&mut *tx)
    .await?;
    let returning: Vec<i64> = sqlx::query("SELECT id FROM identifiers WHERE customer_id = $1")
        .bind(merged)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
    let mut going_back = Vec::new();
    for r in &consent_events {
        let data: String = r.try_get("data")?;
        let about = serde_json::from_str::<serde_json::Value>(&data)
            .ok()
            .and_then(|v| v.get("identifier_id").and_then(|x| x.as_i64()));
        if about.is_some_and(|i| returning.contains(&i)) {
            going_back.push(r.try_get::<i64, _>("id")?.to_string());
        }
    }
    if !going_back.is_empty() {
        // The ids come from our own query, so they are safe to inline.
        sqlx::query(&format!(
            "UPDATE events SET conversation_id = $1 WHERE id IN ({})",
            going_back.join(", ")
        ))
        .bind(mc)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE customers SET merged_into_id = NULL WHERE id = $1")
        .bind(merged)
        .execute(&mut *tx)
        .await?;
    let at = now_ms();
    sqlx::query("UPDATE merges SET undone_at = $1, undone_by = $2 WHERE id = $3")
        .bind(at)
        .bind(actor)
        .bind(merge_id)
        .execute(&mut *tx)
        .await?;
    if wrote_since > 0 {
        sqlx::query("UPDATE conversations SET status = 'open', snoozed_until = NULL WHERE id = $1")
            .bind(mc)
            .execute(&mut *tx)
            .await?;
    }
    conversations::recompute_summary(&mut tx, sc).await?;
    let mut merged_conversation = Some(mc);
    let made_by_merge = g.try_get::<i64, _>("created_conversation")? != 0;
    if made_by_merge && is_empty(&mut tx, mc).await? {
        sqlx::query("DELETE FROM conversation_reads WHERE conversation_id = $1")
            .bind(mc)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM conversations WHERE id = $1")
            .bind(mc)
            .execute(&mut *tx)
            .await?;
        merged_conversation = None;
    } else {
        conversations::recompute_summary(&mut tx, mc).await?;
    }
    let who = user_name(&mut tx, actor).await?;
    let body = format!(
        "{who} undid the merge of {} into {}: {} is a separate customer again, with their identifiers, \
         messages, notes and events.",
        m.name, s.name, m.name
    );
    events::add(
        &mut tx,
        sc,
        UNMERGE,
        Some(actor),
        Some(&body),
        serde_json::json!({ "merge_id": merge_id, "merged_id": merged, "merged_name": m.name }),
    )
    .await?;
    tx.commit().await?;
    Ok(MergeOutcome {
        merge_id,
        survivor_id: survivor,
        merged_id: merged,
        survivor_conversation: sc,
        merged_conversation,
    })
}

async fn is_empty(conn: &mut AnyConnection, conversation_id: i64) -> Result<bool> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM messages WHERE conversation_id = $1) \
              + (SELECT COUNT(*) FROM events WHERE conversation_id = $1) AS n",
    )
    .bind(conversation_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get::<i64, _>("n")? == 0)
}

/// A customer as a link: name and conversation.
pub async fn customer_ref(conn: &mut AnyConnection, id: i64) -> Result<CustomerRef> {
    let r = sqlx::query(
        "SELECT cu.id, cu.name, c.id AS conversation_id FROM customers cu \
         LEFT JOIN conversations c ON c.customer_id = cu.id WHERE cu.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(CustomerRef {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        conversation_id: r.try_get("conversation_id")?,
    })
}

/// Where `customer_id` went, when it is merged: the customer holding everything now.
pub async fn merged_into(db: &Db, customer_id: i64) -> Result<Option<CustomerRef>> {
    let mut conn = db.read.acquire().await?;
    let top = current_customer(&mut conn, customer_id).await?;
    if top == customer_id {
        return Ok(None);
    }
    Ok(Some(customer_ref(&mut conn, top).await?))
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
