//! Agents' answers on the website chat. Nothing leaves the server: the answer is already a
//! message of the conversation, and every widget stream of its visitor reads the chat messages
//! it has not shown yet (`http::chat`). Sending marks it `sent`, which makes it visible to the
//! widget; the widget's stream then marks it `delivered`, and the visitor's eyes `read`.

use crate::channels::{SendError, Sender, Sent};
use app::domain::{chat_settings, DeliveryState};
use app::ports::Outbound;
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;

pub struct ChatSender;

#[async_trait]
impl Sender for ChatSender {
    async fn send(&self, _account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError> {
        check(msg)?;
        Ok(Sent {
            provider_message_id: format!("chat-{}", msg.message_id),
            state: DeliveryState::Sent,
            rfc_message_id: None,
        })
    }
}

/// Why `msg` cannot go to the widget, if it cannot.
pub fn check(msg: &Outbound) -> Result<(), SendError> {
    if !msg.files.is_empty() {
        return Err(SendError::Permanent(
            "files cannot be sent in the website chat yet; send the text, or reply by email".into(),
        ));
    }
    if msg.body_text.trim().is_empty() {
        return Err(SendError::Permanent("the message is empty".into()));
    }
    if msg.body_text.chars().count() > chat_settings::MAX_VISITOR_TEXT {
        return Err(SendError::Permanent(format!(
            "a chat message holds at most {} characters",
            chat_settings::MAX_VISITOR_TEXT
        )));
    }
    Ok(())
}
