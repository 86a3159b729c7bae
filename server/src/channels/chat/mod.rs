//! Website chat (issue 16): the business's own chat widget as a channel of the one
//! conversation. There is no provider behind it: the widget talks to `http::chat`, which
//! stores each visitor message as a raw payload ([`VisitorPayload`]) like any webhook; the
//! [`receiver`] reads it in the inbound worker, and the [`sender`] hands agents' answers to the
//! widget's stream (they are read from the messages table, so every process can serve them).
//!
//! - [`token`] (`app::ssr::chat_token`): visitor tokens, continue links and the site's
//!   identity hashes.
//! - [`settings`]: a chat account's stored settings as the widget and the edge need them.
//! - `app::domain::chat_origin`: which websites may embed the chat.

pub mod receiver;
pub mod sender;
pub mod settings;
/// The chat's signed values live beside the server functions that make invite links.
pub use app::ssr::chat_token as token;

use super::{ChannelConfig, Registry};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `channel_accounts.provider` of website chats.
pub const PROVIDER: &str = "chat";

/// What the edge stores for one visitor message (`raw_inbound.payload`, JSON): already
/// checked and cleaned there ([`app::domain::chat_settings::visitor_text`]), checked again by
/// the receiver, which never trusts a payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitorPayload {
    /// The visitor id the token named.
    pub visitor: String,
    /// The widget's id of this message: a resend of it is a duplicate.
    pub client_id: String,
    pub text: String,
    /// When the edge received it (unix ms).
    pub at: i64,
    /// The name the visitor typed into the pre-chat form, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The page the visitor wrote from (shown to the agent), if the widget said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// The content type of [`VisitorPayload`] rows.
pub const PAYLOAD_TYPE: &str = "application/vnd.convergence.chat+json";

/// Client message ids: 8 to 64 of `[A-Za-z0-9_-]`.
pub fn client_id_ok(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn register(r: &mut Registry, _config: &ChannelConfig) {
    r.add(
        PROVIDER,
        Arc::new(receiver::ChatReceiver),
        Arc::new(sender::ChatSender),
    );
}
