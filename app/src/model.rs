//! Data shapes that cross the wire between server functions and the browser. None of them
//! carries a secret: password hashes and channel credentials live in server-only row types.

use crate::domain::cursor::{Source, TimelineKey};
use crate::domain::{ChannelKind, DeliveryState, Direction, IdentifierKind, Role, Status};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
}

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
    pub unread: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    /// Cursor for the next (older) page, when there is one.
    pub next: Option<String>,
}

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
    pub created_at: i64,
    /// The message has sanitised HTML, shown in a sandboxed frame at `/messages/{id}/body`.
    pub has_html: bool,
    /// An auto-reply, bulk mail or bounce: shown, never reopening anything.
    pub automatic: bool,
    pub attachments: Vec<AttachmentView>,
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
    pub identifiers: Vec<IdentifierView>,
    pub channels_used: Vec<ChannelKind>,
    /// Set when this customer was merged into another: the panel links there.
    pub merged_into: Option<CustomerRef>,
    /// Customers merged into this one, newest first, each of which can be undone.
    pub merges: Vec<MergeView>,
    /// Other customers who may be the same person, with the reasons in words.
    pub suggestions: Vec<MergeSuggestion>,
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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelAccountView {
    pub id: i64,
    pub channel: ChannelKind,
    pub provider: String,
    pub name: String,
    pub address: String,
    pub enabled: bool,
    pub state: String,
    pub state_detail: Option<String>,
}

/// A message as the customer sees it on the playground.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundMessage {
    pub id: i64,
    /// `in` = written by the customer, `out` = received from the business.
    pub direction: Direction,
    pub body_text: String,
    pub delivery_state: DeliveryState,
    pub created_at: i64,
}

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

/// How a mail client secures its connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    #[default]
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    Starttls,
    /// No encryption: only for servers on this machine or a private network.
    None,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Tls => "tls",
            TlsMode::Starttls => "starttls",
            TlsMode::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<TlsMode> {
        match s {
            "tls" => Some(TlsMode::Tls),
            "starttls" => Some(TlsMode::Starttls),
            "none" => Some(TlsMode::None),
            _ => None,
        }
    }
}

/// An email channel account's settings as stored in `channel_accounts.settings` (the browser
/// may see these). Passwords live in [`crate::store::channel_accounts`] secrets, never here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailSettings {
    pub from_name: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub imap_tls: TlsMode,
    pub imap_user: String,
    /// The folder to import and watch, usually `INBOX`.
    pub imap_folder: String,
    /// First import: `None` imports everything, `Some("2026-01-31")` mail since that day.
    #[serde(default)]
    pub import_since: Option<String>,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: TlsMode,
    pub smtp_user: String,
}

/// Where one mailbox's sync stands, for the admin page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MailboxStatus {
    pub folder: String,
    /// `starting`, `connecting`, `importing`, `idle`, `polling`, `error` or `disabled`.
    pub phase: String,
    /// Messages in the current import pass and how many of them are stored.
    pub total: i64,
    pub done: i64,
    /// The server's own words when something failed.
    pub detail: Option<String>,
    pub last_success_at: Option<i64>,
}

/// The consent of every identifier of one customer, for the customer panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerConsent {
    pub customer_id: i64,
    pub identifiers: Vec<IdentifierConsent>,
    /// Older changes exist than the histories list.
    pub truncated: bool,
}

/// One identifier's consent for each purpose, and every change to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentifierConsent {
    pub id: i64,
    pub kind: IdentifierKind,
    pub value: String,
    pub support: ConsentHolds,
    pub marketing: ConsentHolds,
    /// Newest first.
    pub history: Vec<ConsentChange>,
}

/// What holds for one identifier and purpose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentHolds {
    pub status: crate::domain::consent::ConsentStatus,
    /// The change that set it, when one was recorded.
    pub since: Option<ConsentChange>,
}

/// One recorded consent change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentChange {
    pub id: i64,
    pub purpose: crate::domain::consent::Purpose,
    pub granted: bool,
    /// The source in words: "texted STOP", "set by Sam Support", "email unsubscribe link".
    pub how: String,
    /// The reason given (an agent's words, an import's detail), if any.
    pub reason: Option<String>,
    /// The staff member who recorded it.
    pub who: Option<String>,
    pub at: i64,
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
