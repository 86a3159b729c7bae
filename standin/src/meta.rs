//! Meta's Graph API as the stand-in plays it (see the module above), for Messenger, Instagram
//! and WhatsApp: the Send API (`POST /{version}/{id}/messages`, answered with Messenger's or
//! WhatsApp's JSON and followed by signed delivery webhooks), reading a page or phone number
//! (`GET /{version}/{id}`), the WhatsApp media lookup (`GET /{version}/{media_id}`) and the
//! file behind it. Every call needs the token registered for the id (`Authorization: Bearer`
//! or `access_token=`), as Graph does. The control endpoints under `/_standin/meta/` are in
//! `control`.

mod control;
mod receipts;

pub use receipts::post_signed;

use super::StandIn;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const PROVIDER: &str = "meta";
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";
/// Between a send's answer and its first delivery webhook, and between webhooks.
const RECEIPT_DELAY: Duration = Duration::from_millis(150);

pub fn routes() -> Router<StandIn> {
    Router::new()
        .route("/{version}/{id}", get(object))
        .route("/{version}/{id}/messages", post(send))
        .route("/_standin/meta/media/{media_id}", get(download))
        .merge(control::routes())
}

/// A page or phone number the stand-in knows, registered with `/_standin/meta/subscribe`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Subscription {
    /// `page`, `instagram` or `whatsapp_business_account`.
    pub object: String,
    /// The page id or phone number id.
    pub id: String,
    /// Our webhook URL.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub app_secret: String,
    #[serde(default)]
    pub access_token: String,
    #[serde(default)]
    pub verify_token: String,
    /// The page's name or the number's verified name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_phone_number: Option<String>,
    /// What follows a send: `none`, `delivered` or `read` (the default).
    #[serde(default = "read")]
    pub receipts: String,
    /// Whether our webhook passed Meta's verification (only then are receipts posted).
    #[serde(default)]
    pub verified: bool,
}

fn read() -> String {
    "read".into()
}

impl Subscription {
    pub fn whatsapp(&self) -> bool {
        self.object == WHATSAPP_OBJECT
    }
}

pub fn subscription(s: &StandIn, id: &str) -> Option<Subscription> {
    serde_json::from_value(s.config(&format!("meta:sub:{id}"))?).ok()
}

pub fn save_subscription(s: &StandIn, sub: &Subscription) {
    s.set_config(&format!("meta:sub:{}", sub.id), json!(sub));
}

/// Graph's error document.
pub fn error(
    status: StatusCode,
    kind: &str,
    code: i64,
    subcode: Option<i64>,
    message: &str,
    details: Option<&str>,
) -> Response {
    let mut e = json!({
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": format!("A{:x}", rand::random::<u64>()),
    });
    if let Some(sc) = subcode {
        e["error_subcode"] = json!(sc);
    }
    if let Some(d) = details {
        e["error_data"] = json!({"messaging_product": "whatsapp", "details": d});
    }
    let mut r = (status, Json(json!({ "error": e }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token\""
                .parse()
                .expect("valid header"),
        );
    }
    r
}

fn unsupported(method: &str, id: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "GraphMethodException",
        100,
        Some(33),
        &format!("Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"),
        None,
    )
}

/// The token of a request: `Authorization: Bearer …` or the `access_token` query parameter.
fn token_of(headers: &HeaderMap, query: &HashMap<String, String>) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    bearer
        .or_else(|| query.get("access_token").cloned())
        .filter(|t| !t.is_empty())
}

/// Checks the request's token against `expected`, as Graph does.
fn check_token(given: Option<String>, expected: &str) -> Result<(), Box<Response>> {
    match given {
        None => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            2500,
            None,
            "An active access token must be used to query information about the current user.",
            None,
        ))),
        Some(t) if !expected.is_empty() && t == expected => Ok(()),
        Some(_) => Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "OAuthException",
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
            None,
        ))),
    }
}

/// Messenger's message id or WhatsApp's wamid.
pub fn new_message_id(whatsapp: bool) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    if whatsapp {
        format!("wamid.HBgL{}", b64.encode(rand::random::<[u8; 30]>()))
    } else {
        format!(
            "m_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
        )
    }
}

/// The recipient and text of a Send API body, or Graph's refusal.
fn validate(sub: &Subscription, v: &Value) -> Result<String, Box<Response>> {
    let bad = |code: i64, message: &str, details: Option<&str>| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            code,
            None,
            message,
            details,
        ))
    };
    if sub.whatsapp() {
        if v.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
            return Err(bad(
                100,
                "(#100) The parameter messaging_product is required.",
                None,
            ));
        }
        let to = v
            .get("to")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        let to = to.ok_or_else(|| bad(100, "(#100) The parameter to is required.", None))?;
        if v.get("type").and_then(Value::as_str).unwrap_or("text") != "text" {
            return Err(bad(
                131051,
                "(#131051) Unsupported message type",
                Some("The stand-in only takes text messages."),
            ));
        }
        match v
            .get("text")
            .and_then(|t| t.get("body"))
            .and_then(Value::as_str)
        {
            Some(b) if !b.is_empty() => Ok(to.to_string()),
            _ => Err(bad(
                131008,
                "(#131008) Required parameter is missing",
                Some("The parameter text['body'] is required."),
            )),
        }
    } else {
        let to = v.get("recipient").and_then(|r| r.get("id")).and_then(|i| {
            i.as_str()
                .map(str::to_string)
                .or_else(|| i.as_i64().map(|n| n.to_string()))
        });
        let to = to.ok_or_else(|| bad(100, "(#100) The parameter recipient is required", None))?;
        let message = v
            .get("message")
            .filter(|m| m.get("text").is_some() || m.get("attachment").is_some());
        if message.is_none() {
            return Err(bad(100, "(#100) param message must be non-empty.", None));
        }
        match v.get("messaging_type").and_then(Value::as_str) {
            Some("RESPONSE" | "UPDATE") => Ok(to),
            Some("MESSAGE_TAG") if v.get("tag").and_then(Value::as_str).is_some() => Ok(to),
            Some("MESSAGE_TAG") => Err(bad(
                100,
                "(#100) Tag is required for MESSAGE_TAG messaging type",
                None,
            )),
            _ => Err(bad(
                100,
                "(#100) The parameter messaging_type is required",
                None,
            )),
        }
    }
}

async fn send(
    State(s): State<StandIn>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.record(PROVIDER, &method, &uri, &headers, &body);
    let given = token_of(&headers, &query);
    let Some(sub) = subscription(&s, &id) else {
        return match given {
            None => *check_token(None, "").unwrap_err(),
            Some(_) => unsupported("post", &id),
        };
    };
    if let Err(r) = check_token(given, &sub.access_token) {
        return *r;
    }
    let fault = s.take_fault(PROVIDER, &body);
    if let Some(f) = fault.as_ref().filter(|f| f.hang_ms == 0) {
        return StandIn::apply_fault(f, || StatusCode::OK.into_response()).await;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            100,
            None,
            "(#100) The request body could not be read as JSON.",
            None,
        );
    };
    let to = match validate(&sub, &v) {
        Ok(to) => to,
        Err(r) => return *r,
    };
    let mid = control::take_next_id(&s, &id).unwrap_or_else(|| new_message_id(sub.whatsapp()));
    let answer = if sub.whatsapp() {
        json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to.trim_start_matches('+')}], "messages": [{"id": mid}]})
    } else {
        json!({"recipient_id": to, "message_id": mid})
    };
    if let Some(f) = fault {
        // Hangs past the client's timeout: the answer is lost, and so are its receipts.
        return StandIn::apply_fault(&f, || Json(answer).into_response()).await;
    }
    if sub.verified && !sub.url.is_empty() && sub.receipts != "none" {
        tokio::spawn(receipts::receipts(s.clone(), sub, to, mid));
    }
    Json(answer).into_response()
}

async fn object(
    State(s): State<StandIn>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.record(PROVIDER, &method, &uri, &headers, b"");
    let given = token_of(&headers, &query);
    if let Some(sub) = subscription(&s, &id) {
        if let Err(r) = check_token(given, &sub.access_token) {
            return *r;
        }
        let mut v = if sub.whatsapp() {
            json!({
                "verified_name": sub.name.clone().unwrap_or_else(|| "Stand-in Business".into()),
                "display_phone_number": sub.display_phone_number.clone().unwrap_or_else(|| "+1 555-010-0000".into()),
                "quality_rating": "GREEN",
                "id": sub.id,
            })
        } else {
            json!({"name": sub.name.clone().unwrap_or_else(|| "Stand-in Page".into()), "id": sub.id})
        };
        if let (Some(fields), Some(obj)) = (query.get("fields"), v.as_object_mut()) {
            let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
            obj.retain(|k, _| k == "id" || wanted.contains(&k.as_str()));
        }
        return Json(v).into_response();
    }
    if let Some(m) = control::media(&s, &id) {
        let owner = subscription(&s, &m.owner);
        if let Err(r) = check_token(
            given,
            owner.as_ref().map_or("", |o| o.access_token.as_str()),
        ) {
            return *r;
        }
        return Json(json!({
            "messaging_product": "whatsapp",
            "url": format!("{}/_standin/meta/media/{id}", s.base_url),
            "mime_type": m.mime_type,
            "sha256": m.sha256,
            "file_size": m.file_size,
            "id": id,
        }))
        .into_response();
    }
    match given {
        None => *check_token(None, "").unwrap_err(),
        Some(_) => unsupported("get", &id),
    }
}

/// The file behind a media lookup's URL: the owner's token is required, as Meta requires.
async fn download(
    State(s): State<StandIn>,
    Path(media_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.record(PROVIDER, &method, &uri, &headers, b"");
    let Some(m) = control::media(&s, &media_id) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let expected = subscription(&s, &m.owner)
        .map(|o| o.access_token)
        .unwrap_or_default();
    let given = token_of(&headers, &HashMap::new());
    if given.is_none() || given.as_deref() != Some(expected.as_str()) || expected.is_empty() {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    match s.file(&m.path) {
        Some((ct, data)) => ([(header::CONTENT_TYPE, ct)], data).into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}
