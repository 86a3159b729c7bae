//! Merge suggestions: other customers who may be the same person, with the reasons in words.
//! Shown to agents in the customer panel, never applied by themselves.
//!
//! Two kinds are recorded when they happen (`store::suggestions`): an email from a known
//! customer that answers another customer's conversation, and an agent adding an identifier
//! another customer holds. Two are computed when shown, so they are always current: the same
//! normalised value held as identifiers of different kinds (a phone and a WhatsApp number),
//! and the same name (case and spaces aside) with a matching identifier pattern (the same
//! email local part, or phone numbers ending in the same nine digits). A dismissal says two
//! customers are different people and hides them for good.

use crate::domain::identifier::name_key;
use crate::domain::merge::{self as rules, pattern_reasons};
use crate::model::MergeSuggestion;
use crate::store::{customers, identifiers, suggestions, Db, Result};
use sqlx::AnyConnection;
use std::collections::{BTreeMap, HashSet};

/// Most same-name candidates looked at for one customer.
const MAX_NAME_CANDIDATES: i64 = 20;

/// At ingest, inside the caller's transaction: an email from `sender` (a known customer,
/// writing from `label`) answers a message in `other`'s conversation.
pub async fn record_threaded_reply(
    conn: &mut AnyConnection,
    sender: i64,
    other: i64,
    label: &str,
    at: i64,
) -> Result<()> {
    if sender == other {
        return Ok(());
    }
    let sender_name = customers::name_of(conn, sender).await?;
    let other_name = customers::name_of(conn, other).await?;
    let detail = rules::threaded_reply_detail(&sender_name, label, &other_name);
    suggestions::record(conn, sender, other, rules::THREADED, &detail, at).await
}

/// The suggestions for `customer_id`: each other customer once, with every reason.
pub async fn for_customer(db: &Db, customer_id: i64) -> Result<Vec<MergeSuggestion>> {
    let mut conn = db.read.acquire().await?;
    let me = customers::state(&mut conn, customer_id).await?;
    if me.merged_into.is_some() {
        return Ok(Vec::new());
    }
    let mut reasons: BTreeMap<i64, Vec<String>> = BTreeMap::new();

    // Recorded when they happened; the other side may have been merged since.
    for (other, detail) in suggestions::recorded(&mut conn, customer_id).await? {
        let other = customers::current(&mut conn, other).await?;
        if other != customer_id {
            reasons.entry(other).or_default().push(detail);
        }
    }

    // The same value under another kind (a phone number that is someone's WhatsApp number).
    for (other, mine, theirs, value) in
        identifiers::same_value_elsewhere(&mut conn, customer_id).await?
    {
        reasons
            .entry(other)
            .or_default()
            .push(rules::same_value_reason(&value, mine, theirs));
    }

    // The same name, with a matching identifier pattern.
    let key = name_key(&me.name);
    if !key.is_empty() {
        let same: Vec<i64> =
            suggestions::same_name(&mut conn, customer_id, &me.name, MAX_NAME_CANDIDATES)
                .await?
                .into_iter()
                .filter(|(_, name)| name_key(name) == key)
                .map(|(id, _)| id)
                .collect();
        if !same.is_empty() {
            let mine: Vec<_> = identifiers::held_by(&mut conn, &[customer_id])
                .await?
                .into_iter()
                .map(|i| (i.kind, i.value))
                .collect();
            let theirs = identifiers::held_by(&mut conn, &same).await?;
            for other in same {
                let t: Vec<_> = theirs
                    .iter()
                    .filter(|i| i.customer_id == other)
                    .map(|i| (i.kind, i.value.clone()))
                    .collect();
                let found = pattern_reasons(&mine, &t);
                if !found.is_empty() {
                    reasons.entry(other).or_default().extend(found);
                }
            }
        }
    }

    if reasons.is_empty() {
        return Ok(Vec::new());
    }
    for other in suggestions::dismissed(&mut conn, customer_id).await? {
        reasons.remove(&other);
    }
    if reasons.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = reasons.keys().copied().collect();
    let mut out = Vec::with_capacity(ids.len());
    for customer in suggestions::unmerged_refs(&mut conn, &ids).await? {
        let mut words = reasons.remove(&customer.id).unwrap_or_default();
        let mut seen = HashSet::new();
        words.retain(|w| seen.insert(w.clone()));
        out.push(MergeSuggestion {
            customer,
            reasons: words,
        });
    }
    Ok(out)
}
