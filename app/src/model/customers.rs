//! The customer panel: identifiers, merges and merge suggestions.

use crate::domain::{ChannelKind, IdentifierKind};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentifierView {
    pub id: i64,
    pub kind: IdentifierKind,
    pub value: String,
    pub label: String,
    /// False when it joined by threading (a reply from an address we did not know): an agent
    /// should confirm it belongs to this customer.
    pub verified: bool,
    /// Its consent when not the default: "Opted out (texted STOP) · 2026-11-22 14:05 UTC".
    pub consent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerView {
    pub id: i64,
    pub name: String,
    pub preferred_channel: Option<ChannelKind>,
    /// What the customer chose on their preference center page, in words: "Quiet hours
    /// 22:00–08:00 (Europe/Madrid), marketing at most once a week".
    #[serde(default)]
    pub chosen: Option<String>,
    pub identifiers: Vec<IdentifierView>,
    pub channels_used: Vec<ChannelKind>,
    /// Set when this customer was merged into another: the panel links there.
    pub merged_into: Option<CustomerRef>,
    /// Customers merged into this one, newest first, each of which can be undone.
    pub merges: Vec<MergeView>,
    /// Other customers who may be the same person, with the reasons in words.
    pub suggestions: Vec<MergeSuggestion>,
}

/// Another customer, named, with the conversation to open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerRef {
    pub id: i64,
    pub name: String,
    pub conversation_id: Option<i64>,
}

/// A customer merged into the one shown; undone with `customer/unmerge`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeView {
    pub merge_id: i64,
    /// The customer that was merged in (and comes back on undo).
    pub customer: CustomerRef,
    pub actor_name: Option<String>,
    pub created_at: i64,
}

/// A customer who may be the same person as the one shown. Never applied by itself: the agent
/// merges or dismisses it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeSuggestion {
    pub customer: CustomerRef,
    /// Why, in words: "Has the same number +15550102000 as a WhatsApp number".
    pub reasons: Vec<String>,
}
