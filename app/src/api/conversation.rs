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
        presence: None,
    }
}

#[server(endpoint = "conversation", output = crate::api::codec::JsonText)]
pub async fn get_conversation(id: i64) -> Result<ConversationDetail, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ReadConversations).await?;
    crate::service::conversations::detail(&st.db, id)
        .await
        .map_err(errors::store)
}

/// A page of the timeline: the newest items, or those before the `before` cursor.
#[server(endpoint = "conversation/timeline", output = crate::api::codec::JsonText)]
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
    use crate::service::conversations;
    use crate::ssr::{auth, errors};
    use crate::store::now_ms;
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
    crate::service::conversations::assign(&st.db, id, target, u.id)
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
    crate::service::conversations::add_note(&st.db, id, &body, u.id)
        .await
        .map_err(errors::store)?;
    st.hub.publish(live(LiveKind::Conversation, id, None)).await;
    Ok(())
}

/// `account:identifier` from a reply option key.
#[cfg(feature = "ssr")]
fn parse_via(via: &str) -> Result<(i64, i64), ServerFnError> {
    via.split_once(':')
        .and_then(|(a, i)| Some((a.parse::<i64>().ok()?, i.parse::<i64>().ok()?)))
        .ok_or_else(|| crate::ssr::errors::bad_request("choose a channel to reply on"))
}

/// A checkbox or flag field: present and not "false"/"0"/"off".
#[cfg(feature = "ssr")]
fn ticked(v: Option<&str>) -> bool {
    v.map(str::trim)
        .is_some_and(|v| !v.is_empty() && !matches!(v, "false" | "0" | "off"))
}

/// Queues a reply. `via` is a reply option key (`account:identifier`) from the channel picker.
/// `written_for` is the channel the draft was started for (set by the hydrated composer);
/// when it differs from `via`'s channel the agent must have ticked `converted` ("Send as
/// converted") after seeing the preview. `draft_key` is the draft's idempotency key: the same
/// key again stores nothing more. `confirm_unverified` is ticked to reply to an identifier
/// nobody verified is the customer's.
#[server(endpoint = "conversation/reply")]
pub async fn send_reply(
    id: i64,
    via: String,
    body: String,
    written_for: Option<String>,
    converted: Option<String>,
    draft_key: Option<String>,
    confirm_unverified: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::domain::{reply_choice, ChannelKind, Permission};
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::Reply).await?;
    let (acc, ident) = parse_via(&via)?;
    let written_for = written_for
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| ChannelKind::parse(s).ok_or_else(|| errors::bad_request("unknown channel")))
        .transpose()?;
    if written_for.is_some() {
        let account = crate::store::channel_accounts::get(&st.db, acc)
            .await
            .map_err(|_| errors::bad_request("choose a channel to reply on"))?;
        reply_choice::check_converted(written_for, account.channel, ticked(converted.as_deref()))
            .map_err(errors::bad_request)?;
    }
    use crate::service::reply;
    let sending = reply::Sending {
        draft_key: draft_key.as_deref(),
        unverified_confirmed: ticked(confirm_unverified.as_deref()),
    };
    let mid = reply::queue_agent_reply(&st.db, id, acc, ident, u.id, &body, &[], None, sending)
        .await
        .map_err(errors::store)?;
    st.wake.outbox.notify_one();
    st.hub.publish(live(LiveKind::Message, id, Some(mid))).await;
    // Other agents writing in this conversation are told before they send.
    st.hub
        .publish(crate::model::LiveEvent {
            kind: LiveKind::Presence,
            conversation_id: Some(id),
            message_id: Some(mid),
            presence: Some(crate::model::Presence {
                user_id: u.id,
                name: u.name.clone(),
                state: crate::model::PresenceState::Replied,
            }),
        })
        .await;
    Ok(())
}

/// "Move conversation to…": `to` (a reply option key) becomes where replies go. With
/// `handoff` ticked, a short message goes out on the old channel first: `handoff_text`, or
/// the standard words when it is blank. `handoff_for` is the target the hydrated form's
/// handoff text was written for; a move to another target is refused.
#[server(endpoint = "conversation/move")]
pub async fn move_conversation(
    id: i64,
    to: String,
    handoff: Option<String>,
    handoff_text: Option<String>,
    handoff_for: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::service::reply_options::{self, Handoff};
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::Reply).await?;
    parse_via(&to)?;
    let handoff = match (ticked(handoff.as_deref()), handoff_text) {
        (false, _) => Handoff::Skip,
        (true, Some(t)) if !t.trim().is_empty() => Handoff::Text(t),
        (true, _) => Handoff::Standard,
    };
    let done =
        reply_options::move_conversation(&st.db, id, &to, handoff, handoff_for.as_deref(), u.id)
            .await
            .map_err(errors::store)?;
    if let Some(mid) = done.handoff_message_id {
        st.wake.outbox.notify_one();
        st.hub.publish(live(LiveKind::Message, id, Some(mid))).await;
    }
    st.hub.publish(live(LiveKind::Conversation, id, None)).await;
    Ok(())
}

/// Confirms that a suggested identifier (one that joined by threading) is the customer's.
#[server(endpoint = "customer/identifier/confirm")]
pub async fn confirm_identifier(id: i64) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ManageConversations).await?;
    crate::store::identifiers::confirm(&st.db, id)
        .await
        .map_err(errors::store)?;
    st.hub
        .publish(crate::model::LiveEvent {
            kind: crate::model::LiveKind::Conversation,
            conversation_id: None,
            message_id: None,
            presence: None,
        })
        .await;
    Ok(())
}

/// "Let the customer choose": the customer's preference center link for the reply going by
/// `identifier_id` in conversation `id`, for the agent to add to the draft.
#[server(endpoint = "conversation/preference-link")]
pub async fn preference_link(id: i64, identifier_id: i64) -> Result<String, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors, pref_token};
    let st = auth::state()?;
    auth::require(Permission::Reply).await?;
    let (i, c) = crate::service::preferences::link_target(&st.db, id, identifier_id)
        .await
        .map_err(errors::store)?;
    Ok(pref_token::link(
        &st.settings.public_url,
        st.settings.secret_key.as_bytes(),
        i,
        c,
        crate::store::now_ms(),
    ))
}

/// A link that opens the website chat attached to this conversation's customer, for the agent
/// to send on any channel ("continue in the chat"): (the chat's name, the link), or None when
/// no website chat names a site to open it on.
#[server(endpoint = "conversation/chat-invite")]
pub async fn chat_invite(id: i64) -> Result<Option<(String, String)>, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, chat_token, errors};
    let st = auth::state()?;
    auth::require(Permission::Reply).await?;
    let key = st.settings.secret_key.clone();
    let expires = crate::store::now_ms() + crate::service::chat::INVITE_TTL_MS;
    crate::service::chat::invite_link(&st.db, id, |chat, customer| {
        chat_token::continue_token(key.as_bytes(), chat, customer, expires)
    })
    .await
    .map_err(errors::store)
}
