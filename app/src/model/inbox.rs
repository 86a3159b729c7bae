//! The conversation list.

use crate::domain::{ChannelKind, Direction, Status};
use serde::{Deserialize, Serialize};

/// Which conversations the list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssigneeFilter {
    Mine,
    Unassigned,
    All,
}

impl AssigneeFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            AssigneeFilter::Mine => "mine",
            AssigneeFilter::Unassigned => "unassigned",
            AssigneeFilter::All => "all",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mine" => Some(Self::Mine),
            "unassigned" => Some(Self::Unassigned),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListFilter {
    pub status: Status,
    pub assignee: AssigneeFilter,
    pub channel: Option<ChannelKind>,
    /// Only conversations with this label.
    #[serde(default)]
    pub label: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: i64,
    pub customer_name: String,
    pub status: Status,
    pub assignee_name: Option<String>,
    pub last_activity_at: i64,
    pub preview: String,
    pub last_channel: Option<ChannelKind>,
    pub last_direction: Option<Direction>,
    /// The agent who wrote the last message when it went out (none: automatic or inbound).
    pub last_author_id: Option<i64>,
    pub last_author_name: Option<String>,
    /// The sender of the last message when it came from an unverified identifier (one that
    /// joined by threading): the preview is theirs, not the customer's.
    pub last_unverified_sender: Option<String>,
    pub unread: bool,
    /// The conversation's labels, by name.
    #[serde(default)]
    pub labels: Vec<crate::model::Label>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    /// Cursor for the next (older) page, when there is one.
    pub next: Option<String>,
}
