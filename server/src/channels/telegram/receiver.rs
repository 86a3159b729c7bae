//! Reading a stored Telegram update: a `message` (or `edited_message`) in a private chat with
//! the bot is a customer's message; everything else (groups, channels, button presses, the
//! bot's own membership changes) is kept raw and ignored with the reason.

use super::content::content_of;
use crate::channels::{ParseError, Receiver};
use app::domain::IdentifierKind;
use app::ports::InboundEvent;
use app::ports::InboundMessage;
use app::ports::RawInbound;
use app::store::channel_accounts::AccountRow;
use serde_json::{json, Map, Value};

pub struct TelegramReceiver;

impl Receiver for TelegramReceiver {
    fn parse(
        &self,
        _account: &AccountRow,
        raw: &RawInbound,
    ) -> Result<Vec<InboundEvent>, ParseError> {
        parse_update(&raw.payload, raw.received_at).map(|e| vec![e])
    }
}

/// Update kinds that are not a customer writing to the bot, with why they are ignored.
const IGNORED_KINDS: [(&str, &str); 16] = [
    ("channel_post", "a post in a channel"),
    ("edited_channel_post", "an edited post in a channel"),
    ("callback_query", "a button press (callback query)"),
    ("inline_query", "an inline query"),
    ("chosen_inline_result", "a chosen inline result"),
    (
        "my_chat_member",
        "a change of the bot's own membership in a chat",
    ),
    ("chat_member", "a change of a chat member"),
    ("chat_join_request", "a request to join a chat"),
    ("message_reaction", "a reaction to a message"),
    ("message_reaction_count", "reaction counts of a message"),
    ("poll", "a poll update"),
    ("poll_answer", "an answer to a poll"),
    ("shipping_query", "a shipping query"),
    ("pre_checkout_query", "a pre-checkout query"),
    ("business_message", "a message of a business account"),
    ("business_connection", "a business connection"),
];

/// One update as the event it means. `fallback_ms` is when we stored it (used only when the
/// message has no date).
pub fn parse_update(payload: &[u8], fallback_ms: i64) -> Result<InboundEvent, ParseError> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| ParseError(format!("the Telegram update is not JSON ({e})")))?;
    let Value::Object(update) = v else {
        return Err(ParseError(
            "the Telegram update is not a JSON object".into(),
        ));
    };
    let update_id = update
        .get("update_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| ParseError("the Telegram update has no integer update_id".into()))?;
    let (msg, edited) = match (update.get("message"), update.get("edited_message")) {
        (Some(m), _) => (m, false),
        (None, Some(m)) => (m, true),
        (None, None) => {
            for (key, what) in IGNORED_KINDS {
                if update.contains_key(key) {
                    return Ok(InboundEvent::Ignored(format!(
                        "{what} ({key}): only private messages to the bot are handled"
                    )));
                }
            }
            let keys: Vec<&str> = update
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "update_id")
                .collect();
            return Ok(InboundEvent::Ignored(if keys.is_empty() {
                "an update with nothing in it".into()
            } else {
                format!(
                    "an update of a kind this inbox does not handle ({})",
                    keys.join(", ")
                )
            }));
        }
    };
    let Value::Object(msg) = msg else {
        return Err(ParseError(format!(
            "update {update_id}: the message is not a JSON object"
        )));
    };
    message_event(update_id, msg, edited, fallback_ms)
}

fn message_event(
    update_id: i64,
    msg: &Map<String, Value>,
    edited: bool,
    fallback_ms: i64,
) -> Result<InboundEvent, ParseError> {
    let bad = |what: &str| ParseError(format!("update {update_id}: {what}"));
    let chat = msg
        .get("chat")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("the message has no chat"))?;
    let chat_id = chat
        .get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("the message's chat has no integer id"))?;
    let chat_type = chat.get("type").and_then(Value::as_str).unwrap_or("");
    if chat_type != "private" {
        let title = chat
            .get("title")
            .and_then(Value::as_str)
            .map(|t| format!(" “{}”", t.chars().take(80).collect::<String>()))
            .unwrap_or_default();
        let kind = match chat_type {
            "group" | "supergroup" | "channel" => chat_type.to_string(),
            "" => "chat of no stated type".to_string(),
            other => format!("{other} chat"),
        };
        return Ok(InboundEvent::Ignored(format!(
            "a message in the {kind}{title} ({chat_id}): only private chats with the bot are handled"
        )));
    }
    let message_id = msg
        .get("message_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("the message has no integer message_id"))?;
    // In a private chat the sender is the chat's other side; the chat names them as well.
    let from = msg.get("from").and_then(Value::as_object).unwrap_or(chat);
    let date = msg.get("date").and_then(Value::as_i64);
    let mut content = content_of(msg);
    let (provider_message_id, received_at) = if edited {
        let edit_date = msg
            .get("edit_date")
            .and_then(Value::as_i64)
            .or(date)
            .ok_or_else(|| bad("the edited message has no edit_date"))?;
        content.body = format!("(edited) {}", content.body);
        // The files were taken with the original message.
        content.media.clear();
        (
            format!("{chat_id}:{message_id}:edit:{edit_date}"),
            edit_date.saturating_mul(1000),
        )
    } else {
        (
            format!("{chat_id}:{message_id}"),
            date.map(|d| d.saturating_mul(1000)).unwrap_or(fallback_ms),
        )
    };
    let username = from.get("username").and_then(Value::as_str);
    Ok(InboundEvent::Message(Box::new(InboundMessage {
        identifier_kind: IdentifierKind::Telegram,
        identifier: chat_id.to_string(),
        display_name: display_name(from),
        provider_message_id,
        subject: None,
        body_text: content.body,
        body_html: None,
        received_at,
        thread: Default::default(),
        automatic: false,
        meta: Some(json!({"username": username, "update_id": update_id})),
        attachments: Vec::new(),
        media: content.media,
    })))
}

/// "First Last", else "@username", else nothing.
pub fn display_name(user: &Map<String, Value>) -> Option<String> {
    let s = |k: &str| {
        user.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let name = [s("first_name"), s("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        return Some(name);
    }
    s("username").map(|u| format!("@{u}"))
}

#[cfg(test)]
#[path = "receiver_tests.rs"]
mod tests;
