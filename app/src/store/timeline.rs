//! A conversation's timeline: messages and events merged in time order, keyset-paged from the
//! newest end so a 10,000-message history opens as fast as a short one.

use super::{Db, Result};
use crate::domain::cursor::{Source, TimelineKey};
use crate::domain::event;
use crate::domain::{ChannelKind, DeliveryState, Direction};
use crate::model::{
    AttachmentView, CampaignRef, EventView, MessageView, OutboxState, TimelineItem, TimelinePage,
};
use sqlx::Row;

pub const PAGE: i64 = 50;

/// The `limit` items just before `before` (or the newest ones), oldest first.
pub async fn page(
    db: &Db,
    conversation_id: i64,
    before: Option<TimelineKey>,
    limit: i64,
) -> Result<TimelinePage> {
    let cursor = before.unwrap_or(TimelineKey {
        at: i64::MAX,
        source: Source::Message,
        id: i64::MAX,
    });
    let msgs = sqlx::query(
        "SELECT m.id, m.direction, m.channel, a.name AS account_name, i.label AS identifier, u.name AS author_name, \
                m.subject, m.body_text, m.delivery_state, m.failure_reason, m.created_at, m.automatic, \
                CAST(CASE WHEN m.body_html IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_html, \
                o.id AS job, o.done_at AS job_done, o.outcome AS job_outcome, o.last_error AS job_error, \
                o.next_attempt_at AS job_next, o.in_flight_at AS job_in_flight, \
                cp.id AS campaign_id, cp.name AS campaign_name, \
                CAST(CASE WHEN cr.message_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS campaign_answer \
         FROM messages m \
         JOIN channel_accounts a ON a.id = m.channel_account_id \
         LEFT JOIN outbox o ON o.message_id = m.id \
         LEFT JOIN identifiers i ON i.id = m.identifier_id \
         LEFT JOIN users u ON u.id = m.author_user_id \
         LEFT JOIN campaign_messages cm ON cm.message_id = m.id \
         LEFT JOIN campaign_replies cr ON cr.message_id = m.id \
         LEFT JOIN campaigns cp ON cp.id = COALESCE(cm.campaign_id, cr.campaign_id) \
         WHERE m.conversation_id = $1 AND (m.created_at, m.id) < ($2, $3) \
         ORDER BY m.created_at DESC, m.id DESC LIMIT $4",
    )
    .bind(conversation_id)
    .bind(cursor.at)
    .bind(if before.is_some() { cursor.id_bound_for(Source::Message) } else { i64::MAX })
    .bind(limit + 1)
    .fetch_all(&db.read)
    .await?;
    let evs = sqlx::query(
        "SELECT e.id, e.kind, e.body, e.data, e.created_at, u.name AS actor_name \
         FROM events e LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE e.conversation_id = $1 AND (e.created_at, e.id) < ($2, $3) \
         ORDER BY e.created_at DESC, e.id DESC LIMIT $4",
    )
    .bind(conversation_id)
    .bind(cursor.at)
    .bind(if before.is_some() {
        cursor.id_bound_for(Source::Event)
    } else {
        i64::MAX
    })
    .bind(limit + 1)
    .fetch_all(&db.read)
    .await?;

    let mut items = Vec::with_capacity(msgs.len() + evs.len());
    for r in &msgs {
        let dir: String = r.try_get("direction")?;
        let ch: String = r.try_get("channel")?;
        let st: String = r.try_get("delivery_state")?;
        let (Some(direction), Some(channel), Some(delivery_state)) = (
            Direction::parse(&dir),
            ChannelKind::parse(&ch),
            DeliveryState::parse(&st),
        ) else {
            continue;
        };
        items.push(TimelineItem::Message(MessageView {
            id: r.try_get("id")?,
            direction,
            channel,
            account_name: r.try_get("account_name")?,
            identifier: r.try_get("identifier")?,
            author_name: r.try_get("author_name")?,
            subject: r.try_get("subject")?,
            body_text: r.try_get("body_text")?,
            delivery_state,
            failure_reason: r.try_get("failure_reason")?,
            outbox: outbox_state(r, delivery_state)?,
            created_at: r.try_get("created_at")?,
            has_html: r.try_get::<i64, _>("has_html")? != 0,
            automatic: r.try_get::<i64, _>("automatic")? != 0,
            attachments: Vec::new(),
            campaign: match r.try_get::<Option<i64>, _>("campaign_id")? {
                Some(id) => Some(CampaignRef {
                    id,
                    name: r.try_get("campaign_name")?,
                    answer: r.try_get::<i64, _>("campaign_answer")? != 0,
                }),
                None => None,
            },
        }));
    }
    for r in &evs {
        let kind: String = r.try_get("kind")?;
        let data: String = r.try_get("data")?;
        let actor: Option<String> = r.try_get("actor_name")?;
        let body: Option<String> = r.try_get("body")?;
        let summary = match (&body, kind.as_str()) {
            // Consent events say what happened in their own words ("Opted out of SMS (texted STOP)").
            (Some(b), event::CONSENT) => b.clone(),
            _ => event::summarize(&kind, &data, actor.as_deref()),
        };
        items.push(TimelineItem::Event(EventView {
            id: r.try_get("id")?,
            summary,
            until: event::until(&kind, &data),
            kind,
            actor_name: actor,
            body,
            created_at: r.try_get("created_at")?,
        }));
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.key()));
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let older = if more {
        items.last().map(|i| i.key().encode())
    } else {
        None
    };
    items.reverse();
    attach_files(db, &mut items).await?;
    Ok(TimelinePage { items, older })
}

/// The delivery job's state of a timeline row (columns `job*`).
fn outbox_state(
    r: &sqlx::any::AnyRow,
    delivery: DeliveryState,
) -> std::result::Result<Option<OutboxState>, sqlx::Error> {
    if r.try_get::<Option<i64>, _>("job")?.is_none() {
        return Ok(None);
    }
    let done = r.try_get::<Option<i64>, _>("job_done")?.is_some();
    let outcome: Option<String> = r.try_get("job_outcome")?;
    Ok(match (done, outcome.as_deref()) {
        (true, Some("cancelled")) => Some(OutboxState::Cancelled),
        (true, Some("unknown")) => Some(OutboxState::Unknown),
        (true, _) if delivery == DeliveryState::Failed => Some(OutboxState::Failed),
        (true, _) => None,
        (false, _) => {
            let failed_before = r.try_get::<Option<String>, _>("job_error")?.is_some();
            let in_flight = r.try_get::<Option<i64>, _>("job_in_flight")?.is_some();
            (failed_before && !in_flight).then_some(OutboxState::Retrying {
                next_attempt_at: r.try_get("job_next")?,
            })
        }
    })
}

/// Fills in the attachments of the messages on a page, with one query.
async fn attach_files(db: &Db, items: &mut [TimelineItem]) -> Result<()> {
    let ids: Vec<i64> = items
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Message(m) => Some(m.id),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let list = super::id_list(&ids);
    // The ids are integers from our own query, so they are safe to inline.
    let rows = sqlx::query(&format!(
        "SELECT id, message_id, filename, content_type, size_bytes FROM attachments \
         WHERE message_id IN ({list}) ORDER BY id"
    ))
    .fetch_all(&db.read)
    .await?;
    for r in &rows {
        let mid: i64 = r.try_get("message_id")?;
        let view = AttachmentView {
            id: r.try_get("id")?,
            filename: r.try_get("filename")?,
            content_type: r.try_get("content_type")?,
            size_bytes: r.try_get("size_bytes")?,
        };
        if let Some(TimelineItem::Message(m)) = items
            .iter_mut()
            .find(|i| matches!(i, TimelineItem::Message(m) if m.id == mid))
        {
            m.attachments.push(view);
        }
    }
    Ok(())
}
