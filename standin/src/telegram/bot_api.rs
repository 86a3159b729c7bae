//! The Bot API methods the adapter calls, under `/bot{token}/{method}`, with Telegram's
//! parameter passing (query string, urlencoded form, JSON or multipart), its case-insensitive
//! method names and its exact answers: `{"ok":true,"result":…}` or
//! `{"ok":false,"error_code":n,"description":"…"}` with the same HTTP status. Every request
//! is recorded; faults queued for `telegram` apply to `sendMessage`.

use super::{bot, file_record, remember_chat, Bot, MAX_DOWNLOAD, MAX_TEXT};
use crate::{now_secs, StandIn};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::{json, Map, Value};

pub fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

pub fn ok_described(result: Value, description: &str) -> Response {
    Json(json!({"ok": true, "result": result, "description": description})).into_response()
}

pub fn error(code: u16, description: &str) -> Response {
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
        Json(json!({"ok": false, "error_code": code, "description": description})),
    )
        .into_response()
}

pub fn unauthorized() -> Response {
    error(401, "Unauthorized")
}

/// The request's parameters: the query string, then the body by its content type.
async fn params(
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Map<String, Value>, Response> {
    let mut out = Map::new();
    if let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(uri) {
        for (k, v) in pairs {
            out.insert(k, Value::String(v));
        }
    }
    if body.is_empty() {
        return Ok(out);
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let request = || {
        Request::builder()
            .method(Method::POST)
            .header(header::CONTENT_TYPE, ct.clone())
            .body(Body::from(body.clone()))
            .expect("a request")
    };
    if ct.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => out.extend(m),
            _ => return Err(error(400, "Bad Request: can't parse JSON object")),
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        let Ok(Form(pairs)) = Form::<Vec<(String, String)>>::from_request(request(), &()).await
        else {
            return Err(error(400, "Bad Request: can't parse parameters"));
        };
        for (k, v) in pairs {
            out.insert(k, Value::String(v));
        }
    } else if ct.starts_with("multipart/form-data") {
        let bad = || error(400, "Bad Request: can't parse multipart/form-data");
        let mut mp = Multipart::from_request(request(), &())
            .await
            .map_err(|_| bad())?;
        while let Some(field) = mp.next_field().await.map_err(|_| bad())? {
            let name = field.name().unwrap_or("").to_string();
            let text = field.text().await.map_err(|_| bad())?;
            out.insert(name, Value::String(text));
        }
    }
    Ok(out)
}

/// A string parameter (numbers as their text).
fn text_param(p: &Map<String, Value>, key: &str) -> Option<String> {
    match p.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `POST|GET /bot{token}/{method}`.
pub async fn method(
    State(s): State<StandIn>,
    Path((token, name)): Path<(String, String)>,
    http_method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.record("telegram", &http_method, &uri, &headers, &body);
    let Some(b) = bot(&s, &token) else {
        return unauthorized();
    };
    let p = match params(&uri, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match name.to_ascii_lowercase().as_str() {
        "getme" => ok(b.user()),
        "setwebhook" => set_webhook(&s, &token, b, &p),
        "deletewebhook" => {
            let had = !b.webhook_url.is_empty();
            super::save_bot(
                &s,
                &token,
                &Bot {
                    webhook_url: String::new(),
                    secret_token: String::new(),
                    ..b
                },
            );
            ok_described(
                json!(true),
                if had {
                    "Webhook was deleted"
                } else {
                    "Webhook is already deleted"
                },
            )
        }
        "getwebhookinfo" => ok(json!({
            "url": b.webhook_url, "has_custom_certificate": false, "pending_update_count": 0,
            "allowed_updates": b.allowed_updates,
        })),
        "sendmessage" => send_message(&s, b, &p).await,
        "getfile" => get_file(&s, &b, &p),
        _ => error(404, "Not Found"),
    }
}

fn set_webhook(s: &StandIn, token: &str, b: Bot, p: &Map<String, Value>) -> Response {
    let url = text_param(p, "url").unwrap_or_default();
    let secret = text_param(p, "secret_token").unwrap_or_default();
    if !secret.is_empty()
        && (secret.len() > 256
            || !secret
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'))
    {
        return error(
            400,
            "Bad Request: secret token contains unallowed characters",
        );
    }
    let usable = url.is_empty() || url.starts_with("https://") || url.starts_with("http://");
    if !usable {
        return error(
            400,
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        );
    }
    let allowed = match p.get("allowed_updates") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => b.allowed_updates.clone(),
    };
    let was = b.webhook_url.clone();
    let deleting = url.is_empty();
    super::save_bot(
        s,
        token,
        &Bot {
            webhook_url: url,
            secret_token: secret,
            allowed_updates: allowed,
            ..b
        },
    );
    let description = match (deleting, was.is_empty()) {
        (true, true) => "Webhook is already deleted",
        (true, false) => "Webhook was deleted",
        (false, _) => "Webhook was set",
    };
    ok_described(json!(true), description)
}

async fn send_message(s: &StandIn, b: Bot, p: &Map<String, Value>) -> Response {
    let fault = s.take_fault(
        "telegram",
        serde_json::to_string(p).unwrap_or_default().as_bytes(),
    );
    if let Some(f) = fault.as_ref().filter(|f| f.hang_ms == 0) {
        return StandIn::apply_fault(f, || error(500, "Internal Server Error")).await;
    }
    let answer = message_answer(s, &b, p);
    match fault {
        Some(f) => StandIn::apply_fault(&f, move || answer).await,
        None => answer,
    }
}

fn message_answer(s: &StandIn, b: &Bot, p: &Map<String, Value>) -> Response {
    let Some(chat) = text_param(p, "chat_id").filter(|c| !c.trim().is_empty()) else {
        return error(400, "Bad Request: chat_id is empty");
    };
    let Ok(chat_id) = chat.trim().parse::<i64>() else {
        return error(400, "Bad Request: chat not found");
    };
    if !b.chats.contains(&chat_id) {
        return error(400, "Bad Request: chat not found");
    }
    let text = text_param(p, "text").unwrap_or_default();
    if text.trim().is_empty() {
        return error(400, "Bad Request: message text is empty");
    }
    if text.chars().count() > MAX_TEXT {
        return error(400, "Bad Request: message is too long");
    }
    ok(json!({
        "message_id": s.next(),
        "from": b.user(),
        "chat": {"id": chat_id, "type": "private"},
        "date": now_secs(),
        "text": text,
    }))
}

fn get_file(s: &StandIn, b: &Bot, p: &Map<String, Value>) -> Response {
    let Some(file_id) = text_param(p, "file_id").filter(|f| !f.is_empty()) else {
        return error(400, "Bad Request: file_id not specified");
    };
    let Some(f) = file_record(s, &file_id).filter(|f| f["bot_id"] == json!(b.id)) else {
        return error(400, "Bad Request: invalid file_id");
    };
    if f["file_size"].as_u64().unwrap_or(0) > MAX_DOWNLOAD {
        return error(400, "Bad Request: file is too big");
    }
    ok(json!({
        "file_id": file_id,
        "file_unique_id": f["file_unique_id"],
        "file_size": f["file_size"],
        "file_path": f["file_path"],
    }))
}

/// `GET /file/bot{token}/{file_path}`: the file server.
pub async fn download(
    State(s): State<StandIn>,
    Path((token, path)): Path<(String, String)>,
    http_method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.record("telegram", &http_method, &uri, &headers, b"");
    let Some(b) = bot(&s, &token) else {
        return unauthorized();
    };
    match s.file(&super::file_store_path(b.id, &path)) {
        Some((ct, data)) => ([(header::CONTENT_TYPE, ct)], data).into_response(),
        None => error(404, "Not Found"),
    }
}

/// Remembers the private chat an update came from, so `sendMessage` finds it.
pub fn note_chat(s: &StandIn, token: &str, update: &Value) {
    for key in ["message", "edited_message"] {
        if let Some(id) = update.get(key).and_then(|m| m["chat"]["id"].as_i64()) {
            remember_chat(s, token, id);
        }
    }
}
