//! The WhatsApp receiver: `entry[].changes[]` with `field: "messages"`, whose `value` holds
//! the customers' messages (`messages[]`, names in `contacts[]`) and reports about ours
//! (`statuses[]`). Files are media ids, downloaded later by the media fetcher; message kinds
//! without text (location, contacts, reactions, buttons) become a short note.

use super::fields::{self, id, int};
use super::graph::describe;
use super::webhook::envelope;
use super::Product;
use crate::channels::{ParseError, Receiver};
use app::domain::{DeliveryState, IdentifierKind};
use app::ports::InboundEvent;
use app::ports::RawInbound;
use app::ports::{InboundMessage, MediaRef};
use app::store::channel_accounts::AccountRow;
use serde_json::{json, Value};
use std::collections::HashMap;

pub struct WhatsappReceiver;

impl Receiver for WhatsappReceiver {
    fn parse(&self, _: &AccountRow, raw: &RawInbound) -> Result<Vec<InboundEvent>, ParseError> {
        parse(&raw.payload, raw.received_at).map_err(ParseError)
    }
}

/// Everything one stored batch means. `received_at` is used for messages without a time.
pub fn parse(body: &[u8], received_at: i64) -> Result<Vec<InboundEvent>, String> {
    let v = envelope(Product::Whatsapp, body)?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (i, entry) in v["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let whose = format!("entry[{i}]");
        if !entry.is_object() {
            return Err(format!("{whose} is not an object"));
        }
        for (j, change) in fields::array(entry, "changes", &whose)?.iter().enumerate() {
            let whose = format!("{whose}.changes[{j}]");
            if !change.is_object() {
                return Err(format!("{whose} is not an object"));
            }
            match fields::text(change, "field") {
                Some("messages") | None => {}
                Some(other) => {
                    skipped.push(format!("a {other:?} change"));
                    continue;
                }
            }
            let value = change.get("value").filter(|v| v.is_object());
            let value = value.ok_or_else(|| format!("{whose}.value is not an object"))?;
            let whose = format!("{whose}.value");
            value_events(value, &whose, received_at, &mut out, &mut skipped)?;
        }
    }
    super::fields::ignore_if_empty(&mut out, skipped, "no messages or statuses");
    Ok(out)
}

fn value_events(
    value: &Value,
    whose: &str,
    received_at: i64,
    out: &mut Vec<InboundEvent>,
    skipped: &mut Vec<String>,
) -> Result<(), String> {
    let mut names = HashMap::new();
    for c in fields::array(value, "contacts", whose)? {
        let name = c.get("profile").and_then(|p| fields::text(p, "name"));
        if let (Some(wa_id), Some(name)) = (id(c.get("wa_id")), name) {
            names.insert(wa_id, name.to_string());
        }
    }
    for (k, m) in fields::array(value, "messages", whose)?.iter().enumerate() {
        let msg = message(m, &format!("{whose}.messages[{k}]"), &names, received_at)?;
        out.push(InboundEvent::Message(Box::new(msg)));
    }
    for (k, s) in fields::array(value, "statuses", whose)?.iter().enumerate() {
        let whose = format!("{whose}.statuses[{k}]");
        if !s.is_object() {
            return Err(format!("{whose} is not an object"));
        }
        let wamid = fields::text(s, "id").ok_or_else(|| format!("{whose} has no id"))?;
        let status = fields::text(s, "status").ok_or_else(|| format!("{whose} has no status"))?;
        let state = match status {
            "sent" => DeliveryState::Sent,
            "delivered" => DeliveryState::Delivered,
            "read" => DeliveryState::Read,
            "failed" => DeliveryState::Failed,
            other => {
                skipped.push(format!("a {other:?} status"));
                continue;
            }
        };
        let reason = (state == DeliveryState::Failed).then(|| {
            let errors = fields::array(s, "errors", &whose).unwrap_or(&[]);
            let words: Vec<String> = errors.iter().map(error_words).collect();
            if words.is_empty() {
                "WhatsApp reported that the message could not be delivered.".to_string()
            } else {
                words.join("; ")
            }
        });
        out.push(InboundEvent::Status {
            provider_message_id: wamid.to_string(),
            state,
            reason,
        });
    }
    for e in fields::array(value, "errors", whose)? {
        skipped.push(format!("an error report ({})", error_words(e)));
    }
    Ok(())
}

/// `{code, title, message, error_data: {details}}` in words.
pub fn error_words(e: &Value) -> String {
    let title = fields::text(e, "title")
        .or_else(|| fields::text(e, "message"))
        .unwrap_or("");
    let details = e
        .get("error_data")
        .and_then(|d| fields::text(d, "details"))
        .or_else(|| fields::text(e, "message"));
    describe("WhatsApp error", int(e.get("code")), None, title, details)
}

fn message(
    m: &Value,
    whose: &str,
    names: &HashMap<String, String>,
    received_at: i64,
) -> Result<InboundMessage, String> {
    if !m.is_object() {
        return Err(format!("{whose} is not an object"));
    }
    let from = id(m.get("from")).ok_or_else(|| format!("{whose} has no from"))?;
    let wamid = fields::text(m, "id").ok_or_else(|| format!("{whose} has no id"))?;
    let at = int(m.get("timestamp"))
        .and_then(|s| s.checked_mul(1000))
        .filter(|ms| *ms > 0)
        .unwrap_or(received_at);
    let ty = fields::text(m, "type").unwrap_or("unknown");
    let part = m.get(ty).unwrap_or(&Value::Null);
    let mut media = Vec::new();
    let mut meta = serde_json::Map::new();
    let body = match ty {
        "text" => fields::text(part, "body").unwrap_or("").to_string(),
        "image" | "video" | "audio" | "document" | "sticker" => {
            let caption = fields::text(part, "caption").unwrap_or("").to_string();
            match id(part.get("id")) {
                Some(media_id) => {
                    media.push(MediaRef {
                        locator: media_id,
                        content_type: fields::text(part, "mime_type").map(str::to_string),
                        filename: fields::text(part, "filename").map(str::to_string),
                    });
                    caption
                }
                None => fields::lines([format!("[{ty} without a media id]"), caption]),
            }
        }
        "location" => {
            let (lat, long) = (
                fields::coordinate(part.get("latitude")),
                fields::coordinate(part.get("longitude")),
            );
            let mut s = match (lat, long) {
                (Some(lat), Some(long)) => format!("[location {lat}, {long}"),
                _ => "[location".to_string(),
            };
            let place: Vec<&str> = ["name", "address"]
                .iter()
                .filter_map(|k| fields::text(part, k))
                .collect();
            if !place.is_empty() {
                s.push_str(&format!(": {}", place.join(", ")));
            }
            s + "]"
        }
        "contacts" => contacts(part),
        "reaction" => {
            if let Some(to) = fields::text(part, "message_id") {
                meta.insert("reaction_to".into(), json!(to));
            }
            match fields::text(part, "emoji") {
                Some(e) => format!("[reaction {e}]"),
                None => "[reaction removed]".into(),
            }
        }
        "interactive" => {
            let kind = fields::text(part, "type").unwrap_or("");
            let title = part.get(kind).and_then(|r| fields::text(r, "title"));
            match (kind, title) {
                ("list_reply", Some(t)) => format!("[list choice: {t}]"),
                (_, Some(t)) => format!("[button: {t}]"),
                _ => format!(
                    "[{} reply]",
                    if kind.is_empty() { "interactive" } else { kind }.replace('_', " ")
                ),
            }
        }
        "button" => match fields::text(part, "text").or_else(|| fields::text(part, "payload")) {
            Some(t) => format!("[button: {t}]"),
            None => "[button]".into(),
        },
        "unsupported" | "unknown" => {
            let why = fields::array(m, "errors", whose)
                .unwrap_or(&[])
                .first()
                .and_then(|e| fields::text(e, "title").or_else(|| fields::text(e, "message")));
            match why {
                Some(w) => format!("[a message WhatsApp cannot show here: {w}]"),
                None => "[a message WhatsApp cannot show here]".into(),
            }
        }
        other => {
            let other: String = other.chars().filter(|c| !c.is_control()).take(40).collect();
            format!("[{} message]", other.replace('_', " "))
        }
    };
    if let Some(reply_to) = m.get("context").and_then(|c| fields::text(c, "id")) {
        meta.insert("reply_to".into(), json!(reply_to));
    }
    // Numbers come as digits without "+"; the inbound worker puts them in E.164.
    let identifier = if !from.is_empty() && from.bytes().all(|b| b.is_ascii_digit()) {
        format!("+{from}")
    } else {
        from.clone()
    };
    Ok(InboundMessage {
        identifier_kind: IdentifierKind::Whatsapp,
        identifier,
        display_name: names.get(&from).cloned(),
        provider_message_id: wamid.to_string(),
        subject: None,
        body_text: body,
        body_html: None,
        received_at: at,
        thread: Default::default(),
        automatic: false,
        meta: (!meta.is_empty()).then_some(Value::Object(meta)),
        attachments: Vec::new(),
        media,
    })
}

/// Shared contact cards, one `[contact Name +phone, +phone]` line each.
fn contacts(part: &Value) -> String {
    let cards = part.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let lines = cards.iter().map(|c| {
        let mut words: Vec<String> = Vec::new();
        if let Some(name) = c
            .get("name")
            .and_then(|n| fields::text(n, "formatted_name"))
        {
            words.push(name.to_string());
        }
        let phones = c
            .get("phones")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let phones: Vec<&str> = phones
            .iter()
            .filter_map(|p| fields::text(p, "phone"))
            .collect();
        if !phones.is_empty() {
            words.push(phones.join(", "));
        }
        format!("[contact {}]", words.join(" "))
    });
    let text = fields::lines(lines);
    if text.is_empty() {
        "[contact]".into()
    } else {
        text.replace("[contact ]", "[contact]")
    }
}

#[cfg(test)]
#[path = "whatsapp_tests.rs"]
mod tests;
