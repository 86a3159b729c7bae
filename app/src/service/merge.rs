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

use super::reports;
use crate::domain::audit::AuditAction;
use crate::domain::event;
use crate::domain::merge::{merged_sentence, unmerged_sentence, SOMEONE};
use crate::store::{
    audit, conversations, customers, events, identifiers, labels, merges, messages, users,
};
use crate::store::{now_ms, Db, Result, StoreError};
use sqlx::AnyConnection;

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

async fn user_name(conn: &mut AnyConnection, id: i64) -> Result<String> {
    Ok(users::name_of(conn, id, false)
        .await?
        .unwrap_or_else(|| SOMEONE.into()))
}

/// Merges `merged` into `survivor`, as `actor`. Merging a customer already merged into this
/// survivor answers that merge again (a form sent twice merges once).
pub async fn merge(db: &Db, survivor: i64, merged: i64, actor: i64) -> Result<MergeOutcome> {
    merge_by(db, survivor, merged, MergeActor::User(actor)).await
}

/// Who merges two customers: a staff member, or the website chat joining a visitor to the
/// customer a verified sign-in names (no user; the words say why).
#[derive(Clone, Copy, Debug)]
pub enum MergeActor<'a> {
    User(i64),
    System(&'a str),
}

/// Merges `merged` into `survivor` as `actor` (see [`merge`]).
pub async fn merge_by(
    db: &Db,
    survivor: i64,
    merged: i64,
    actor: MergeActor<'_>,
) -> Result<MergeOutcome> {
    let user = match actor {
        MergeActor::User(id) => Some(id),
        MergeActor::System(_) => None,
    };
    if survivor == merged {
        return Err(StoreError::Invalid(
            "A customer cannot be merged into itself.".into(),
        ));
    }
    let mut tx = db.write.begin().await?;
    customers::lock(&mut tx, survivor, merged).await?;
    let s = customers::state(&mut tx, survivor).await?;
    let m = customers::state(&mut tx, merged).await?;
    if m.merged_into == Some(survivor) {
        let g = merges::active(&mut tx, merged, survivor)
            .await?
            .ok_or(StoreError::NotFound)?;
        let sc = conversations::of_customer(&mut tx, survivor)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mc = conversations::of_customer(&mut tx, merged).await?;
        tx.commit().await?;
        return Ok(MergeOutcome {
            merge_id: g.id,
            survivor_id: survivor,
            merged_id: merged,
            survivor_conversation: sc,
            merged_conversation: mc,
        });
    }
    if let Some(t) = s.merged_into {
        let t = customers::state(&mut tx, t).await?;
        return Err(StoreError::Invalid(format!(
            "{} was merged into {}: merge into {} instead.",
            s.name, t.name, t.name
        )));
    }
    if let Some(t) = m.merged_into {
        let t = customers::state(&mut tx, t).await?;
        return Err(StoreError::Invalid(format!(
            "{} is already merged into {}.",
            m.name, t.name
        )));
    }
    let at = now_ms();
    let sc = conversations::ensure_for_customer(&mut tx, survivor, at).await?;
    let (mc, created) = match conversations::of_customer(&mut tx, merged).await? {
        Some(c) => (c, false),
        None => (
            conversations::ensure_for_customer(&mut tx, merged, at).await?,
            true,
        ),
    };
    let merge_id = merges::insert(&mut tx, survivor, merged, created, user, at).await?;
    let labels = identifiers::labels_of(&mut tx, merged).await?;
    merges::record_moves(&mut tx, merge_id, merged, mc).await?;
    identifiers::move_all(&mut tx, merged, survivor).await?;
    messages::move_all(&mut tx, mc, sc, survivor).await?;
    events::move_all(&mut tx, mc, sc).await?;
    labels::copy_all(&mut tx, mc, sc).await?;
    customers::set_merged_into(&mut tx, merged, Some(survivor)).await?;
    let who = match actor {
        MergeActor::User(id) => user_name(&mut tx, id).await?,
        MergeActor::System(words) => words.to_string(),
    };
    let body = merged_sentence(&who, &m.name, &labels, &s.name);
    let event_id = events::add(
        &mut tx,
        sc,
        event::MERGE,
        user,
        Some(&body),
        serde_json::json!({ "merge_id": merge_id, "merged_id": merged, "merged_name": m.name }),
    )
    .await?;
    merges::set_event(&mut tx, merge_id, event_id).await?;
    audit::record_in(
        &mut tx,
        &audit::NewEntry {
            actor_id: user,
            actor: &who,
            action: AuditAction::Merge,
            target: &format!(
                "customer {merged} ({}) into customer {survivor} ({})",
                m.name, s.name
            ),
            detail: &body,
            ip: None,
        },
    )
    .await?;
    conversations::recompute_summary(&mut tx, sc).await?;
    conversations::recompute_summary(&mut tx, mc).await?;
    // Both histories changed: their episodes are computed again from the start.
    reports::mark(&mut tx, sc, 0).await?;
    reports::mark(&mut tx, mc, 0).await?;
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
    customers::lock(&mut tx, merged, merged).await?;
    let m = customers::state(&mut tx, merged).await?;
    let Some(survivor) = m.merged_into else {
        return Err(StoreError::Invalid(format!(
            "{} is not merged into another customer.",
            m.name
        )));
    };
    let g = merges::active(&mut tx, merged, survivor)
        .await?
        .ok_or_else(|| StoreError::Invalid(format!("No merge of {} to undo.", m.name)))?;
    let (merge_id, merged_at) = (g.id, g.created_at);
    customers::lock(&mut tx, survivor, survivor).await?;
    let s = customers::state(&mut tx, survivor).await?;
    if let Some(t) = s.merged_into {
        let t = customers::state(&mut tx, t).await?;
        return Err(StoreError::Invalid(format!(
            "{} was merged into {} after {} was merged into {}: undo the later merge first (in {}'s customer panel).",
            s.name, t.name, m.name, s.name, t.name
        )));
    }
    let sc = conversations::of_customer(&mut tx, survivor)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mc = conversations::of_customer(&mut tx, merged)
        .await?
        .ok_or(StoreError::NotFound)?;
    merges::move_back_identifiers(&mut tx, merge_id, merged, survivor).await?;
    // The customer wrote after the merge: their conversation is open again, as it would be.
    let wrote_since = merges::wrote_since(&mut tx, merge_id, sc, merged, merged_at).await?;
    merges::move_back_messages(&mut tx, merge_id, mc, merged, sc).await?;
    merges::move_back_events(&mut tx, merge_id, mc, sc).await?;
    // Consent changes recorded after the merge for an identifier that goes back (a STOP texted
    // meanwhile) go back with it, like the message that caused them.
    let consent_events = events::of_kind_since(&mut tx, sc, event::CONSENT, merged_at).await?;
    let returning: Vec<i64> = identifiers::held_by(&mut tx, &[merged])
        .await?
        .iter()
        .map(|i| i.id)
        .collect();
    let going_back: Vec<i64> = consent_events
        .into_iter()
        .filter(|(_, data)| {
            serde_json::from_str::<serde_json::Value>(data)
                .ok()
                .and_then(|v| v.get("identifier_id").and_then(|x| x.as_i64()))
                .is_some_and(|i| returning.contains(&i))
        })
        .map(|(id, _)| id)
        .collect();
    events::move_to(&mut tx, &going_back, mc).await?;
    customers::set_merged_into(&mut tx, merged, None).await?;
    merges::mark_undone(&mut tx, merge_id, actor, now_ms()).await?;
    if wrote_since > 0 {
        conversations::reopen(&mut tx, mc).await?;
    }
    conversations::recompute_summary(&mut tx, sc).await?;
    let mut merged_conversation = Some(mc);
    if g.created_conversation != 0 && conversations::is_empty(&mut tx, mc).await? {
        conversations::delete(&mut tx, mc).await?;
        merged_conversation = None;
    } else {
        conversations::recompute_summary(&mut tx, mc).await?;
    }
    let who = user_name(&mut tx, actor).await?;
    let body = unmerged_sentence(&who, &m.name, &s.name);
    events::add(
        &mut tx,
        sc,
        event::UNMERGE,
        Some(actor),
        Some(&body),
        serde_json::json!({ "merge_id": merge_id, "merged_id": merged, "merged_name": m.name }),
    )
    .await?;
    audit::record_in(
        &mut tx,
        &audit::NewEntry {
            actor_id: Some(actor),
            actor: &who,
            action: AuditAction::MergeUndone,
            target: &format!(
                "customer {merged} ({}) out of customer {survivor} ({})",
                m.name, s.name
            ),
            detail: &body,
            ip: None,
        },
    )
    .await?;
    reports::mark(&mut tx, sc, 0).await?;
    reports::mark(&mut tx, mc, 0).await?;
    tx.commit().await?;
    Ok(MergeOutcome {
        merge_id,
        survivor_id: survivor,
        merged_id: merged,
        survivor_conversation: sc,
        merged_conversation,
    })
}
