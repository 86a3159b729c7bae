//! Parsing one raw email with mail-parser, within bounds. No I/O; never panics on any input.
//!
//! mail-parser builds nested messages as nested values and, for a base64 or quoted-printable
//! `message/rfc822` part, parses the decoded bytes recursively; a crafted message nested a few
//! thousand levels deep then overflows the stack (in the parser and when the value is dropped),
//! which aborts the whole process. So this module:
//! - parses with `Content-Transfer-Encoding` read as a structured value, which makes
//!   mail-parser leave every body as it is on the wire and never parse a decoded body (its
//!   parse is otherwise iterative); bodies are decoded here with mail-parser's own decoders;
//! - never descends into attached messages (they become `.eml` attachments);
//! - takes the parsed message apart iteratively ([`teardown`]) instead of dropping it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::OnceLock;

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::parsers::MessageStream;
use mail_parser::{
    Address, HeaderForm, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders,
    PartType,
};
use sha2::{Digest, Sha256};

mod classify;
mod clean;
mod filename;
mod parts;
#[cfg(test)]
mod tests;

use classify::*;
use clean::*;
pub use filename::safe_filename;
use parts::*;

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

/// Longest Message-ID (or reference) kept.
const MAX_ID_CHARS: usize = 500;
const MAX_REFERENCES: usize = 100;
const MAX_RECIPIENTS: usize = 500;
const MAX_SUBJECT_CHARS: usize = 1000;
const MAX_NAME_CHARS: usize = 200;
const MAX_FILENAME_CHARS: usize = 120;

/// The de-duplication key of a raw message: `mid:<Message-ID>` or `sha256:<hex of the bytes>`.
pub fn dedupe_key(raw: &[u8]) -> String {
    let mid = MessageParser::default()
        .parse_headers(raw)
        .and_then(|m| clean_id(m.message_id()?));
    match mid {
        Some(id) => format!("mid:{id}"),
        None => {
            let digest = Sha256::digest(raw);
            let mut hex = String::with_capacity(7 + 64);
            hex.push_str("sha256:");
            for b in digest {
                hex.push_str(&format!("{b:02x}"));
            }
            hex
        }
    }
}

/// Parses `raw` within `limits`.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<ParsedEmail, EmailError> {
    if raw.len() > limits.max_bytes {
        return Err(EmailError(format!(
            "the message is {}, more than the {} limit for one message",
            size_in_words(raw.len()),
            size_in_words(limits.max_bytes)
        )));
    }
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(EmailError("not an email message: it is empty".into()));
    }
    let Some(message) = parser().parse(raw) else {
        return Err(EmailError(
            "not an email message: no header fields were found".into(),
        ));
    };
    let result = if message.parts.is_empty() {
        Err(EmailError(
            "not an email message: no header fields were found".into(),
        ))
    } else {
        Ok(extract(&message, raw, limits))
    };
    teardown(message);
    result
}

/// mail-parser with the headers this module reads parsed into structured values, and
/// Content-Transfer-Encoding read as a structured value so that mail-parser decodes no body
/// (see the module documentation).
fn parser() -> &'static MessageParser {
    static PARSER: OnceLock<MessageParser> = OnceLock::new();
    PARSER.get_or_init(|| {
        MessageParser::new()
            .with_mime_headers()
            .with_date_headers()
            .with_address_headers()
            .with_message_ids()
            .header_text(HeaderName::Subject)
            .header_text(HeaderName::Comments)
            .header_content_type(HeaderName::ContentTransferEncoding)
    })
}

/// Drops a parsed message without recursion (nested messages can be nested very deeply).
fn teardown(message: Message<'_>) {
    let mut stack = vec![message];
    while let Some(mut m) = stack.pop() {
        for p in m.parts.iter_mut() {
            if matches!(p.body, PartType::Message(_)) {
                if let PartType::Message(inner) = std::mem::take(&mut p.body) {
                    stack.push(inner);
                }
            }
        }
    }
}

fn size_in_words(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    } else if n >= 1024 {
        format!("{} KB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

// ---------------------------------------------------------------------------------------------
// Putting it together.

fn extract(message: &Message<'_>, raw: &[u8], limits: &Limits) -> ParsedEmail {
    let mut truncated = Vec::new();
    let parts = &message.parts;

    // Which parts are within the limits: walk the MIME tree from the root, depth first.
    let mut visible = vec![false; parts.len()];
    let mut parent: Vec<Option<usize>> = vec![None; parts.len()];
    let mut order = Vec::new();
    let mut too_deep = 0usize;
    let mut too_many = false;
    let mut stack: Vec<(usize, usize, Option<usize>)> = vec![(0, 0, None)];
    while let Some((id, depth, up)) = stack.pop() {
        let Some(part) = parts.get(id) else { continue };
        if visible[id] {
            continue;
        }
        if depth > limits.max_depth {
            too_deep += 1;
            continue;
        }
        if order.len() >= limits.max_parts {
            too_many = true;
            break;
        }
        visible[id] = true;
        parent[id] = up;
        order.push(id);
        if let PartType::Multipart(children) = &part.body {
            for &c in children.iter().rev() {
                stack.push((c as usize, depth + 1, Some(id)));
            }
        }
    }
    if too_deep > 0 {
        truncated.push(format!(
            "Some MIME parts are nested more than {} levels deep; they were left out.",
            limits.max_depth
        ));
    }
    if too_many {
        truncated.push(format!(
            "The message has more than {} MIME parts; only the first {} were read.",
            limits.max_parts, limits.max_parts
        ));
    }
    let is_visible = |id: &u32| visible.get(*id as usize).copied().unwrap_or(false);

    // Text: the text/plain body parts, or the HTML ones as text.
    let text_ids: Vec<usize> = message
        .text_body
        .iter()
        .filter(|id| is_visible(id))
        .map(|&id| id as usize)
        .filter(|&id| matches!(parts[id].body, PartType::Text(_)))
        .collect();
    let html_ids: Vec<usize> = message
        .html_body
        .iter()
        .filter(|id| is_visible(id))
        .map(|&id| id as usize)
        .filter(|&id| matches!(parts[id].body, PartType::Html(_)))
        .collect();
    let html_raw: Option<String> = (!html_ids.is_empty()).then(|| {
        html_ids
            .iter()
            .map(|&id| part_text(raw, &parts[id]))
            .collect::<Vec<_>>()
            .concat()
    });
    let mut text = if !text_ids.is_empty() {
        let mut t = String::new();
        for &id in &text_ids {
            let p = part_text(raw, &parts[id]);
            if !t.is_empty() {
                t.push_str("\n\n");
            }
            t.push_str(p.trim_end_matches(['\r', '\n']));
        }
        t
    } else if let Some(h) = &html_raw {
        mail_parser::decoders::html::html_to_text(h)
    } else {
        String::new()
    };
    text = clean_text(&text);
    if let Some((cut, _)) = text.char_indices().nth(limits.max_text_chars) {
        let total = text.chars().count();
        text.truncate(cut);
        truncated.push(format!(
            "The text has {total} characters; only the first {} are kept.",
            limits.max_text_chars
        ));
    }

    let html = html_raw.map(|h| {
        let (clean, note) = super::sanitize::sanitize_with_note(&h);
        truncated.extend(note);
        clean.replace('\0', "")
    });

    // Content-IDs the HTML shows.
    let cids = RefCell::new(HashSet::new());
    if let Some(h) = &html {
        let _ = super::sanitize::rewrite_cid(h, &|cid: &str| {
            cids.borrow_mut().insert(cid.trim().to_ascii_lowercase());
            None
        });
    }
    let cids = cids.into_inner();

    // Attachments.
    let body_ids: HashSet<usize> = text_ids.iter().chain(&html_ids).copied().collect();
    let mut attachments = Vec::new();
    for &id in &order {
        let part = &parts[id];
        if id == 0 && !matches!(part.body, PartType::Binary(_) | PartType::InlineBinary(_)) {
            continue;
        }
        if body_ids.contains(&id) || matches!(part.body, PartType::Multipart(_)) {
            continue;
        }
        let mt = mime_type(part);
        let is_message = matches!(part.body, PartType::Message(_))
            || mt
                .as_ref()
                .is_some_and(|(t, s)| t == "message" && (s == "rfc822" || s == "global"));
        let disposition = part.content_disposition();
        let is_attachment = disposition.is_some_and(|d| d.is_attachment());
        let content_id = part
            .content_id()
            .and_then(clean_address)
            .filter(|c| c.chars().count() <= MAX_ID_CHARS);
        let referenced = content_id
            .as_ref()
            .is_some_and(|c| cids.contains(&c.to_ascii_lowercase()));
        let name = part.attachment_name().filter(|n| !n.trim().is_empty());
        let is_report_part = mt.as_ref().is_some_and(|(t, s)| {
            matches!(
                (t.as_str(), s.as_str()),
                ("message", "delivery-status")
                    | ("message", "global-delivery-status")
                    | ("message", "disposition-notification")
                    | ("message", "global-disposition-notification")
                    | ("text", "rfc822-headers")
                    | ("message", "global-headers")
            )
        });
        let binary = matches!(part.body, PartType::Binary(_) | PartType::InlineBinary(_));
        let wanted = name.is_some()
            || is_attachment
            || referenced
            || is_message
            || (binary && !is_report_part);
        if !wanted {
            continue;
        }
        let content_type = if is_message {
            "message/rfc822".to_string()
        } else {
            mt.map(|(t, s)| format!("{t}/{s}"))
                .unwrap_or_else(|| "application/octet-stream".into())
        };
        let data: Vec<u8> = if is_message {
            let boundary = parent[id]
                .and_then(|up| parts[up].content_type())
                .and_then(|ct| ct.attribute("boundary"));
            let (bytes, hid_more) = message_bytes(raw, part, boundary);
            if hid_more {
                truncated.push(
                    "An attached message is encoded without a blank line before the next \
                     MIME boundary; a part after it may be missing."
                        .into(),
                );
            }
            bytes
        } else if matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
            part_text(raw, part).into_owned().into_bytes()
        } else {
            decoded_body(raw, part).into_owned()
        };
        let filename = safe_filename(name.unwrap_or(""), attachments.len() + 1, &content_type);
        if data.len() > limits.max_attachment_bytes {
            truncated.push(format!(
                "The attachment \"{filename}\" ({}) was left out: it is larger than the {} limit.",
                size_in_words(data.len()),
                size_in_words(limits.max_attachment_bytes)
            ));
            continue;
        }
        let inline = referenced || disposition.is_some_and(|d| d.is_inline());
        attachments.push(ParsedAttachment {
            filename,
            content_type,
            content_id,
            inline,
            data,
        });
    }

    // Headers.
    let from = first_mailbox(message.from());
    let subject = message.subject().and_then(|s| {
        let c = clean_line(s, MAX_SUBJECT_CHARS);
        if s.chars().filter(|c| !c.is_control()).count() > MAX_SUBJECT_CHARS + 100 {
            truncated.push(format!(
                "The subject was cut to its first {MAX_SUBJECT_CHARS} characters."
            ));
        }
        c
    });
    let recipients = recipients(message, &mut truncated);
    let date = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| d.to_timestamp().checked_mul(1000));
    let mut references = ids(message.references());
    if references.len() > MAX_REFERENCES {
        // Keep the thread's root and its most recent ancestors.
        let tail = references.split_off(references.len() - (MAX_REFERENCES - 1));
        references.truncate(1);
        references.extend(tail);
    }
    let mut in_reply_to = ids(message.in_reply_to());
    in_reply_to.truncate(MAX_REFERENCES);

    let (auto, bounce) = classify(
        message,
        raw,
        &order,
        &parent,
        from.as_ref(),
        subject.as_deref(),
        &text,
    );

    ParsedEmail {
        message_id: message.message_id().and_then(clean_id),
        from,
        reply_to: first_mailbox(message.reply_to()),
        recipients,
        subject,
        date,
        in_reply_to,
        references,
        text,
        html,
        attachments,
        auto,
        bounce,
        truncated,
    }
}

fn recipients(message: &Message<'_>, truncated: &mut Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |a: &Address<'_>, out: &mut Vec<String>| {
        for addr in a.iter() {
            if let Some(s) = addr.address().and_then(clean_address) {
                if seen.insert(s.to_ascii_lowercase()) {
                    out.push(s);
                }
            }
        }
    };
    for name in [HeaderName::To, HeaderName::Cc] {
        for v in message.header_values(name) {
            if let Some(a) = v.as_address() {
                add(a, &mut out);
            }
        }
    }
    for name in [
        HeaderName::DeliveredTo,
        HeaderName::Other("X-Original-To".into()),
        HeaderName::Other("Envelope-To".into()),
    ] {
        for v in message.header_as(name, HeaderForm::Addresses) {
            if let Some(a) = v.as_address() {
                add(a, &mut out);
            }
        }
    }
    if out.len() > MAX_RECIPIENTS {
        truncated.push(format!(
            "The message names {} recipients; only the first {MAX_RECIPIENTS} were kept.",
            out.len()
        ));
        out.truncate(MAX_RECIPIENTS);
    }
    out
}
