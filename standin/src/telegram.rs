//! The Telegram stand-in: the Bot API (`/bot{token}/{method}`, see [`bot_api`]) and its file
//! server (`/file/bot{token}/{path}`), plus control endpoints that play the customer:
//!
//! - `POST /_standin/telegram/bot` `{token, username, id?, first_name?}` registers a bot (its
//!   id defaults to the token's number before `:`, as in real tokens).
//! - `POST /_standin/telegram/update` `{token, from {id, first_name, last_name?, username?},
//!   text?, photo? {base64, content_type?, width?, height?}, document? {base64, content_type?,
//!   file_name?}}` builds a real `Update` (a private `message`; with a file, `text` is the
//!   caption) and posts it to the URL the bot gave `setWebhook`, with
//!   `X-Telegram-Bot-Api-Secret-Token`. Answers `{status, body, update_id, update}`.
//! - `POST /_standin/telegram/raw` `{token, update? (any JSON) | body? (exact text), secret?,
//!   omit_secret?}` posts exactly that (replays, out of order, malformed).
//!
//! A photo comes as two sizes like Telegram's: a small thumbnail (a short stand-in of the
//! bytes) and the full file.

mod bot_api;

use crate::{now_secs, StandIn};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// `sendMessage`'s text limit.
const MAX_TEXT: usize = 4096;
/// The largest file a bot may download (getFile answers "file is too big" above it).
const MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;

pub fn routes() -> Router<StandIn> {
    Router::new()
        .route("/_standin/telegram/bot", post(register_bot))
        .route("/_standin/telegram/update", post(customer_update))
        .route("/_standin/telegram/raw", post(raw_update))
        .route("/bot{token}/{method}", any(bot_api::method))
        .route("/file/bot{token}/{*path}", get(bot_api::download))
}

/// A registered bot, kept in the stand-in's config under `telegram:bot:<token>`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Bot {
    id: i64,
    username: String,
    first_name: String,
    webhook_url: String,
    secret_token: String,
    allowed_updates: Value,
    /// Private chats that wrote to the bot: the only ones `sendMessage` reaches.
    chats: Vec<i64>,
}

impl Bot {
    fn user(&self) -> Value {
        json!({
            "id": self.id, "is_bot": true, "first_name": self.first_name,
            "username": self.username, "can_join_groups": true,
            "can_read_all_group_messages": false, "supports_inline_queries": false,
        })
    }
}

fn bot(s: &StandIn, token: &str) -> Option<Bot> {
    if token.is_empty() {
        return None;
    }
    serde_json::from_value(s.config(&format!("telegram:bot:{token}"))?).ok()
}

fn save_bot(s: &StandIn, token: &str, b: &Bot) {
    s.set_config(&format!("telegram:bot:{token}"), json!(b));
}

fn remember_chat(s: &StandIn, token: &str, chat_id: i64) {
    if let Some(mut b) = bot(s, token) {
        if !b.chats.contains(&chat_id) {
            b.chats.push(chat_id);
            save_bot(s, token, &b);
        }
    }
}

fn file_record(s: &StandIn, file_id: &str) -> Option<Value> {
    s.config(&format!("telegram:file:{file_id}"))
}

/// Where the bytes of a bot's file are kept (and served by the generic file route too).
fn file_store_path(bot_id: i64, file_path: &str) -> String {
    format!("/_standin/files/telegram/{bot_id}/{file_path}")
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, Json(json!({"error": why}))).into_response()
}

#[derive(Deserialize)]
struct NewBot {
    token: String,
    username: String,
    id: Option<i64>,
    first_name: Option<String>,
}

async fn register_bot(State(s): State<StandIn>, Json(n): Json<NewBot>) -> Response {
    if n.token.trim().is_empty() || n.username.trim().is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "token and username are required");
    }
    let id =
        n.id.or_else(|| n.token.split(':').next().and_then(|p| p.parse().ok()))
            .unwrap_or_else(|| s.next() as i64 + 1_000_000);
    let mut b = bot(&s, &n.token).unwrap_or_default();
    b.id = id;
    b.username = n.username.trim_start_matches('@').to_string();
    b.first_name = n.first_name.unwrap_or_else(|| b.username.clone());
    save_bot(&s, &n.token, &b);
    Json(json!({"ok": true, "bot": b.user()})).into_response()
}

#[derive(Deserialize)]
struct Customer {
    id: i64,
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct FileIn {
    base64: String,
    content_type: Option<String>,
    file_name: Option<String>,
    width: Option<u64>,
    height: Option<u64>,
}

#[derive(Deserialize)]
struct CustomerUpdate {
    token: String,
    from: Customer,
    text: Option<String>,
    photo: Option<FileIn>,
    document: Option<FileIn>,
}

/// Stores `data` as a file of bot `b`; returns its `file_id`, `file_unique_id` and size.
fn add_file(
    s: &StandIn,
    b: &Bot,
    folder: &str,
    ext: &str,
    ct: &str,
    data: Vec<u8>,
) -> (String, String, usize) {
    let n = s.next();
    let file_id = format!("BQACAgIAAx{}-{n}", b.id);
    let unique = format!("AgAD{n}");
    let file_path = format!("{folder}/file_{n}.{ext}");
    let size = data.len();
    s.put_file(&file_store_path(b.id, &file_path), ct, data);
    s.set_config(
        &format!("telegram:file:{file_id}"),
        json!({"bot_id": b.id, "file_unique_id": unique, "file_size": size, "file_path": file_path}),
    );
    (file_id, unique, size)
}

fn decode(f: &FileIn) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(f.base64.trim())
        .map_err(|e| format!("bad base64: {e}"))
}

async fn customer_update(State(s): State<StandIn>, Json(u): Json<CustomerUpdate>) -> Response {
    let Some(b) = bot(&s, &u.token) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no bot with this token; register it first",
        );
    };
    let mut person = json!({"id": u.from.id, "first_name": u.from.first_name});
    if let Some(l) = &u.from.last_name {
        person["last_name"] = json!(l);
    }
    if let Some(n) = &u.from.username {
        person["username"] = json!(n);
    }
    let mut chat = person.clone();
    chat["type"] = json!("private");
    let mut from = person;
    from["is_bot"] = json!(false);
    from["language_code"] = json!("en");
    let mut msg = json!({"message_id": s.next(), "from": from, "chat": chat, "date": now_secs()});
    let has_file = u.photo.is_some() || u.document.is_some();
    if let Some(p) = &u.photo {
        let data = match decode(p) {
            Ok(d) => d,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
        };
        let ct = p.content_type.as_deref().unwrap_or("image/jpeg");
        let thumb: Vec<u8> = data
            .iter()
            .take(data.len().div_ceil(2).min(64))
            .copied()
            .collect();
        let (w, h) = (p.width.unwrap_or(800), p.height.unwrap_or(600));
        let (tid, tu, ts) = add_file(&s, &b, "photos", "jpg", ct, thumb);
        let (fid, fu, fs) = add_file(&s, &b, "photos", "jpg", ct, data);
        msg["photo"] = json!([
            {"file_id": tid, "file_unique_id": tu, "file_size": ts, "width": 90, "height": 90 * h / w.max(1)},
            {"file_id": fid, "file_unique_id": fu, "file_size": fs, "width": w, "height": h},
        ]);
    }
    if let Some(d) = &u.document {
        let data = match decode(d) {
            Ok(x) => x,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
        };
        let ct = d
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        let name = d.file_name.clone().unwrap_or_else(|| "file".into());
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .unwrap_or_else(|| "bin".into());
        let (id, unique, size) = add_file(&s, &b, "documents", &ext, ct, data);
        msg["document"] = json!({"file_id": id, "file_unique_id": unique, "file_name": name, "mime_type": ct, "file_size": size});
    }
    if let Some(t) = u.text {
        msg[if has_file { "caption" } else { "text" }] = json!(t);
    }
    let update_id = s.next();
    let update = json!({"update_id": update_id, "message": msg});
    let (status, body) = post_update(&s, &u.token, &b, update.to_string(), None, false).await;
    Json(json!({"status": status, "body": body, "update_id": update_id, "update": update}))
        .into_response()
}

#[derive(Deserialize)]
struct RawUpdate {
    token: String,
    update: Option<Value>,
    body: Option<String>,
    secret: Option<String>,
    #[serde(default)]
    omit_secret: bool,
}

async fn raw_update(State(s): State<StandIn>, Json(r): Json<RawUpdate>) -> Response {
    let Some(b) = bot(&s, &r.token) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no bot with this token; register it first",
        );
    };
    let body = match (&r.body, &r.update) {
        (Some(text), _) => text.clone(),
        (None, Some(u)) => u.to_string(),
        (None, None) => {
            return refuse(StatusCode::BAD_REQUEST, "give update (JSON) or body (text)")
        }
    };
    let (status, answer) = post_update(&s, &r.token, &b, body, r.secret, r.omit_secret).await;
    Json(json!({"status": status, "body": answer})).into_response()
}

/// Posts an update to the bot's webhook as Telegram does; the chat becomes reachable.
async fn post_update(
    s: &StandIn,
    token: &str,
    b: &Bot,
    body: String,
    secret: Option<String>,
    omit_secret: bool,
) -> (u16, String) {
    if b.webhook_url.is_empty() {
        return (0, "the bot has no webhook: call setWebhook first".into());
    }
    if let Ok(v) = serde_json::from_str::<Value>(&body) {
        bot_api::note_chat(s, token, &v);
    }
    let secret = secret.unwrap_or_else(|| b.secret_token.clone());
    let mut headers = Vec::new();
    if !omit_secret && !secret.is_empty() {
        headers.push(("X-Telegram-Bot-Api-Secret-Token", secret));
    }
    super::deliver(
        s,
        &b.webhook_url,
        &headers,
        "application/json",
        body.into_bytes(),
    )
    .await
}
