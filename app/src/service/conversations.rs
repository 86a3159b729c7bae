//! A conversation as the page opens it (the detail), and the agent actions that change it
//! with a timeline event: status, assignment, notes; and snoozes ending.

use super::{chat, customers, reply_options, reports};
use crate::domain::{event, Role, Status};
use crate::model::ConversationDetail;
use crate::store::{self, conversations, events, now_ms, users, Db, Result, StoreError};

/// The conversation with its customer and the channels a reply can go out on.
pub async fn detail(db: &Db, conversation_id: i64) -> Result<ConversationDetail> {
    let c = conversations::get(db, conversation_id).await?;
    // The consent that holds is read once for the panel, the consent section and the gates.
    let latest = store::consent::latest_for_customer(db, c.customer_id).await?;
    let customer = customers::customer_view_from(db, c.customer_id, &latest).await?;
    // The channel accounts, read once: for the reply options and the chat invitation.
    let accounts = store::channel_accounts::list(db).await?;
    let reply_options::ReplyOptions {
        options: reply_options,
        default: default_reply,
    } = reply_options::for_conversation(db, conversation_id, &customer, &latest, &accounts).await?;
    let agents = users::list(db)
        .await?
        .into_iter()
        .filter(|(u, disabled, _)| !disabled && u.role != Role::Marketing)
        .map(|(u, _, _)| u)
        .collect();
    let consent = store::consent::customer_consent_from(db, c.customer_id, &latest).await?;
    let failing = store::outbox::failing_accounts(db).await?;
    let failing_accounts: Vec<(i64, String, i64)> = failing
        .into_iter()
        .filter(|(account, _, _)| reply_options.iter().any(|o| o.account_id == *account))
        .map(|(account, n, next)| {
            (
                account,
                format!(
                    "This account's provider is failing: {n} message{} waiting to be retried. A reply is queued and sent when the provider is back.",
                    if n == 1 { "" } else { "s" },
                ),
                next,
            )
        })
        .collect();
    let labels = store::labels::of_conversations(db, &[conversation_id])
        .await?
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    let all_labels = store::labels::all(db).await?;
    let chat_invite = chat::invite_site(&accounts).is_some();
    Ok(ConversationDetail {
        chat_invite,
        labels,
        all_labels,
        failing_accounts,
        id: conversation_id,
        status: c.status,
        snoozed_until: c.snoozed_until,
        assignee_id: c.assignee_id,
        customer,
        reply_options,
        default_reply,
        agents,
        consent,
    })
}

/// Changes the status (with a timeline event). Snoozing needs `snoozed_until`.
pub async fn set_status(
    db: &Db,
    id: i64,
    status: Status,
    snoozed_until: Option<i64>,
    actor: i64,
) -> Result<()> {
    if status == Status::Snoozed && snoozed_until.is_none_or(|t| t <= now_ms()) {
        return Err(StoreError::Invalid(
            "a snooze needs a time in the future".into(),
        ));
    }
    let until = if status == Status::Snoozed {
        snoozed_until
    } else {
        None
    };
    let mut tx = db.write.begin().await?;
    conversations::set_status(&mut tx, id, status, until).await?;
    let (kind, data) = if status == Status::Snoozed {
        (event::SNOOZE, serde_json::json!({ "until": until }))
    } else {
        (
            event::STATUS,
            serde_json::json!({ "status": status.as_str() }),
        )
    };
    events::add(&mut tx, id, kind, Some(actor), None, data).await?;
    reports::mark(&mut tx, id, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Assigns the conversation to a user (or nobody), with a timeline event.
pub async fn assign(db: &Db, id: i64, assignee: Option<i64>, actor: i64) -> Result<()> {
    let mut tx = db.write.begin().await?;
    let name = match assignee {
        Some(uid) => Some(
            users::name_of(&mut tx, uid, true)
                .await?
                .ok_or_else(|| StoreError::Invalid("no such active user".into()))?,
        ),
        None => None,
    };
    conversations::set_assignee(&mut tx, id, assignee).await?;
    events::add(
        &mut tx,
        id,
        event::ASSIGN,
        Some(actor),
        None,
        serde_json::json!({ "assignee": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a private note to the timeline.
pub async fn add_note(db: &Db, id: i64, body: &str, actor: i64) -> Result<i64> {
    let body = body.trim();
    if body.is_empty() {
        return Err(StoreError::Invalid("a note cannot be empty".into()));
    }
    if body.chars().count() > 10_000 {
        return Err(StoreError::Invalid(
            "a note can have at most 10,000 characters".into(),
        ));
    }
    let mut tx = db.write.begin().await?;
    conversations::exists(&mut tx, id).await?;
    let eid = events::add(
        &mut tx,
        id,
        event::NOTE,
        Some(actor),
        Some(body),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(eid)
}

/// Reopens snoozed conversations whose time has come, each with a timeline event; returns
/// their ids.
pub async fn wake_snoozed(db: &Db, now: i64) -> Result<Vec<i64>> {
    let mut tx = db.write.begin().await?;
    let ids = conversations::wake_snoozed(&mut tx, now).await?;
    for &id in &ids {
        events::add(
            &mut tx,
            id,
            event::REOPEN,
            None,
            None,
            serde_json::json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ids)
}
