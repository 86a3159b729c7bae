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
// Cleaning header values.

/// A Message-ID without brackets, when it is usable as a key.
fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if id.is_empty()
        || id.chars().count() > MAX_ID_CHARS
        || id.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return None;
    }
    Some(id.to_string())
}

/// Invisible characters that reorder or hide text (bidi overrides, zero-width marks).
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{061c}')
}

/// Text for one line of display: control characters become spaces, whitespace collapses.
fn clean_line(s: &str, max_chars: usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut space = false;
    let mut count = 0;
    for c in s.chars() {
        if is_format_char(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if count >= max_chars {
            break;
        }
        if space {
            out.push(' ');
            count += 1;
            space = false;
        }
        out.push(c);
        count += 1;
    }
    (!out.is_empty()).then_some(out)
}

/// An address as written, without whitespace or control characters.
fn clean_address(s: &str) -> Option<String> {
    let a: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && !is_format_char(*c))
        .take(MAX_ID_CHARS)
        .collect();
    let a = a.trim_start_matches('<').trim_end_matches('>').to_string();
    (!a.is_empty()).then_some(a)
}

/// Body text: NUL and other control characters (but tab and line breaks) removed.
fn clean_text(s: &str) -> String {
    s.chars()
        .filter(|&c| (!c.is_control() || matches!(c, '\n' | '\r' | '\t')) && c != '\u{feff}')
        .collect()
}

fn first_mailbox(addr: Option<&Address<'_>>) -> Option<Mailbox> {
    addr?.iter().find_map(|a| {
        let address = clean_address(a.address()?)?;
        Some(Mailbox {
            address,
            name: a.name().and_then(|n| clean_line(n, MAX_NAME_CHARS)),
        })
    })
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .unwrap_or_default()
        .iter()
        .filter_map(|id| clean_id(id))
        .collect()
}

/// A root header by name (any case).
fn root_header<'a>(message: &'a Message<'_>, name: &str) -> Option<&'a HeaderValue<'a>> {
    message
        .headers()
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(|h| &h.value)
}

fn root_text(message: &Message<'_>, name: &str) -> Option<String> {
    match root_header(message, name)? {
        HeaderValue::Text(t) => Some(t.trim().to_string()),
        HeaderValue::TextList(l) => l.first().map(|t| t.trim().to_string()),
        HeaderValue::Address(_) => Some(String::from("address")),
        HeaderValue::Empty => Some(String::new()),
        _ => Some(String::from("value")),
    }
}

// ---------------------------------------------------------------------------------------------
// Parts: their type, their decoded bytes.

fn mime_type(part: &MessagePart<'_>) -> Option<(String, String)> {
    let ct = part.content_type()?;
    let t = ct.ctype().trim().to_ascii_lowercase();
    let s = ct.subtype()?.trim().to_ascii_lowercase();
    let token = |x: &str| {
        !x.is_empty()
            && x.len() <= 64
            && x.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    (token(&t) && token(&s)).then_some((t, s))
}

fn is_type(part: &MessagePart<'_>, t: &str, s: &[&str]) -> bool {
    mime_type(part).is_some_and(|(pt, ps)| pt == t && s.contains(&ps.as_str()))
}

fn transfer_encoding(part: &MessagePart<'_>) -> Option<String> {
    part.headers
        .iter()
        .find(|h| h.name == HeaderName::ContentTransferEncoding)
        .map(|h| match &h.value {
            HeaderValue::ContentType(ct) => ct.ctype().trim().to_ascii_lowercase(),
            HeaderValue::Text(t) => t.trim().to_ascii_lowercase(),
            _ => String::new(),
        })
}

/// The part's body as transmitted.
fn raw_body<'a>(raw: &'a [u8], part: &MessagePart<'_>) -> &'a [u8] {
    let (s, e) = (part.offset_body as usize, part.offset_end as usize);
    raw.get(s..e.max(s)).unwrap_or_default()
}

/// The part's body with its Content-Transfer-Encoding undone (as the bytes were, when the
/// encoding is broken).
fn decoded_body<'a>(raw: &'a [u8], part: &'a MessagePart<'a>) -> Cow<'a, [u8]> {
    let body = raw_body(raw, part);
    let decoded = match transfer_encoding(part).as_deref() {
        Some("base64") => MessageStream::new(body).decode_base64_mime(b""),
        Some("quoted-printable") => MessageStream::new(body).decode_quoted_printable_mime(b""),
        _ => {
            return match &part.body {
                PartType::Binary(b) | PartType::InlineBinary(b) => Cow::Borrowed(b.as_ref()),
                PartType::Text(t) | PartType::Html(t) => Cow::Borrowed(t.as_bytes()),
                _ => Cow::Borrowed(body),
            }
        }
    };
    match decoded {
        (usize::MAX, _) => Cow::Borrowed(body),
        (_, bytes) => Cow::Owned(bytes.into_owned()),
    }
}

/// A text part's content as Unicode.
fn part_text<'a>(raw: &'a [u8], part: &'a MessagePart<'a>) -> Cow<'a, str> {
    if !matches!(
        transfer_encoding(part).as_deref(),
        Some("base64") | Some("quoted-printable")
    ) {
        if let PartType::Text(t) | PartType::Html(t) = &part.body {
            return Cow::Borrowed(t.as_ref());
        }
    }
    let bytes = decoded_body(raw, part);
    let decoder = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .and_then(|c| charset_decoder(c.trim().as_bytes()));
    match decoder {
        Some(d) => Cow::Owned(d(&bytes)),
        None => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// The Message-ID in a block of headers (an attached message or `text/rfc822-headers`).
fn message_id_in(bytes: &[u8]) -> Option<String> {
    MessageParser::default()
        .parse_headers(bytes)
        .and_then(|m| clean_id(m.message_id()?))
}

/// The bytes of an attached message part, decoded, and whether mail-parser's view of the parts
/// after it is unreliable.
///
/// mail-parser (as configured here, decoding nothing) reads an encoded `message/rfc822` part
/// as a message whose header block is the encoded text; when no blank line follows that text,
/// the header block runs over the next boundary and the part after it. The encoded text itself
/// ends at the parent's boundary, found here with mail-parser's decoder, as its normal parse
/// does.
fn message_bytes(raw: &[u8], part: &MessagePart<'_>, boundary: Option<&str>) -> (Vec<u8>, bool) {
    let cte = transfer_encoding(part);
    if !matches!(cte.as_deref(), Some("base64") | Some("quoted-printable")) {
        return (raw_body(raw, part).to_vec(), false);
    }
    let start = part.offset_body as usize;
    let Some(from_body) = raw.get(start..) else {
        return (Vec::new(), false);
    };
    let boundary = boundary.unwrap_or("").as_bytes();
    let mut stream = MessageStream::new(from_body);
    let (end, bytes) = if cte.as_deref() == Some("base64") {
        stream.decode_base64_mime(boundary)
    } else {
        stream.decode_quoted_printable_mime(boundary)
    };
    if end == usize::MAX {
        return (decoded_body(raw, part).into_owned(), false);
    }
    // What mail-parser took for this part beyond the encoded text: more than the closing
    // delimiter means it swallowed something.
    let seen_end = (part.offset_end as usize).max(start);
    let extra = seen_end.saturating_sub(start + end);
    (bytes.into_owned(), extra > boundary.len() + 8)
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

// ---------------------------------------------------------------------------------------------
// Automatic mail and bounces.

fn classify(
    message: &Message<'_>,
    raw: &[u8],
    order: &[usize],
    parent: &[Option<usize>],
    from: Option<&Mailbox>,
    subject: Option<&str>,
    text: &str,
) -> (Option<AutoKind>, Option<Bounce>) {
    let parts = &message.parts;
    let root = &parts[0];
    let report_type = |part: &MessagePart<'_>| {
        part.content_type()
            .filter(|_| is_type(part, "multipart", &["report"]))
            .and_then(|ct| ct.attribute("report-type"))
            .map(|r| r.trim().to_ascii_lowercase())
    };
    let is_dsn = order.iter().any(|&id| {
        report_type(&parts[id])
            .is_some_and(|r| r == "delivery-status" || r == "global-delivery-status")
    });
    let is_mdn = report_type(root).is_some_and(|r| r == "disposition-notification");

    // The attached original (its Message-ID), for bounces.
    let original_id = || {
        order.iter().find_map(|&id| {
            let p = &parts[id];
            if matches!(p.body, PartType::Message(_))
                || is_type(p, "message", &["rfc822", "global", "global-headers"])
            {
                let boundary = parent[id]
                    .and_then(|up| parts[up].content_type())
                    .and_then(|ct| ct.attribute("boundary"));
                message_id_in(&message_bytes(raw, p, boundary).0)
            } else if is_type(p, "text", &["rfc822-headers"]) {
                message_id_in(&decoded_body(raw, p))
            } else {
                None
            }
        })
    };

    if is_dsn {
        let bounce = order
            .iter()
            .find(|&&id| {
                is_type(
                    &parts[id],
                    "message",
                    &["delivery-status", "global-delivery-status"],
                )
            })
            .map(|&id| {
                let mut b = dsn_bounce(&decoded_body(raw, &parts[id]));
                b.original_message_id = original_id();
                b
            });
        return (Some(AutoKind::Bounce), bounce);
    }

    // Bounces from mail systems that do not send RFC 3464 reports.
    let daemon = from.is_some_and(|f| {
        let local = f
            .address
            .split('@')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        local == "mailer-daemon" || local == "postmaster"
    });
    let bounce_subject = subject.is_some_and(|s| {
        let s = s.to_ascii_lowercase();
        [
            "undelivered mail returned to sender",
            "delivery status notification (failure)",
            "mail delivery failed",
            "undeliverable:",
            "returned mail:",
            "failure notice",
            "delivery failure",
        ]
        .iter()
        .any(|p| s.starts_with(p))
    });
    if daemon && bounce_subject {
        let bounce = original_id().map(|orig| Bounce {
            original_message_id: Some(orig),
            recipient: None,
            action: "failed".into(),
            reason: smtp_error_line(text)
                .or_else(|| subject.map(str::to_string))
                .unwrap_or_else(|| "undeliverable".into()),
        });
        return (Some(AutoKind::Bounce), bounce);
    }

    let token = |v: &str| {
        v.split([';', '(', ' ', '\t'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let auto_submitted = root_text(message, "Auto-Submitted").is_some_and(|v| {
        let t = token(&v);
        !t.is_empty() && t != "no"
    });
    let x_auto = ["X-Autoreply", "X-Autorespond"].iter().any(|h| {
        root_text(message, h).is_some_and(|v| {
            let t = token(&v);
            t != "no" && t != "false" && t != "0"
        })
    });
    let precedence = root_text(message, "Precedence").map(|v| token(&v));
    if auto_submitted || x_auto || is_mdn || precedence.as_deref() == Some("auto_reply") {
        return (Some(AutoKind::AutoReply), None);
    }
    let bulk = matches!(precedence.as_deref(), Some("bulk" | "junk" | "list"))
        || root_header(message, "List-Id").is_some()
        || root_header(message, "List-Unsubscribe").is_some();
    if bulk {
        return (Some(AutoKind::Bulk), None);
    }
    (None, None)
}

/// The first line of `text` that reads like an SMTP error (`550 …`, `5.1.1 …`).
fn smtp_error_line(text: &str) -> Option<String> {
    text.lines().take(200).find_map(|l| {
        let has_code = l
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .any(|w| {
                let b = w.as_bytes();
                (b.len() == 3 && b[0] == b'5' && b.iter().all(u8::is_ascii_digit))
                    || (b.len() >= 5
                        && b[0] == b'5'
                        && b[1] == b'.'
                        && w.split('.').count() == 3
                        && w.split('.').all(|x| !x.is_empty()))
            });
        if has_code {
            clean_line(l, 1000)
        } else {
            None
        }
    })
}

/// The field groups of a `message/delivery-status` body (per-message, then per-recipient), read
/// with mail-parser's header parser one group at a time.
fn dsn_groups(bytes: &[u8]) -> Vec<Vec<(String, String)>> {
    let parser = MessageParser::default();
    let mut groups = Vec::new();
    let mut rest = bytes;
    for _ in 0..1000 {
        let skip = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        rest = &rest[skip..];
        if rest.is_empty() {
            break;
        }
        let Some(m) = parser.parse_headers(rest) else {
            break;
        };
        let Some(root) = m.parts.first() else { break };
        let fields: Vec<(String, String)> = root
            .headers
            .iter()
            .map(|h| {
                let v = rest
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                (
                    h.name.as_str().to_ascii_lowercase(),
                    clean_line(&v, 1000).unwrap_or_default(),
                )
            })
            .collect();
        let end = root
            .headers
            .iter()
            .map(|h| h.offset_end as usize)
            .max()
            .unwrap_or(0);
        if fields.is_empty() || end == 0 || end > rest.len() {
            break;
        }
        groups.push(fields);
        rest = &rest[end..];
    }
    groups
}

/// A typed field value without its type: `rfc822; a@b` → `a@b`, `smtp; 550 …` → `550 …`.
fn untyped(v: &str) -> &str {
    match v.split_once(';') {
        Some((ty, rest))
            if !ty.trim().is_empty()
                && ty.trim().len() <= 20
                && ty
                    .trim()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            rest.trim()
        }
        _ => v.trim(),
    }
}

fn dsn_bounce(body: &[u8]) -> Bounce {
    let groups = dsn_groups(body);
    let field = |g: &[(String, String)], name: &str| {
        g.iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let recipients: Vec<&Vec<(String, String)>> = groups
        .iter()
        .filter(|g| field(g, "final-recipient").is_some() || field(g, "action").is_some())
        .collect();
    let chosen = recipients
        .iter()
        .find(|g| field(g, "action").is_some_and(|a| a.eq_ignore_ascii_case("failed")))
        .or(recipients.first());
    let Some(g) = chosen else {
        return Bounce {
            original_message_id: None,
            recipient: None,
            action: "unknown".into(),
            reason: "a delivery report without recipient fields".into(),
        };
    };
    let recipient = field(g, "final-recipient")
        .or_else(|| field(g, "original-recipient"))
        .map(|r| untyped(&r).trim_matches(['<', '>']).to_string())
        .filter(|r| !r.is_empty());
    let action = field(g, "action")
        .map(|a| a.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "unknown".into());
    let reason = field(g, "diagnostic-code")
        .map(|d| untyped(&d).to_string())
        .filter(|d| !d.is_empty())
        .or_else(|| field(g, "status"))
        .unwrap_or_else(|| "no reason given".into());
    Bounce {
        original_message_id: None,
        recipient,
        action,
        reason,
    }
}

// ---------------------------------------------------------------------------------------------
// File names.

fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => ".png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "image/bmp" => ".bmp",
        "image/tiff" => ".tif",
        "image/svg+xml" => ".svg",
        "application/pdf" => ".pdf",
        "application/zip" => ".zip",
        "application/json" => ".json",
        "application/msword" => ".doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => ".docx",
        "application/vnd.ms-excel" => ".xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => ".xlsx",
        "text/plain" => ".txt",
        "text/html" => ".html",
        "text/csv" => ".csv",
        "text/calendar" => ".ics",
        "text/enriched" => ".txt",
        "message/rfc822" => ".eml",
        "audio/mpeg" | "audio/mp3" => ".mp3",
        "audio/basic" => ".au",
        "audio/wav" | "audio/x-wav" => ".wav",
        "video/mp4" => ".mp4",
        "video/avi" | "video/x-msvideo" => ".avi",
        _ => ".bin",
    }
}

/// A file name safe in a Content-Disposition header and on any file system: its last path
/// component, without control, format or reserved characters, whitespace collapsed, no leading
/// dots, at most 120 characters with the extension kept; else `attachment-N.<ext>`.
pub fn safe_filename(name: &str, n: usize, content_type: &str) -> String {
    let last = name
        .rsplit(['/', '\\'])
        .find(|c| !c.trim().is_empty())
        .unwrap_or("");
    let mut out = String::new();
    let mut space = false;
    for c in last.chars() {
        if c.is_control() || is_format_char(c) || "\\/:*?\"<>|".contains(c) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    let out = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    if out.is_empty() {
        return format!("attachment-{n}{}", extension_for(content_type));
    }
    if out.chars().count() <= MAX_FILENAME_CHARS {
        return out.to_string();
    }
    let ext = out
        .rfind('.')
        .map(|i| &out[i..])
        .filter(|e| e.chars().count() <= 16 && !e.contains(' '))
        .unwrap_or("");
    let stem_len = MAX_FILENAME_CHARS - ext.chars().count();
    let stem: String = out.chars().take(stem_len).collect();
    format!("{}{ext}", stem.trim_end_matches(['.', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn p(raw: &str) -> ParsedEmail {
        parse(raw.as_bytes(), &Limits::default()).expect("parses")
    }

    /// Runs `f` on a thread with the default 2 MiB stack, like tokio's workers.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn plain_mail() {
        let e = p("From: \"Ann Smith\" <ann@example.com>\r\nTo: Support <support@acme.test>, bob@acme.test\r\n\
                   Cc: carol@acme.test\r\nReply-To: ann.replies@example.com\r\nSubject: Hello there\r\n\
                   Date: Tue, 4 Mar 2025 10:00:00 +0100\r\nMessage-ID: <abc.123@example.com>\r\n\
                   In-Reply-To: <prev@acme.test>\r\nReferences: <root@acme.test>\r\n <prev@acme.test>\r\n\r\n\
                   Hi,\r\n\r\nmy order has not arrived.\r\n");
        assert_eq!(e.message_id.as_deref(), Some("abc.123@example.com"));
        assert_eq!(
            e.from,
            Some(Mailbox {
                address: "ann@example.com".into(),
                name: Some("Ann Smith".into())
            })
        );
        assert_eq!(e.reply_to.unwrap().address, "ann.replies@example.com");
        assert_eq!(
            e.recipients,
            ["support@acme.test", "bob@acme.test", "carol@acme.test"]
        );
        assert_eq!(e.subject.as_deref(), Some("Hello there"));
        assert_eq!(e.date, Some(1_741_078_800_000));
        assert_eq!(e.in_reply_to, ["prev@acme.test"]);
        assert_eq!(e.references, ["root@acme.test", "prev@acme.test"]);
        assert_eq!(e.text, "Hi,\r\n\r\nmy order has not arrived.");
        assert_eq!(e.html, None);
        assert!(e.attachments.is_empty() && e.auto.is_none() && e.bounce.is_none());
        assert!(e.truncated.is_empty());
    }

    #[test]
    fn delivered_to_and_friends_are_recipients() {
        let e = p("From: a@x.test\nTo: undisclosed-recipients:;\nDelivered-To: support+c5-abc@acme.test\n\
                   X-Original-To: help@acme.test\nEnvelope-To: other@acme.test\nSubject: s\n\nhi\n");
        assert_eq!(
            e.recipients,
            [
                "support+c5-abc@acme.test",
                "help@acme.test",
                "other@acme.test"
            ]
        );
    }

    #[test]
    fn alternative_uses_both() {
        let e = p("From: a@x.test\nSubject: alt\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n\
                   --b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n\
                   Caf=C3=A9 is open=\nly today.\n--b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n\
                   PHA+Q2Fmw6kgaXMgPGI+b3BlbjwvYj48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9wPg==\n--b--\n");
        assert_eq!(e.text, "Café is openly today.");
        assert_eq!(e.html.as_deref(), Some("<p>Café is <b>open</b></p>"));
        assert!(e.attachments.is_empty());
    }

    #[test]
    fn html_only_gives_text_too() {
        let raw = b"From: a@x.test\nContent-Type: text/html; charset=iso-8859-1\n\n<p>Gr&uuml;\xdfe <b>aus</b> K\xf6ln</p><script>x</script>";
        let e = parse(raw, &Limits::default()).unwrap();
        assert!(e.text.contains("Grüße aus Köln"), "{:?}", e.text);
        assert_eq!(e.html.as_deref(), Some("<p>Grüße <b>aus</b> Köln</p>"));
    }

    #[test]
    fn iso_8859_1_body() {
        let raw = b"From: a@x.test\nSubject: =?ISO-8859-1?Q?Caf=E9?=\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n\nd\xe9j\xe0 vu, \xa3 5\n";
        let e = parse(raw, &Limits::default()).unwrap();
        assert_eq!(e.text, "déjà vu, £ 5");
        assert_eq!(e.subject.as_deref(), Some("Café"));
        let raw = b"From: a@x.test\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nna=EFve\n";
        assert_eq!(parse(raw, &Limits::default()).unwrap().text, "naïve");
    }

    #[test]
    fn encoded_word_subject_and_names() {
        let e = p("From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@x.test>\nSubject: =?UTF-8?B?44GT44KT44Gr44Gh44Gv?= =?UTF-8?Q?_w=C3=B6rld?=\n\nx");
        assert_eq!(e.subject.as_deref(), Some("こんにちは wörld"));
        assert_eq!(e.from.unwrap().name.as_deref(), Some("Jürgen Müller"));
        // Encoded CR, LF and NUL never reach a header value.
        let e = p("From: =?UTF-8?Q?Eve=0D=0ABcc:_x@y?= <e@x.test>\nSubject: =?UTF-8?Q?a=00b=0D=0Ac?=\n\nx");
        assert_eq!(e.subject.as_deref(), Some("a b c"));
        assert_eq!(e.from.unwrap().name.as_deref(), Some("Eve Bcc: x@y"));
    }

    #[test]
    fn evil_filenames_are_made_safe() {
        let e = p("From: a@x.test\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n\
                   --b\nContent-Type: application/octet-stream; name=\"../../etc/passwd\"\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\nContent-Transfer-Encoding: base64\n\ncm9vdDp4OjA6MA==\n\
                   --b\nContent-Type: application/x-msdownload\nContent-Disposition: attachment; filename*=UTF-8''a%22b%0D%0A.exe\n\nMZ\n\
                   --b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"...\"\n\n%PDF\n\
                   --b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"invoice\u{202e}fdp.exe\"\n\nx\n--b--\n");
        assert_eq!(e.text, "see attached");
        let names: Vec<&str> = e.attachments.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(
            names,
            ["passwd", "ab.exe", "attachment-3.pdf", "invoicefdp.exe"]
        );
        assert_eq!(e.attachments[0].data, b"root:x:0:0");
        assert_eq!(e.attachments[0].content_type, "application/octet-stream");
        assert!(!e.attachments[0].inline);
        let e = p("From: a@x.test\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n\
                   --b\nContent-Type: application/octet-stream; name=\"=?UTF-8?Q?a=22b=0D=0A.exe?=\"\n\n\
                   MZ\n--b--\n");
        assert_eq!(e.attachments[0].filename, "ab.exe");
        assert_eq!(safe_filename("a\"b\r\n.exe", 1, ""), "ab.exe");
        assert_eq!(
            safe_filename("  ..hidden  file .txt", 1, "text/plain"),
            "hidden file .txt"
        );
        let long = format!("{}.pdf", "x".repeat(300));
        let s = safe_filename(&long, 1, "application/pdf");
        assert_eq!(s.chars().count(), 120);
        assert!(s.ends_with(".pdf"));
        assert_eq!(safe_filename("C:\\Users\\me\\a:b*c?.doc", 1, ""), "abc.doc");
        assert_eq!(safe_filename("", 7, "image/png"), "attachment-7.png");
        assert_eq!(safe_filename("", 2, "weird/type"), "attachment-2.bin");
    }

    #[test]
    fn inline_cid_image() {
        let e = p("From: a@x.test\nContent-Type: multipart/related; boundary=r\n\n--r\nContent-Type: text/html\n\n\
                   <p>Logo:<img src=\"cid:logo.1@x.test\" alt=logo></p>\n--r\nContent-Type: image/png\nContent-ID: <logo.1@x.test>\n\
                   Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--r--\n");
        assert_eq!(e.attachments.len(), 1);
        let a = &e.attachments[0];
        assert!(a.inline);
        assert_eq!(a.content_id.as_deref(), Some("logo.1@x.test"));
        assert_eq!(a.content_type, "image/png");
        assert_eq!(a.filename, "attachment-1.png");
        assert_eq!(a.data, b"\x89PNG\r\n\x1a\n");
        assert!(e.html.unwrap().contains("src=\"cid:logo.1@x.test\""));
    }

    #[test]
    fn missing_message_id_hashes_the_bytes() {
        let raw = b"From: a@x.test\nSubject: no id\n\nbody\n";
        let k = dedupe_key(raw);
        assert!(k.starts_with("sha256:") && k.len() == 7 + 64, "{k}");
        assert_eq!(k, dedupe_key(raw));
        assert_ne!(k, dedupe_key(b"From: a@x.test\nSubject: no id\n\nbody!\n"));
        assert_eq!(
            dedupe_key(b"Message-ID:   <x@y>  \nFrom: a@b\n\nz"),
            "mid:x@y"
        );
        let long = format!("Message-ID: <{}@y>\n\nz", "a".repeat(600));
        assert!(dedupe_key(long.as_bytes()).starts_with("sha256:"));
        assert!(dedupe_key(b"Message-ID: <>\n\nz").starts_with("sha256:"));
        assert!(dedupe_key(b"Message-ID: <a\x01b@c>\n\nz").starts_with("sha256:"));
        assert!(dedupe_key(b"").starts_with("sha256:"));
        assert_eq!(p("From: a@b\n\nx").message_id, None);
    }

    #[test]
    fn auto_replies_and_bulk() {
        let e = p("From: a@x.test\nAuto-Submitted: auto-replied\nSubject: Out of office\n\nAway.");
        assert_eq!(e.auto, Some(AutoKind::AutoReply));
        let e = p("From: a@x.test\nAuto-Submitted: no\nSubject: Hi\n\nx");
        assert_eq!(e.auto, None);
        let e = p("From: a@x.test\nX-Autoreply: yes\n\nx");
        assert_eq!(e.auto, Some(AutoKind::AutoReply));
        let e = p("From: a@x.test\nX-Auto-Response-Suppress: All\n\nx");
        assert_eq!(e.auto, None);
        let e = p("From: a@x.test\nPrecedence: bulk\n\nx");
        assert_eq!(e.auto, Some(AutoKind::Bulk));
        let e = p("From: a@x.test\nList-Unsubscribe: <mailto:u@x.test>\n\nx");
        assert_eq!(e.auto, Some(AutoKind::Bulk));
        let e = p("From: a@x.test\nList-Id: News <news.x.test>\n\nx");
        assert_eq!(e.auto, Some(AutoKind::Bulk));
    }

    const DSN: &str = "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n\
To: support@acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"B1\"\r\n\
Message-Id: <20250304.ABC@mx.example.net>\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n--B1\r\n\
Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
I'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n\
<nobody@example.net>: host mx.example.net said: 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown\r\n\r\n\
--B1\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.example.net\r\nX-Postfix-Queue-ID: 4Z0\r\nArrival-Date: Tue,  4 Mar 2025 10:00:00 +0000 (UTC)\r\n\r\n\
Final-Recipient: rfc822; nobody@example.net\r\nOriginal-Recipient: rfc822;nobody@example.net\r\nAction: Failed\r\n\
Status: 5.1.1\r\nRemote-MTA: dns; mx.example.net\r\nDiagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>:\r\n    Recipient address rejected: User unknown\r\n\r\n\
--B1\r\nContent-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n\
From: Support <support@acme.test>\r\nTo: nobody@example.net\r\nSubject: Re: your order\r\n\
Message-ID: <reply-42@acme.test>\r\n\r\nHello!\r\n\r\n--B1--\r\n";

    #[test]
    fn dsn_bounce_is_read() {
        let e = p(DSN);
        assert_eq!(e.auto, Some(AutoKind::Bounce));
        let b = e.bounce.expect("bounce");
        assert_eq!(b.original_message_id.as_deref(), Some("reply-42@acme.test"));
        assert_eq!(b.recipient.as_deref(), Some("nobody@example.net"));
        assert_eq!(b.action, "failed");
        assert_eq!(
            b.reason,
            "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown"
        );
        // The returned message is kept as an attachment; the report fields are not.
        assert_eq!(e.attachments.len(), 1);
        assert_eq!(e.attachments[0].content_type, "message/rfc822");
        assert!(e.attachments[0].filename.ends_with(".eml"));
        assert!(e.attachments[0].data.starts_with(b"From: Support"));
    }

    #[test]
    fn dsn_with_headers_only_and_status_only() {
        let raw = DSN
            .replace("Content-Type: message/rfc822", "Content-Type: text/rfc822-headers")
            .replace("Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>:\r\n    Recipient address rejected: User unknown\r\n", "");
        let b = p(&raw).bounce.unwrap();
        assert_eq!(b.original_message_id.as_deref(), Some("reply-42@acme.test"));
        assert_eq!(b.reason, "5.1.1");
    }

    #[test]
    fn non_standard_bounce() {
        let e = p("From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nSubject: Delivery Status Notification (Failure)\n\
                   Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n\
                   Address not found\nThe response was:\n550 5.1.1 The email account does not exist.\n--b\n\
                   Content-Type: message/rfc822\n\nMessage-ID: <orig@acme.test>\nSubject: x\n\nbody\n--b--\n");
        assert_eq!(e.auto, Some(AutoKind::Bounce));
        let b = e.bounce.unwrap();
        assert_eq!(b.original_message_id.as_deref(), Some("orig@acme.test"));
        assert_eq!(b.action, "failed");
        assert_eq!(b.reason, "550 5.1.1 The email account does not exist.");
    }

    #[test]
    fn oversized_is_refused_in_words() {
        let limits = Limits {
            max_bytes: 100,
            ..Limits::default()
        };
        let raw = format!("From: a@b\n\n{}", "x".repeat(200));
        let err = parse(raw.as_bytes(), &limits).unwrap_err();
        assert!(err.0.contains("more than the 100 bytes limit"), "{err}");
    }

    #[test]
    fn empty_and_garbage() {
        assert!(parse(b"", &Limits::default())
            .unwrap_err()
            .0
            .starts_with("not an email message"));
        assert!(parse(b" \r\n ", &Limits::default()).is_err());
        let mut seed = 7u64;
        for len in [1usize, 10, 100, 1000, 100_000] {
            let garbage: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 56) as u8
                })
                .collect();
            let _ = parse(&garbage, &Limits::default());
            let _ = dedupe_key(&garbage);
        }
    }

    #[test]
    fn text_and_attachments_are_bounded() {
        let limits = Limits {
            max_text_chars: 10,
            max_attachment_bytes: 4,
            ..Limits::default()
        };
        let raw = "From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\néééééééééééééééé\n\
                   --b\nContent-Type: application/pdf; name=big.pdf\n\n0123456789\n--b--\n";
        let e = parse(raw.as_bytes(), &limits).unwrap();
        assert_eq!(e.text, "éééééééééé");
        assert!(e.attachments.is_empty());
        assert_eq!(e.truncated.len(), 2, "{:?}", e.truncated);
        assert!(e.truncated[1].contains("big.pdf"));
    }

    #[test]
    fn many_parts_are_bounded() {
        let mut raw = String::from("From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n");
        for i in 0..2000 {
            raw.push_str(&format!(
                "--b\nContent-Type: application/octet-stream; name=f{i}.bin\n\nx\n"
            ));
        }
        raw.push_str("--b--\n");
        let e = p(&raw);
        assert_eq!(e.attachments.len(), 255);
        assert!(e
            .truncated
            .iter()
            .any(|t| t.contains("more than 256 MIME parts")));
    }

    fn nested_multipart(n: usize) -> String {
        let mut s = String::from("From: a@b\nSubject: deep\n");
        for i in 0..n {
            s.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"
            ));
        }
        s.push_str("Content-Type: text/plain\n\nhello\n");
        for i in (0..n).rev() {
            s.push_str(&format!("--b{i}--\n"));
        }
        s
    }

    fn nested_messages(n: usize) -> String {
        let mut s = String::from("From: a@b\nSubject: deep\nContent-Type: multipart/mixed; boundary=top\n\n--top\nContent-Type: text/plain\n\ntop text\n--top\n");
        for _ in 0..n {
            s.push_str("Content-Type: message/rfc822\n\n");
        }
        s.push_str("Content-Type: text/plain\n\nhello\n--top--\n");
        s
    }

    fn base64(data: &[u8]) -> String {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for (k, c) in data.chunks(3).enumerate() {
            let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
            let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            out.push(T[(v >> 18) as usize & 63] as char);
            out.push(T[(v >> 12) as usize & 63] as char);
            out.push(if c.len() > 1 {
                T[(v >> 6) as usize & 63] as char
            } else {
                '='
            });
            out.push(if c.len() > 2 {
                T[v as usize & 63] as char
            } else {
                '='
            });
            if k % 19 == 18 {
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn pathological_nesting_is_fast_and_safe() {
        let cases: Vec<(&str, String)> = vec![
            ("10,000 nested multiparts", nested_multipart(10_000)),
            ("100,000 nested messages", nested_messages(100_000)),
            (
                "a base64 message nesting 20,000 messages",
                format!(
                    "From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nsee\n--x\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{}\n--x--\n",
                    base64(nested_messages(20_000).as_bytes())
                ),
            ),
            ("a huge header line", format!("From: a@b\nSubject: {}\n\nx", "y".repeat(3_000_000))),
            ("many header lines", "X-A: b\n".repeat(300_000) + "\nbody"),
            ("a huge parameter list", format!("From: a@b\nContent-Type: text/plain{}\n\nx", "; a=b".repeat(200_000))),
        ];
        for (what, raw) in cases {
            let t = Instant::now();
            let r = on_small_stack(move || parse(raw.as_bytes(), &Limits::default()));
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "{what} took {:?}",
                t.elapsed()
            );
            if let Ok(e) = r {
                assert!(e.text.len() <= 400_000, "{what}");
            }
        }
        let e = on_small_stack(|| {
            parse(nested_multipart(10_000).as_bytes(), &Limits::default()).unwrap()
        });
        assert_eq!(e.text, "");
        assert!(
            e.truncated
                .iter()
                .any(|t| t.contains("nested more than 12 levels")),
            "{:?}",
            e.truncated
        );
        let e =
            on_small_stack(|| parse(nested_multipart(5).as_bytes(), &Limits::default()).unwrap());
        assert_eq!(e.text, "hello");
        let e = on_small_stack(|| {
            parse(nested_messages(100_000).as_bytes(), &Limits::default()).unwrap()
        });
        assert_eq!(e.text, "top text");
        assert_eq!(e.attachments.len(), 1);
    }

    fn mutate(base: &[u8], edits: &[(usize, u8, bool)]) -> Vec<u8> {
        let mut v = base.to_vec();
        for &(at, byte, insert) in edits {
            let at = at % (v.len() + 1);
            if insert || at == v.len() {
                v.insert(at, byte);
            } else {
                v[at] = byte;
            }
        }
        v
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn any_bytes_never_panic(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
            let _ = parse(&raw, &Limits::default());
            let k = dedupe_key(&raw);
            proptest::prop_assert_eq!(k, dedupe_key(&raw));
        }

        #[test]
        fn damaged_messages_never_panic(
            which in 0usize..4,
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::sample::select(b"\r\n-:;=<>\"\\ a0Bz\x00\xff".to_vec()), proptest::prelude::any::<bool>()), 0..12),
            cut in proptest::prelude::any::<usize>(),
        ) {
            let bases: [&[u8]; 4] = [
                DSN.as_bytes(),
                b"From: a@b\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9\n--b\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPHA+aGk8L3A+\n--b--\n",
                b"From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogb2xkCgpib2R5Cg==\n--x\nContent-Type: image/png; name=a.png\nContent-ID: <a@b>\n\nPNG\n--x--\n",
                b"From: a@b\nContent-Type: multipart/related; boundary=r\n\n--r\nContent-Type: text/html\n\n<blockquote>q</blockquote><p>a<img src=cid:a@b></p>\n--r\nContent-Type: image/png\nContent-ID: <a@b>\n\nx\n--r--\n",
            ];
            let mut raw = mutate(bases[which], &edits);
            raw.truncate(cut % (raw.len() + 1));
            if let Ok(e) = parse(&raw, &Limits::default()) {
                if let Some(h) = &e.html {
                    proptest::prop_assert!(!h.to_ascii_lowercase().contains("<script"));
                }
                for a in &e.attachments {
                    proptest::prop_assert!(!a.filename.is_empty() && !a.filename.contains(['/', '\\', '"', '\r', '\n']));
                }
            }
        }
    }

    #[test]
    fn forwarded_message_is_an_attachment() {
        let e = p("From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nFYI\n\
                   --b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n\
                   U3ViamVjdDogb2xkCk1lc3NhZ2UtSUQ6IDxvbGRAeD4KCm9sZCBib2R5Cg==\n--b--\n");
        assert_eq!(e.text, "FYI");
        assert_eq!(e.attachments.len(), 1);
        assert_eq!(
            e.attachments[0].data,
            b"Subject: old\nMessage-ID: <old@x>\n\nold body\n"
        );
        assert_eq!(e.attachments[0].filename, "attachment-1.eml");
        // Without a blank line before the next boundary, the part after it may be lost, but the
        // attached message is still read in full and the agent is told.
        let e = p("From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nFYI\n\
                   --b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n\
                   U3ViamVjdDogb2xkCk1lc3NhZ2UtSUQ6IDxvbGRAeD4KCm9sZCBib2R5Cg==\n--b\n\
                   Content-Type: application/pdf; name=a.pdf\n\n%PDF-1\n--b\nContent-Type: text/plain; name=b.txt\n\nbee\n--b--\n");
        assert_eq!(e.text, "FYI");
        assert_eq!(
            e.attachments[0].data,
            b"Subject: old\nMessage-ID: <old@x>\n\nold body\n"
        );
        assert!(e.attachments.iter().any(|a| a.filename == "b.txt"));
        assert!(
            e.truncated.iter().any(|t| t.contains("may be missing")),
            "{:?}",
            e.truncated
        );
    }
}
