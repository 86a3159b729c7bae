//! Parsing one raw email with mail-parser, within bounds. No I/O; never panics on any input.

/// Bounds on what one message may cost to parse.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_parts: usize,
    pub max_text_chars: usize,
    pub max_attachment_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 25 * 1024 * 1024,
            max_depth: 12,
            max_parts: 256,
            max_text_chars: 100_000,
            max_attachment_bytes: 20 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// As written (not normalised).
    pub address: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutoKind {
    /// Auto-Submitted other than `no`, X-Autoreply, X-Autorespond.
    AutoReply,
    /// Precedence bulk / junk / list, List-Id, List-Unsubscribe without being personal.
    Bulk,
    /// A delivery status notification (see [`Bounce`]).
    Bounce,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounce {
    /// The Message-ID (no angle brackets) of the message that bounced, when the report carries it.
    pub original_message_id: Option<String>,
    pub recipient: Option<String>,
    /// `failed`, `delayed`, `delivered`, ... from the Action field.
    pub action: String,
    /// Human words: Diagnostic-Code or Status, e.g. `550 5.1.1 user unknown`.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAttachment {
    pub filename: String,
    pub content_type: String,
    pub content_id: Option<String>,
    pub inline: bool,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedEmail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    /// Every address it was sent to: To, Cc, Delivered-To, X-Original-To (to find reply tokens).
    pub recipients: Vec<String>,
    pub subject: Option<String>,
    /// Unix ms from the Date header, if valid.
    pub date: Option<i64>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The text part, or the HTML converted to text; bounded.
    pub text: String,
    /// The HTML part already sanitised by [`super::sanitize::sanitize`].
    pub html: Option<String>,
    pub attachments: Vec<ParsedAttachment>,
    pub auto: Option<AutoKind>,
    pub bounce: Option<Bounce>,
    /// Parts or bytes left out because of [`Limits`], in words, for the agent.
    pub truncated: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EmailError(pub String);

/// The de-duplication key of a raw message: `mid:<Message-ID>` or `sha256:<hex of the bytes>`.
pub fn dedupe_key(raw: &[u8]) -> String {
    let _ = raw;
    unimplemented!("helper")
}

pub fn parse(raw: &[u8], limits: &Limits) -> Result<ParsedEmail, EmailError> {
    let _ = (raw, limits);
    unimplemented!("helper")
}
