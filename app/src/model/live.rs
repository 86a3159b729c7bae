//! What the live stream tells browsers.

use serde::{Deserialize, Serialize};

/// What the live stream tells browsers. Only ids: the browser re-fetches what it may see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub kind: LiveKind,
    pub conversation_id: Option<i64>,
    pub message_id: Option<i64>,
    /// Who is where ([`LiveKind::Presence`] only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<Presence>,
}

/// An agent's presence on a conversation: shown to the other agents on it, never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: i64,
    pub name: String,
    pub state: PresenceState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresenceState {
    /// Has the conversation open (repeated every few seconds while it stays open).
    Viewing,
    /// Is writing a reply.
    Typing,
    /// Sent a reply just now.
    Replied,
    /// Closed the conversation.
    Left,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LiveKind {
    /// A message was added to a conversation (inbound or outbound).
    Message,
    /// Status, assignment, note or other conversation change.
    Conversation,
    /// A message's delivery state changed.
    Delivery,
    /// A channel account's connection or sync progress changed (admin page).
    Channel,
    /// An agent opened, is writing in, replied to or left a conversation.
    Presence,
    /// Channel accounts were added, edited or removed: every process's mailbox supervisor
    /// looks again (the admin page refreshes too).
    Accounts,
}
