//! What the live stream tells browsers.

use serde::{Deserialize, Serialize};

/// What the live stream tells browsers. Only ids: the browser re-fetches what it may see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub kind: LiveKind,
    pub conversation_id: Option<i64>,
    pub message_id: Option<i64>,
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
}
