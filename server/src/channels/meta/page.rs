//! The Messenger and Instagram receiver: `entry[].messaging[]` events, several per entry and
//! several entries per POST. Messages (text, files, other attachments in words), delivery
//! reports (`delivery.mids`), and reads (`read.watermark` on Messenger, `read.mid` on
//! Instagram). Echoes of what the page sent, and events we have no use for, are skipped.

use super::fields::{self, id, int};
use super::webhook::envelope;
use super::Product;
use crate::channels::{ParseError, Receiver};
use app::domain::{DeliveryState, IdentifierKind};
use app::ports::InboundEvent;
use app::ports::RawInbound;
use app::ports::{InboundMessage, MediaRef};
use app::store::channel_accounts::AccountRow;
use serde_json::{json, Value};

pub struct PageReceiver {
    product: Product,
}

impl PageReceiver {
    pub fn new(product: Product) -> PageReceiver {
        PageReceiver { product }
    }
}

impl Receiver for PageReceiver {
    fn parse(&self, _: &AccountRow, raw: &RawInbound) -> Result<Vec<InboundEvent>, ParseError> {
        parse(self.product, &raw.payload, raw.received_at).map_err(ParseError)
    }
}

/// Everything one stored batch means. `received_at` is used for events without a time.
pub fn parse(product: Product, body: &[u8], received_at: i64) -> Result<Vec<InboundEvent>, String> {
    let v = envelope(product, body)?;
    let kind = match product {
        Product::Instagram => IdentifierKind::Instagram,
        _ => IdentifierKind::Messenger,
    };
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
        let time = int(entry.get("time")).unwrap_or(received_at);
        let messaging = fields::array(entry, "messaging", &whose)?;
        if messaging.is_empty() {
            skipped.push(match entry.get("standby") {
                Some(_) => "standby events (another app owns the conversation)".to_string(),
                None => "an entry without messaging events".to_string(),
            });
        }
        for (j, ev) in messaging.iter().enumerate() {
            let whose = format!("{whose}.messaging[{j}]");
            event(kind, ev, &whose, time, &mut out, &mut skipped)?;
        }
    }
    super::fields::ignore_if_empty(&mut out, skipped, "no events");
    Ok(out)
}

fn event(
    kind: IdentifierKind,
    ev: &Value,
    whose: &str,
    default_time: i64,
    out: &mut Vec<InboundEvent>,
    skipped: &mut Vec<String>,
) -> Result<(), String> {
    if !ev.is_object() {
        return Err(format!("{whose} is not an object"));
    }
    let sender = || id(ev.get("sender").and_then(|s| s.get("id")));
    let need_sender = || sender().ok_or_else(|| format!("{whose} has no sender.id"));
    if let Some(m) = ev.get("message") {
        if !m.is_object() {
            return Err(format!("{whose}.message is not an object"));
        }
        if m.get("is_echo").and_then(Value::as_bool) == Some(true) {
            skipped.push("an echo of a message the page sent".into());
            return Ok(());
        }
        if m.get("is_deleted").and_then(Value::as_bool) == Some(true) {
            skipped.push("a message the customer unsent".into());
            return Ok(());
        }
        let mid = id(m.get("mid")).ok_or_else(|| format!("{whose}.message has no mid"))?;
        let from = need_sender()?;
        let at = int(ev.get("timestamp")).unwrap_or(default_time);
        out.push(InboundEvent::Message(Box::new(message(
            kind, m, &mid, &from, at, whose,
        )?)));
    } else if let Some(d) = ev.get("delivery") {
        let mids = fields::array(d, "mids", &format!("{whose}.delivery"))?;
        if mids.is_empty() {
            skipped.push("a delivery report without message ids".into());
        }
        for mid in mids {
            let mid =
                id(Some(mid)).ok_or_else(|| format!("{whose}.delivery.mids holds a non-id"))?;
            out.push(InboundEvent::Status {
                provider_message_id: mid,
                state: DeliveryState::Delivered,
                reason: None,
            });
        }
    } else if let Some(r) = ev.get("read") {
        let watermark = int(r.get("watermark"));
        let mid = id(r.get("mid"));
        if let Some(watermark) = watermark {
            out.push(InboundEvent::ReadUpTo {
                identifier: need_sender()?,
                watermark,
            });
        }
        if let Some(mid) = mid.clone() {
            // Instagram's messaging_seen names the message that was seen.
            out.push(InboundEvent::Status {
                provider_message_id: mid,
                state: DeliveryState::Read,
                reason: None,
            });
        }
        if watermark.is_none() && mid.is_none() {
            skipped.push("a read report without a watermark or message id".into());
        }
    } else {
        let what = ev
            .as_object()
            .and_then(|o| {
                o.keys()
                    .find(|k| !matches!(k.as_str(), "sender" | "recipient" | "timestamp"))
                    .cloned()
            })
            .unwrap_or_else(|| "empty".into());
        skipped.push(format!("a {what:?} event"));
    }
    Ok(())
}

fn message(
    kind: IdentifierKind,
    m: &Value,
    mid: &str,
    from: &str,
    at: i64,
    whose: &str,
) -> Result<InboundMessage, String> {
    let mut parts = Vec::new();
    if let Some(t) = fields::text(m, "text") {
        parts.push(t.to_string());
    }
    let mut media = Vec::new();
    for (k, a) in fields::array(m, "attachments", &format!("{whose}.message"))?
        .iter()
        .enumerate()
    {
        if !a.is_object() {
            return Err(format!("{whose}.message.attachments[{k}] is not an object"));
        }
        let ty = fields::text(a, "type").unwrap_or("unknown");
        let payload = a.get("payload").unwrap_or(&Value::Null);
        let url = fields::text(payload, "url").filter(|u| is_http(u));
        match (ty, url) {
            ("image" | "video" | "audio" | "file", Some(url)) => media.push(MediaRef {
                locator: url.to_string(),
                content_type: Some(guess_type(ty, url).to_string()),
                filename: None,
            }),
            ("location", _) => {
                let c = payload.get("coordinates").unwrap_or(&Value::Null);
                let (lat, long) = (
                    fields::coordinate(c.get("lat")),
                    fields::coordinate(c.get("long")),
                );
                parts.push(match (lat, long) {
                    (Some(lat), Some(long)) => format!("[location {lat}, {long}]"),
                    _ => "[location]".into(),
                });
            }
            ("fallback", url) => {
                let title = fields::text(payload, "title").or_else(|| fields::text(a, "title"));
                parts.push(note("link", title, url));
            }
            (other, url) => parts.push(note(other, None, url)),
        }
    }
    let body_text = fields::lines(parts);
    let body_text = if body_text.is_empty() && media.is_empty() {
        "[a message with nothing that can be shown here]".to_string()
    } else {
        body_text
    };
    let mut meta = serde_json::Map::new();
    if let Some(r) = m.get("reply_to").and_then(|r| id(r.get("mid"))) {
        meta.insert("reply_to".into(), json!(r));
    }
    if let Some(p) = m
        .get("quick_reply")
        .and_then(|q| fields::text(q, "payload"))
    {
        meta.insert("quick_reply".into(), json!(p));
    }
    Ok(InboundMessage {
        identifier_kind: kind,
        identifier: from.to_string(),
        display_name: None,
        provider_message_id: mid.to_string(),
        subject: None,
        body_text,
        body_html: None,
        received_at: at,
        thread: Default::default(),
        automatic: false,
        meta: (!meta.is_empty()).then_some(Value::Object(meta)),
        attachments: Vec::new(),
        media,
    })
}

/// `[kind title url]`, whatever is known.
fn note(kind: &str, title: Option<&str>, url: Option<&str>) -> String {
    let kind: String = kind.chars().filter(|c| !c.is_control()).take(40).collect();
    let mut s = format!("[{}", kind.replace('_', " "));
    for part in [title, url].into_iter().flatten() {
        s.push(' ');
        s.extend(part.chars().filter(|c| !c.is_control()).take(500));
    }
    s.push(']');
    s
}

pub fn is_http(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The content type of a Messenger attachment: by the URL's extension when it has a known
/// one, else by the attachment's type.
pub fn guess_type(ty: &str, url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let file = path.rsplit('/').next().unwrap_or("");
    let ext = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let by_ext = match ext.as_deref() {
        Some("jpg" | "jpeg") => Some("image/jpeg"),
        Some("png") => Some("image/png"),
        Some("gif") => Some("image/gif"),
        Some("webp") => Some("image/webp"),
        Some("mp4") if ty == "audio" => Some("audio/mp4"),
        Some("mp4") => Some("video/mp4"),
        Some("mov") => Some("video/quicktime"),
        Some("mp3") => Some("audio/mpeg"),
        Some("m4a" | "aac") => Some("audio/mp4"),
        Some("ogg" | "oga") => Some("audio/ogg"),
        Some("wav") => Some("audio/wav"),
        Some("pdf") => Some("application/pdf"),
        Some("txt") => Some("text/plain"),
        _ => None,
    };
    by_ext.unwrap_or(match ty {
        "image" => "image/jpeg",
        "video" => "video/mp4",
        "audio" => "audio/mpeg",
        _ => "application/octet-stream",
    })
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
