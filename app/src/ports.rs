//! What the channel adapters (in the server crate) and the core exchange: the raw payloads
//! they store, the messages they read out of them, the files they fetch, and the outbound job
//! a sender delivers. Types only, server-only; the adapters' traits are in the server's
//! `channels` module.

use crate::domain::{ChannelKind, DeliveryState, IdentifierKind};

// ---- Raw payloads, stored exactly as received before any processing ---------------------

/// A stored raw payload, as a receiver parses it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RawInbound {
    pub id: i64,
    pub channel_account_id: i64,
    pub content_type: String,
    pub payload: Vec<u8>,
    pub attempts: i64,
    /// When we stored it (unix ms): the message time for providers that send none (Twilio).
    pub received_at: i64,
}

/// One webhook payload to store (a burst of them is stored in one transaction).
#[derive(Clone, Debug)]
pub struct NewRaw {
    pub account_id: i64,
    /// Unique per account: the same payload posted again is a duplicate.
    pub dedupe_key: String,
    pub content_type: String,
    pub payload: Vec<u8>,
}

/// One payload of a mailbox batch (all of one account and content type); `error` stores it
/// straight into the failed list (e.g. over a size limit), kept for a person to see.
pub struct BatchItem {
    pub dedupe_key: String,
    pub payload: Vec<u8>,
    pub error: Option<String>,
}

// ---- What a payload means -------------------------------------------------------------

/// What one raw payload means.
#[derive(Clone, Debug, PartialEq)]
pub enum InboundEvent {
    Message(Box<InboundMessage>),
    /// A provider's report about one of our outbound messages.
    Status {
        provider_message_id: String,
        state: DeliveryState,
        reason: Option<String>,
    },
    /// The customer has read everything we sent them up to `watermark` (unix ms), as
    /// Messenger and Instagram report reads: by time, for one recipient, without message ids.
    ReadUpTo {
        /// The recipient's identifier value (PSID / IGSID).
        identifier: String,
        watermark: i64,
    },
    /// Nothing to do (our own mail, a report about nothing we sent); the reason is kept on
    /// the raw row.
    Ignored(String),
}

/// A message a customer sent, as every channel adapter reads it out of a payload; the core
/// threads it into the customer's one conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundMessage {
    pub identifier_kind: IdentifierKind,
    /// As the provider gave it; normalised when stored.
    pub identifier: String,
    pub display_name: Option<String>,
    /// Unique per channel account; duplicates of it are ignored.
    pub provider_message_id: String,
    pub subject: Option<String>,
    pub body_text: String,
    /// Already sanitised HTML (email); shown in a sandboxed frame.
    pub body_html: Option<String>,
    pub received_at: i64,
    /// Channel threading facts; empty for channels that have none.
    pub thread: ThreadHints,
    /// Auto-replies, bulk mail and bounces: stored and shown, but never reopen a conversation.
    pub automatic: bool,
    /// Channel-specific facts kept as JSON on the message (`messages.meta`).
    pub meta: Option<serde_json::Value>,
    pub attachments: Vec<NewAttachment>,
    /// Files the provider holds for us (a URL or a media id): the inbound worker downloads
    /// them with the channel's media fetcher, within size limits, before storing the message.
    pub media: Vec<MediaRef>,
}

/// A file held by the provider, to be downloaded by the channel adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    /// An URL (Twilio, Messenger) or the provider's media id (WhatsApp, Telegram file_id).
    pub locator: String,
    pub content_type: Option<String>,
    pub filename: Option<String>,
}

/// What else, besides the sender's identifier, tells which conversation a message belongs to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThreadHints {
    /// This message's own RFC 5322 Message-ID, without angle brackets.
    pub rfc_message_id: Option<String>,
    /// Message-IDs it answers: In-Reply-To first, then References from newest to oldest.
    pub refs: Vec<String>,
    /// A conversation named by a verified reply-address token.
    pub token_conversation: Option<i64>,
}

/// A file that came with an inbound message (or an agent attached to a reply).
#[derive(Clone, Debug, PartialEq)]
pub struct NewAttachment {
    /// Already made safe for a Content-Disposition header and a file system.
    pub filename: String,
    pub content_type: String,
    /// The `Content-ID` (without angle brackets) that inline `cid:` references use.
    pub content_id: Option<String>,
    pub data: Vec<u8>,
}

// ---- Outbound: what a sender delivers --------------------------------------------------

/// What an adapter needs to deliver one message.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub message_id: i64,
    pub conversation_id: i64,
    pub channel: ChannelKind,
    pub account_id: i64,
    /// The recipient identifier's normalised value (email, E.164 phone, provider id).
    pub to: String,
    pub subject: Option<String>,
    pub body_text: String,
    /// What this message answers on its channel (email threading).
    pub reply: ReplyContext,
    /// Files the agent attached.
    pub files: Vec<OutboundFile>,
    /// When the recipient identifier last wrote to us (unix ms): the 24-hour windows.
    pub last_inbound_at: Option<i64>,
    /// The recipient identifier (consent is kept per identifier) and how it is written.
    pub identifier_id: i64,
    pub recipient_label: String,
    /// Who holds the recipient identifier now (the preference center's links name them).
    pub customer_id: i64,
    /// An automatic answer (an SMS HELP reply): exempt from consent and windows.
    pub automatic: bool,
    /// A campaign's message: its topic's consent is checked instead of support's, and it may
    /// carry a WhatsApp template or an HTML part.
    pub campaign: Option<CampaignSend>,
}

/// What a campaign's message carries beyond a reply's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignSend {
    pub campaign_id: i64,
    pub purpose: crate::domain::consent::Purpose,
    pub extra: CampaignExtra,
}

/// The part of a campaign message stored as JSON (`campaign_messages.payload`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CampaignExtra {
    /// WhatsApp: the approved template sent instead of free text.
    pub template: Option<TemplateSend>,
    /// Email: the HTML part beside the text.
    pub html: Option<String>,
}

/// An approved WhatsApp template with its parameters filled.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TemplateSend {
    pub name: String,
    pub language: String,
    pub params: Vec<String>,
}

/// A file attached to an outbound message.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct OutboundFile {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The customer's last message on the same channel, for threading headers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplyContext {
    /// Its RFC Message-ID (no angle brackets).
    pub in_reply_to: Option<String>,
    /// Its References followed by its own Message-ID, oldest first.
    pub references: Vec<String>,
    pub subject: Option<String>,
}
