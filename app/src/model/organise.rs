//! Labels and search: what the list, the conversation and the search results show.

use crate::domain::{ChannelKind, Direction};
use crate::model::ConversationSummary;
use serde::{Deserialize, Serialize};

/// A label as shown on a conversation or offered to add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub id: i64,
    pub name: String,
    /// A palette colour name (`domain::labels::PALETTE`).
    pub colour: String,
}

/// What a result matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Matched {
    /// A message, on its channel, from the customer or an agent.
    Message {
        channel: Option<ChannelKind>,
        direction: Direction,
    },
    Note,
    /// The customer's name or one of their identifiers.
    Customer,
    /// The filters alone (no words).
    Filters,
}

/// One conversation found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub conversation: ConversationSummary,
    pub matched: Matched,
    /// When the shown match was written.
    pub at: i64,
    /// The matching text as runs: (text, highlighted).
    pub snippet: Vec<(String, bool)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub items: Vec<SearchResult>,
    /// Cursor of the next page.
    pub next: Option<String>,
    /// The filters understood, in words.
    pub filters: Vec<String>,
    /// Filter words not understood, as typed.
    pub ignored: Vec<String>,
    /// What was changed to read the query, or why nothing was searched, in words.
    pub notices: Vec<String>,
}
