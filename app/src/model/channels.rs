//! Channel accounts in the admin page.

use crate::domain::ChannelKind;
use serde::{Deserialize, Serialize};

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

/// One row of the channel list: the account and, for mailboxes, where the sync stands
/// ([`MailboxStatus`], flattened; `phase` is None before the first start).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelRow {
    pub id: i64,
    pub channel: ChannelKind,
    pub provider: String,
    pub name: String,
    pub address: String,
    pub enabled: bool,
    pub state: String,
    pub state_detail: Option<String>,
    pub phase: Option<String>,
    pub total: i64,
    pub done: i64,
    pub detail: Option<String>,
    pub last_success_at: Option<i64>,
    /// A messaging provider account's webhook URL, to paste into the provider's console.
    pub webhook_url: Option<String>,
    /// How its outgoing messages are doing.
    pub delivery: DeliveryHealth,
}

/// How a channel account's outgoing messages are doing: while its provider fails, messages wait
/// for another attempt; those that ran out of time are failed and can be retried at once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryHealth {
    /// Messages waiting for another attempt after a temporary failure.
    pub retrying: i64,
    /// The latest error among those.
    pub last_error: Option<String>,
    /// The earliest next attempt among those.
    pub next_attempt_at: Option<i64>,
    /// Failed messages that can be retried.
    pub failed: i64,
}

impl DeliveryHealth {
    /// The provider is failing now (messages wait for another attempt).
    pub fn failing(&self) -> bool {
        self.retrying > 0
    }
}

/// The channel section of the admin page in one answer: the list, and the form asked for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelsView {
    pub rows: Vec<ChannelRow>,
    /// The email account being edited as its form shows it (password fields always empty).
    pub edit: Option<EmailForm>,
    pub imap_password_saved: bool,
    pub smtp_password_saved: bool,
    /// The provider account form asked for (`add` or `edit_provider`).
    pub provider: Option<super::ProviderFormView>,
}

/// The email account form as submitted: text, checked on the server. `id` is empty for a new
/// account; `import` is `all` or `since` (then `import_since` is `YYYY-MM-DD`); blank passwords
/// keep the saved ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    pub id: String,
    pub name: String,
    pub address: String,
    pub from_name: String,
    pub imap_host: String,
    pub imap_port: String,
    pub imap_tls: String,
    pub imap_user: String,
    pub imap_password: String,
    pub imap_folder: String,
    pub import: String,
    pub import_since: String,
    pub smtp_host: String,
    pub smtp_port: String,
    pub smtp_tls: String,
    pub smtp_user: String,
    pub smtp_password: String,
}

/// An inbound payload that could not be processed, kept raw with its error (admins only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedEvent {
    pub id: i64,
    /// The channel account's name.
    pub account: String,
    pub provider: String,
    pub received_at: i64,
    pub attempts: i64,
    pub error: String,
    /// The payload's size in bytes.
    pub size: i64,
    /// The start of the payload as text (control characters shown as U+FFFD).
    pub preview: String,
}
