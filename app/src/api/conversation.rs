use crate::model::{ConversationDetail, TimelinePage};
#[cfg(feature = "ssr")]
use crate::model::{LiveEvent, LiveKind};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn live(kind: LiveKind, conversation_id: i64, message_id: Option<i64>) -> LiveEvent {
    LiveEvent {
        kind,
        conversation_id: Some(conversation_id),
        message_id,
    }
}

#[server(endpoint = "conversation")]
pub async fn get_conversation(id: i64) -> Result<ConversationDetail, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ReadConversations).await?;
    crate::store::conversations::detail(&st.db, id)
        .await
        .map_err(errors::store)
}

/// A page of the timeline: the newest items, or those before the `before` cursor.
#[server(endpoint = "conversation/timeline")]
pub async fn get_timeline(id: i64, before: Option<String>) -> Result<TimelinePage, ServerFnError> {
    use crate::domain::{cursor::TimelineKey, Permission};
    use crate::ssr::{auth, errors};
    use crate::store::timeline;
    let st = auth::state()?;
    auth::require(Permission::ReadConversations).await?;
    let before = match before.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(TimelineKey::decode(s).ok_or_else(|| errors::bad_request("bad cursor"))?),
        None => None,
    };
    timeline::page(&st.db, id, before, timeline::PAGE)
        .await
        .map_err(errors::store)
}

#[server(endpoint = "conversation/read")]
pub async fn mark_read(id: i64) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::ReadConversations).await?;
    crate::store::conversations::mark_read(&st.db, u.id, id)
        .await
        .map_err(errors::store)
}

/// Changes the status. `snooze_minutes` is required when `status` is `snoozed`.
#[server(endpoint = "conversation/status")]
pub async fn set_status(
    id: i64,
    status: String,
    snooze_minutes: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::domain::{Permission, Status};
    use crate::ssr::{auth, errors};
    use crate::store::{conversations, now_ms};
    let st = auth::state()?;
    let u = auth::require(Permission::ManageConversations).await?;
    let status = Status::parse(&status).ok_or_else(|| errors::bad_request("unknown status"))?;
    let until = match snooze_minutes
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(m) => {
            let m: i64 = m
                .parse()
                .map_err(|_| errors::bad_request("snooze minutes must be a number"))?;
            if !(1..=60 * 24 * 365).contains(&m) {
                return Err(errors::bad_request(
                    "snooze between one minute and one year",
                ));
            }
            Some(now_ms() + m * 60_000)
        }
        None => None,
    };
    conversations::set_status(&st.db, id, status, until, u.id)
        .await
        .map_err(errors::store)?;
    st.hub.publish(live(LiveKind::Conversation, id, None)).await;
    Ok(())
}

/// Assigns to a user id, or unassigns when `assignee` is empty.
#[server(endpoint = "conversation/assign")]
pub async fn assign(id: i64, assignee: String) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::ManageConversations).await?;
    let target = match assignee.trim() {
        "" => None,
        s => Some(
            s.parse::<i64>()
                .map_err(|_| errors::bad_request("bad assignee"))?,
        ),
    };
    crate::store::conversations::assign(&st.db, id, target, u.id)
        .await
        .map_err(errors::store)?;
    st.hub.publish(live(LiveKind::Conversation, id, None)).await;
    Ok(())
}

#[server(endpoint = "conversation/note")]
pub async fn add_note(id: i64, body: String) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::WriteNotes).await?;
    crate::store::conversations::add_note(&st.db, id, &body, u.id)
        .await
        .map_err(errors::store)?;
    st.hub.publish(live(LiveKind::Conversation, id, None)).await;
    Ok(())
}

/// Queues a reply. `via` is a reply option key (`account:identifier`) from the channel picker.
#[server(endpoint = "conversation/reply")]
pub async fn send_reply(id: i64, via: String, body: String) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::Reply).await?;
    let (acc, ident) = via
        .split_once(':')
        .and_then(|(a, i)| Some((a.parse::<i64>().ok()?, i.parse::<i64>().ok()?)))
        .ok_or_else(|| errors::bad_request("choose a channel to reply on"))?;
    let mid = crate::store::messages::queue_reply(&st.db, id, acc, ident, u.id, &body)
        .await
        .map_err(errors::store)?;
    st.wake.outbox.notify_one();
    st.hub.publish(live(LiveKind::Message, id, Some(mid))).await;
    Ok(())
}

/// Confirms that a suggested identifier (one that joined by threading) is the customer's.
#[server(endpoint = "customer/identifier/confirm")]
pub async fn confirm_identifier(id: i64) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ManageConversations).await?;
    crate::store::conversations::confirm_identifier(&st.db, id)
        .await
        .map_err(errors::store)?;
    st.hub
        .publish(crate::model::LiveEvent {
            kind: crate::model::LiveKind::Conversation,
            conversation_id: None,
            message_id: None,
        })
        .await;
    Ok(())
}
