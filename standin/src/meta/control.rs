//! The Meta stand-in's control endpoints: what a test (or the browser tests' harness) asks it
//! to do as Meta or as a customer.
//!
//! - `POST /_standin/meta/subscribe` `{object, id, url, app_secret, access_token,
//!   verify_token, name?, display_phone_number?, receipts?}`: registers a page or phone number
//!   and runs Meta's verification of `url` (`GET url?hub.mode=subscribe&hub.challenge=…&
//!   hub.verify_token=…`); answers `{verified, status, body}`.
//! - `POST /_standin/meta/inbound` `{id, from, name?, text?, media?: {content_type, base64,
//!   filename?}, mid?, timestamp?}`: a customer's message as Meta posts it for that object
//!   type, signed; answers `{status, body, id, payload}`. Reusing `mid` replays a message.
//! - `POST /_standin/meta/raw` `{id, body, signature?}`: posts exactly `body`, signed with the
//!   registered app secret unless `signature` is given; answers `{status, body}`.
//! - `POST /_standin/meta/next_message_id` `{id, message_id}`: the next send for `id` answers
//!   with this message id (a report about it can then be posted first).

use super::{new_message_id, post_signed, save_subscription, subscription, Subscription};
use crate::{now_ms, StandIn};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn routes() -> Router<StandIn> {
    Router::new()
        .route("/_standin/meta/subscribe", post(subscribe))
        .route("/_standin/meta/inbound", post(inbound))
        .route("/_standin/meta/raw", post(raw))
        .route("/_standin/meta/next_message_id", post(next_message_id))
}

/// A file the stand-in holds for a WhatsApp media id.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Media {
    /// The phone number id whose token may read it.
    pub owner: String,
    pub mime_type: String,
    /// Hex SHA-256, as the media lookup answers it.
    pub sha256: String,
    pub file_size: usize,
    /// Where the bytes are in the stand-in's file store.
    pub path: String,
}

pub fn media(s: &StandIn, id: &str) -> Option<Media> {
    serde_json::from_value(s.config(&format!("meta:media:{id}"))?).ok()
}

/// The message id the next send for `id` answers with, if a test set one.
pub fn take_next_id(s: &StandIn, id: &str) -> Option<String> {
    let key = format!("meta:next:{id}");
    let v = s.config(&key)?.as_str().map(str::to_string);
    s.set_config(&key, Value::Null);
    v.filter(|v| !v.is_empty())
}

/// WhatsApp's envelope around one `value` (messages, contacts, statuses).
pub fn whatsapp_envelope(sub: &Subscription, mut value: Value) -> Value {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({
        "display_phone_number": sub.display_phone_number.clone().unwrap_or_else(|| "15550100000".into())
            .chars().filter(char::is_ascii_digit).collect::<String>(),
        "phone_number_id": sub.id,
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": format!("{}0", sub.id), "changes": [{"value": value, "field": "messages"}]}]
    })
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, Json(json!({ "error": why }))).into_response()
}

async fn subscribe(State(s): State<StandIn>, Json(mut sub): Json<Subscription>) -> Response {
    if !["page", "instagram", "whatsapp_business_account"].contains(&sub.object.as_str()) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "object must be page, instagram or whatsapp_business_account",
        );
    }
    if sub.id.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "id is required");
    }
    sub.verified = false;
    let (mut status, mut body) = (0u16, String::new());
    if !sub.url.is_empty() {
        let challenge = (rand::random::<u32>() % 1_000_000_000).to_string();
        let r = s
            .client
            .get(&sub.url)
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.challenge", challenge.as_str()),
                ("hub.verify_token", sub.verify_token.as_str()),
            ])
            .send()
            .await;
        match r {
            Ok(r) => {
                status = r.status().as_u16();
                body = r.text().await.unwrap_or_default();
            }
            Err(e) => body = e.to_string(),
        }
        sub.verified = status == 200 && body == challenge;
    }
    save_subscription(&s, &sub);
    Json(json!({"verified": sub.verified, "status": status, "body": body})).into_response()
}

#[derive(Deserialize)]
struct InboundFile {
    content_type: String,
    base64: String,
    #[serde(default)]
    filename: Option<String>,
}

#[derive(Deserialize)]
struct Inbound {
    id: String,
    from: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    media: Option<InboundFile>,
    #[serde(default)]
    mid: Option<String>,
    /// Unix ms; now by default.
    #[serde(default)]
    timestamp: Option<i64>,
}

async fn inbound(State(s): State<StandIn>, Json(req): Json<Inbound>) -> Response {
    let Some(sub) = subscription(&s, &req.id) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no subscription for this id: POST /_standin/meta/subscribe first",
        );
    };
    let file = match &req.media {
        Some(f) => match base64::engine::general_purpose::STANDARD.decode(f.base64.trim()) {
            Ok(data) => Some((f, data)),
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &format!("media.base64: {e}")),
        },
        None => None,
    };
    let now = req.timestamp.unwrap_or_else(now_ms);
    let mid = req
        .mid
        .clone()
        .unwrap_or_else(|| match sub.object.as_str() {
            "instagram" => format!("aWdf{}", new_message_id(false).trim_start_matches("m_")),
            _ => new_message_id(sub.whatsapp()),
        });
    let payload = if sub.whatsapp() {
        whatsapp_inbound(&s, &sub, &req, file, &mid, now)
    } else {
        page_inbound(&s, &sub, &req, file, &mid, now)
    };
    let (status, body) = post_signed(&s, &sub, payload.to_string().into_bytes(), None).await;
    Json(json!({"status": status, "body": body, "id": mid, "payload": payload})).into_response()
}

/// `image`, `video`, `audio` or the fallback for other types (`file` / `document`).
fn media_kind(ct: &str, other: &'static str) -> &'static str {
    match ct.split('/').next().unwrap_or("") {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => other,
    }
}

fn page_inbound(
    s: &StandIn,
    sub: &Subscription,
    req: &Inbound,
    file: Option<(&InboundFile, Vec<u8>)>,
    mid: &str,
    now: i64,
) -> Value {
    let mut message = json!({ "mid": mid });
    if let Some(t) = &req.text {
        message["text"] = json!(t);
    }
    if let Some((f, data)) = file {
        let name = f.filename.clone().unwrap_or_else(|| "file".into());
        let name: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect();
        let url = s.put_file(
            &format!("/_standin/files/meta/{}/{name}", s.next()),
            &f.content_type,
            data,
        );
        message["attachments"] =
            json!([{"type": media_kind(&f.content_type, "file"), "payload": {"url": url}}]);
    }
    json!({"object": sub.object, "entry": [{"id": sub.id, "time": now, "messaging": [{
        "sender": {"id": req.from}, "recipient": {"id": sub.id}, "timestamp": now, "message": message
    }]}]})
}

fn whatsapp_inbound(
    s: &StandIn,
    sub: &Subscription,
    req: &Inbound,
    file: Option<(&InboundFile, Vec<u8>)>,
    mid: &str,
    now: i64,
) -> Value {
    let from: String = req.from.chars().filter(char::is_ascii_digit).collect();
    let mut message = json!({"from": from, "id": mid, "timestamp": (now / 1000).to_string()});
    if let Some((f, data)) = file {
        let kind = media_kind(&f.content_type, "document");
        let media_id = format!("{}", 900_000_000_000_000u64 + s.next());
        let digest = Sha256::digest(&data);
        let path = format!("/_standin/files/meta-wa/{media_id}");
        let stored = Media {
            owner: sub.id.clone(),
            mime_type: f.content_type.clone(),
            sha256: hex::encode(digest),
            file_size: data.len(),
            path: path.clone(),
        };
        s.put_file(&path, &f.content_type, data);
        s.set_config(&format!("meta:media:{media_id}"), json!(stored));
        let mut m = json!({
            "mime_type": f.content_type,
            "sha256": base64::engine::general_purpose::STANDARD.encode(digest),
            "id": media_id,
        });
        if let (Some(t), true) = (&req.text, kind != "audio") {
            m["caption"] = json!(t);
        }
        if kind == "document" {
            m["filename"] = json!(f.filename.clone().unwrap_or_else(|| "file".into()));
        }
        message["type"] = json!(kind);
        message[kind] = m;
    } else {
        message["type"] = json!("text");
        message["text"] = json!({"body": req.text.clone().unwrap_or_default()});
    }
    let mut value = json!({"messages": [message]});
    if let Some(n) = &req.name {
        value["contacts"] = json!([{"profile": {"name": n}, "wa_id": from}]);
    }
    super::control::whatsapp_envelope(sub, value)
}

#[derive(Deserialize)]
struct Raw {
    id: String,
    body: String,
    #[serde(default)]
    signature: Option<String>,
}

async fn raw(State(s): State<StandIn>, Json(req): Json<Raw>) -> Response {
    let Some(sub) = subscription(&s, &req.id) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no subscription for this id: POST /_standin/meta/subscribe first",
        );
    };
    let (status, body) = post_signed(&s, &sub, req.body.into_bytes(), req.signature).await;
    Json(json!({"status": status, "body": body})).into_response()
}

#[derive(Deserialize)]
struct NextId {
    id: String,
    message_id: String,
}

async fn next_message_id(State(s): State<StandIn>, Json(req): Json<NextId>) -> StatusCode {
    s.set_config(&format!("meta:next:{}", req.id), json!(req.message_id));
    StatusCode::NO_CONTENT
}
