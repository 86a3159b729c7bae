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

/// A saved view as the list's sidebar shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The search it runs, as typed (words and filters).
    pub query: String,
    pub shared: bool,
    /// The signed-in user may rename or delete it.
    pub editable: bool,
    /// Conversations it shows, counted up to [`COUNT_CAP`] (more reads "50+").
    pub count: u32,
    /// Of those, the ones with something the user has not read.
    pub unread: u32,
}

/// Counts stop here: the sidebar says "50+".
pub const COUNT_CAP: u32 = 50;

/// The list's counts: unread conversations per status tab, and the saved views.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxCounts {
    /// (status, unread conversations in it up to [`COUNT_CAP`]).
    pub unread: Vec<(crate::domain::Status, u32)>,
    pub views: Vec<SavedView>,
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

/// A canned response (a saved reply) as the composer's picker and the responses page show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponse {
    pub id: i64,
    /// Shared with everyone (no owner); admins keep these.
    pub shared: bool,
    /// What the agent types after `/` in the reply.
    pub shortcut: String,
    pub title: String,
    /// The text, with placeholders (`domain::canned::PLACEHOLDERS`).
    pub body: String,
    /// The viewer's own.
    pub mine: bool,
}

impl crate::domain::canned::Entry for CannedResponse {
    fn shortcut(&self) -> &str {
        &self.shortcut
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn personal(&self) -> bool {
        !self.shared
    }
}
