//! One conversation: its timeline, the reply options and the detail the page opens with.

use super::{CustomerConsent, CustomerView, UserView};
use crate::domain::cursor::{Source, TimelineKey};
use crate::domain::{ChannelKind, DeliveryState, Direction, Status};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    pub direction: Direction,
    pub channel: ChannelKind,
    pub account_name: String,
    pub identifier: Option<String>,
    pub author_name: Option<String>,
    pub subject: Option<String>,
    pub body_text: String,
    pub delivery_state: DeliveryState,
    pub failure_reason: Option<String>,
    /// Where its delivery job stands, for outbound messages that have one.
    pub outbox: Option<OutboxState>,
    pub created_at: i64,
    /// The message has sanitised HTML, shown in a sandboxed frame at `/messages/{id}/body`.
    pub has_html: bool,
    /// An auto-reply, bulk mail or bounce: shown, never reopening anything.
    pub automatic: bool,
    pub attachments: Vec<AttachmentView>,
    /// The campaign that sent this message, or that this reply answers.
    pub campaign: Option<CampaignRef>,
}

/// A campaign named on the timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignRef {
    pub id: i64,
    pub name: String,
    /// The message is the customer's answer to the campaign (not the campaign's own).
    pub answer: bool,
}

/// Where an outbound message's delivery job stands, beyond its delivery state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OutboxState {
    /// A temporary failure: another attempt at this time (unix ms).
    Retrying { next_attempt_at: i64 },
    /// The provider may have it (the answer to the send was lost and it could not be looked
    /// up): the agent may send it again.
    Unknown,
    /// Failed: the agent may retry it.
    Failed,
    /// Cancelled by an agent: not sent, and no longer offered for retry.
    Cancelled,
}

/// A file that came with a message, downloaded from `/attachments/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub id: i64,
    pub kind: String,
    pub actor_name: Option<String>,
    pub body: Option<String>,
    /// One line describing the event, e.g. "Status changed to resolved".
    pub summary: String,
    /// A time the words end with, shown in the agent's time zone: when a snooze ends.
    pub until: Option<i64>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TimelineItem {
    Message(MessageView),
    Event(EventView),
}

impl TimelineItem {
    pub fn key(&self) -> TimelineKey {
        match self {
            TimelineItem::Message(m) => TimelineKey {
                at: m.created_at,
                source: Source::Message,
                id: m.id,
            },
            TimelineItem::Event(e) => TimelineKey {
                at: e.created_at,
                source: Source::Event,
                id: e.id,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelinePage {
    /// Oldest first, ready to display.
    pub items: Vec<TimelineItem>,
    /// Cursor to load the page before this one, when there are older items.
    pub older: Option<String>,
}

/// One entry of the composer's channel picker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplyOption {
    pub channel: ChannelKind,
    pub identifier_id: i64,
    pub account_id: i64,
    pub label: String,
    /// Why a reply cannot go out here now (opted out, 24-hour window closed), in words.
    pub unavailable: Option<String>,
    /// What the agent should know before writing (the window closes soon, a tag is used).
    pub notice: Option<String>,
    /// How the identifier is written ("+1 555 0100"); empty when the customer has none of
    /// this channel's kind (then `identifier_id` is 0 and the option is unavailable).
    pub identifier_label: String,
    /// The conversation was moved to this option, and the customer has not written on
    /// another channel since.
    pub moved_here: bool,
    /// The identifier joined by threading and nobody confirmed it is the customer's: never
    /// the default, and a reply to it must be confirmed (`confirm_unverified`).
    pub unverified: bool,
}

impl ReplyOption {
    /// Form value of this option: `account:identifier`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.account_id, self.identifier_id)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub id: i64,
    pub status: Status,
    pub snoozed_until: Option<i64>,
    pub assignee_id: Option<i64>,
    pub customer: CustomerView,
    pub reply_options: Vec<ReplyOption>,
    /// Key of the default reply option (channel of the last inbound message).
    pub default_reply: Option<String>,
    /// Staff the conversation can be assigned to.
    pub agents: Vec<UserView>,
    /// Consent of every identifier of the customer, with its history (the panel shows it).
    pub consent: CustomerConsent,
    /// Reply accounts whose provider is failing now: (account id, what the composer says, the
    /// next attempt, shown in the agent's zone).
    pub failing_accounts: Vec<(i64, String, i64)>,
    /// The conversation's labels, and every label there is (to add one).
    #[serde(default)]
    pub labels: Vec<crate::model::Label>,
    #[serde(default)]
    pub all_labels: Vec<crate::model::Label>,
    /// Whether a website chat names a site an invitation can open ("Invite to website chat").
    #[serde(default)]
    pub chat_invite: bool,
}
