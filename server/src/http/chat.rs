//! The website chat's edge (issue 16): the embed script, the chat frame, and the visitor API
//! the frame (or a site's own code) calls. These routes sit outside the session, CSRF and
//! framing layers: a visitor has no account, and the frame is meant to be embedded.
//!
//! Every request names the website it comes from (`site`), which must be one of the chat's
//! allowed websites; a cross-origin request's `Origin` must be that same website (CORS answers
//! name it and nothing else). The frame may only be embedded by those websites
//! (`frame-ancestors`). A visitor is known by a signed, short-lived token
//! (`channels::chat::token`) that names one visitor of one chat: nothing here reads a
//! conversation other than the token's visitor's. Limits per visitor and per address are kept
//! in the database, so they hold across server processes.
//!
//! - `GET /chat/widget.js`, `/chat/frame.js`, `/chat/frame.css`: the widget's code.
//! - `GET /chat/frame/{chat}?site=`: the chat frame.
//! - `POST /chat/api/{chat}/session`: a token (a fresh visitor, or the token's visitor again
//!   with a new expiry), the widget's settings and the visitor's messages.
//! - `POST /chat/api/{chat}/messages`: a visitor message, stored raw first like a webhook.
//! - `POST /chat/api/{chat}/seen`, `/typing`; `GET /chat/api/{chat}/stream` (see
//!   [`super::chat_stream`]).

use super::chat_stream;
use super::webhooks::RawWriter;
use crate::channels::chat::settings::ChatConfig;
use crate::channels::chat::{self, token, VisitorPayload};
use app::model::{LiveEvent, LiveKind, Presence, PresenceState};
use app::ports::NewRaw;
use app::ssr::live::Hub;
use app::store::raw_inbound::Stored;
use app::store::{channel_accounts, now_ms, rate_counters, sessions, Db};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long a visitor token lives; the widget asks for a fresh one on every page load and
/// every hour it stays open.
pub const TOKEN_TTL_MS: i64 = 24 * 3600 * 1000;
/// Largest request body the visitor API reads.
pub const MAX_BODY_BYTES: usize = 32 * 1024;
/// Fixed window of the visitor limits.
const WINDOW_MS: i64 = 60_000;
/// Messages one visitor may send per window.
pub const MESSAGES_PER_VISITOR: i64 = 20;
/// Messages one address may send per window (several visitors behind one address).
pub const MESSAGES_PER_ADDRESS: i64 = 60;
/// New visitors one address may start per window.
pub const NEW_VISITORS_PER_ADDRESS: i64 = 20;
/// Typing signals one visitor may send per window.
const TYPING_PER_VISITOR: i64 = 30;
/// How long a chat account read from the database is reused.
const ACCOUNT_TTL: Duration = Duration::from_secs(2);

/// What the chat routes need.
#[derive(Clone)]
pub struct ChatState {
    pub db: Db,
    pub hub: Hub,
    pub writer: RawWriter,
    pub wake_inbound: Arc<Notify>,
    key: Arc<[u8]>,
    /// Our own origin: requests from the chat frame carry it.
    own_origin: Arc<str>,
    accounts: Arc<Mutex<HashMap<i64, Cached>>>,
}

/// A chat account as read, and when.
type Cached = (Instant, Arc<ChatConfig>);

impl ChatState {
    pub fn new(
        db: Db,
        hub: Hub,
        writer: RawWriter,
        wake_inbound: Arc<Notify>,
        secret_key: &str,
        own_origin: &str,
    ) -> ChatState {
        ChatState {
            db,
            hub,
            writer,
            wake_inbound,
            key: secret_key.as_bytes().into(),
            own_origin: own_origin.into(),
            accounts: Arc::default(),
        }
    }

    pub fn key(&self) -> &[u8] {
        &self.key
    }

    pub fn own_origin(&self) -> &str {
        &self.own_origin
    }

    /// The chat `id`, when it is an enabled website chat.
    pub async fn chat_config(&self, id: &str) -> Result<Arc<ChatConfig>, Refused> {
        let gone = || {
            Refused::new(
                StatusCode::NOT_FOUND,
                "This chat does not exist or is switched off.",
            )
        };
        let id: i64 = id.parse().map_err(|_| gone())?;
        let cached = self
            .accounts
            .lock()
            .unwrap()
            .get(&id)
            .filter(|(at, _)| at.elapsed() < ACCOUNT_TTL)
            .map(|(_, c)| c.clone());
        let config = match cached {
            Some(c) => c,
            None => {
                let account = channel_accounts::get(&self.db, id).await.map_err(|e| {
                    tracing::warn!(error = %e, chat = id, "could not read the chat account");
                    gone()
                })?;
                if account.provider != chat::PROVIDER {
                    return Err(gone());
                }
                let c = Arc::new(ChatConfig::of(&account));
                let mut map = self.accounts.lock().unwrap();
                // Bounded: only existing chat accounts are ever cached.
                map.insert(id, (Instant::now(), c.clone()));
                c
            }
        };
        if !config.enabled {
            return Err(gone());
        }
        Ok(config)
    }
}

/// A refusal, in words, as JSON: `{"error": "..."}`.
#[derive(Debug)]
pub struct Refused {
    status: StatusCode,
    words: String,
    retry_after: Option<u64>,
}

impl Refused {
    fn new(status: StatusCode, words: impl Into<String>) -> Refused {
        Refused {
            status,
            words: words.into(),
            retry_after: None,
        }
    }

    pub fn unauthorized() -> Refused {
        Refused::new(
            StatusCode::UNAUTHORIZED,
            "This chat session is no longer valid; the chat starts again.",
        )
    }

    fn internal(e: impl std::fmt::Display) -> Refused {
        tracing::error!(error = %e, "website chat request failed");
        Refused::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The chat is unavailable for a moment; your message was not sent. Try again shortly.",
        )
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(serde_json::json!({ "error": self.words })),
        )
            .into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// A request's verified website: `cors` is the origin to name in CORS headers (None for our
/// own frame, which is same-origin).
pub struct Site {
    pub cors: Option<String>,
}

/// Checks that `site` may use `config` and that the request comes from it (or from our own
/// frame embedded in it).
pub fn check_site(
    config: &ChatConfig,
    own_origin: &str,
    headers: &HeaderMap,
    site: &str,
) -> Result<Site, Refused> {
    let refuse = |what: &str| {
        Refused::new(
            StatusCode::FORBIDDEN,
            format!("{what} is not one of the websites this chat is set up for."),
        )
    };
    if site.len() > 300 || !config.origins.allows(site) {
        return Err(refuse(if site.is_empty() { "This page" } else { site }));
    }
    match headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("?"))
    {
        Some(o) if o != own_origin => {
            if o != site {
                return Err(refuse(o));
            }
            Ok(Site {
                cors: Some(o.to_string()),
            })
        }
        _ => Ok(Site { cors: None }),
    }
}

fn with_cors(mut r: Response, site: &Site) -> Response {
    if let Some(o) = &site.cors {
        if let Ok(v) = HeaderValue::from_str(o) {
            let h = r.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The address key of a client: the IPv4 address, or the /64 of an IPv6 one.
fn address_key(addr: Option<IpAddr>) -> String {
    app::ssr::login_limit::LoginLimiter::address_key(addr)
}

/// Counts a hit on `key` and refuses when it is over `max` in the window.
async fn limit(db: &Db, key: &str, max: i64, words: &str) -> Result<(), Refused> {
    let now = now_ms();
    let hits = rate_counters::hit(db, key, now, WINDOW_MS)
        .await
        .map_err(Refused::internal)?;
    if hits > max {
        let mut r = Refused::new(StatusCode::TOO_MANY_REQUESTS, words);
        r.retry_after = Some((WINDOW_MS / 1000) as u64);
        return Err(r);
    }
    // Now and then, forget closed windows (any process may do it).
    if hits == 1 && now % 64 == 0 {
        let _ = rate_counters::prune(db, now - WINDOW_MS).await;
    }
    Ok(())
}

/// The visitor a token names, or why not (the widget then starts a fresh session).
fn visitor_of(state: &ChatState, chat: i64, token_text: &str) -> Result<String, Refused> {
    token::verify_visitor(state.key(), token_text, chat, now_ms())
        .map(str::to_string)
        .map_err(|e| {
            Refused::new(
                StatusCode::UNAUTHORIZED,
                format!("This chat session is no longer valid ({e}); the chat starts again."),
            )
        })
}

pub fn router(state: ChatState) -> Router {
    Router::new()
        .route(
            "/chat/widget.js",
            get(|| asset(WIDGET_JS, "text/javascript")),
        )
        .route("/chat/frame.js", get(|| asset(FRAME_JS, "text/javascript")))
        .route("/chat/frame.css", get(|| asset(FRAME_CSS, "text/css")))
        .route("/chat/frame/{chat}", get(frame_handler))
        .route(
            "/chat/api/{chat}/session",
            post(session_handler).options(preflight_handler),
        )
        .route(
            "/chat/api/{chat}/messages",
            post(message_handler).options(preflight_handler),
        )
        .route(
            "/chat/api/{chat}/seen",
            post(seen_handler).options(preflight_handler),
        )
        .route(
            "/chat/api/{chat}/typing",
            post(typing_handler).options(preflight_handler),
        )
        .route("/chat/api/{chat}/stream", get(chat_stream::stream_handler))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

const WIDGET_JS: &str = include_str!("../../assets/chat/widget.js");
const FRAME_JS: &str = include_str!("../../assets/chat/frame.js");
const FRAME_CSS: &str = include_str!("../../assets/chat/frame.css");
const FRAME_HTML: &str = include_str!("../../assets/chat/frame.html");

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct SiteQuery {
    #[serde(default)]
    site: String,
}

/// The chat frame: embeddable only by the chat's websites.
async fn frame_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    Query(q): Query<SiteQuery>,
) -> Response {
    let page = |status: StatusCode, csp: String, body: String| {
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                (header::CONTENT_SECURITY_POLICY, csp),
                (header::CACHE_CONTROL, "no-store".to_string()),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                (header::REFERRER_POLICY, "no-referrer".to_string()),
            ],
            body,
        )
            .into_response()
    };
    let config = match st.chat_config(&chat).await {
        Ok(c) => c,
        Err(r) => {
            return page(r.status, FRAME_REFUSED_CSP.into(), refused_page(&r.words));
        }
    };
    if !config.origins.allows(&q.site) {
        let words = format!(
            "{} is not one of the websites this chat is set up for.",
            if q.site.is_empty() {
                "This page"
            } else {
                q.site.as_str()
            }
        );
        return page(
            StatusCode::FORBIDDEN,
            FRAME_REFUSED_CSP.into(),
            refused_page(&words),
        );
    }
    page(StatusCode::OK, frame_csp(&config), FRAME_HTML.to_string())
}

/// A refusal page may be shown anywhere, but runs nothing.
const FRAME_REFUSED_CSP: &str = "default-src 'none'; style-src 'self'; base-uri 'none'";

fn refused_page(words: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chat unavailable</title>\
         <link rel=\"stylesheet\" href=\"/chat/frame.css\"></head><body><main class=\"refused\"><h1>Chat unavailable</h1><p>{}</p></main></body></html>",
        escape(words)
    )
}

/// The frame's policy: our own code only, and embedded only by the chat's websites.
pub fn frame_csp(config: &ChatConfig) -> String {
    let ancestors = config.origins.frame_ancestors();
    let ancestors = if ancestors == "frame-ancestors" {
        "frame-ancestors 'none'".to_string()
    } else {
        ancestors
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self' data:; base-uri 'none'; form-action 'none'; {ancestors}"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// CORS preflight: allowed for the chat's websites only.
async fn preflight_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    headers: HeaderMap,
) -> Response {
    let config = match st.chat_config(&chat).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !config.origins.allows(origin) {
        return Refused::new(
            StatusCode::FORBIDDEN,
            format!("{origin} is not one of the websites this chat is set up for."),
        )
        .into_response();
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    r
}

#[derive(Deserialize)]
pub struct SessionBody {
    #[serde(default)]
    site: String,
    #[serde(default)]
    token: Option<String>,
}

/// One message as the widget draws it.
#[derive(Serialize)]
pub struct WidgetMessage {
    pub id: i64,
    /// `visitor` or `agent`.
    pub from: &'static str,
    pub text: String,
    pub at: i64,
    /// The widget's id of a visitor message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// An agent's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Answers: whether the visitor has seen it.
    pub seen: bool,
}

impl From<app::store::chat::VisitorMessage> for WidgetMessage {
    fn from(m: app::store::chat::VisitorMessage) -> WidgetMessage {
        let visitor = m.direction == "in";
        WidgetMessage {
            id: m.id,
            from: if visitor { "visitor" } else { "agent" },
            text: m.body_text,
            at: m.created_at,
            client_id: m.provider_message_id.filter(|_| visitor),
            // First names only: the visitor needs no more.
            author: m
                .author
                .filter(|_| !visitor)
                .and_then(|a| a.split_whitespace().next().map(str::to_string)),
            seen: m.delivery_state == "read",
        }
    }
}

#[derive(Serialize)]
struct SessionAnswer {
    token: String,
    expires: i64,
    settings: crate::channels::chat::settings::WidgetSettings,
    /// Whether a staff member is signed in.
    online: bool,
    /// The visitor has written before (the pre-chat form is not shown again).
    known: bool,
    messages: Vec<WidgetMessage>,
}

async fn session_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<SessionBody>,
) -> Response {
    let config = match st.chat_config(&chat).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let site = match check_site(&config, &st.own_origin, &headers, &body.site) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let answer = session(&st, &config, peer.ip(), body.token.as_deref()).await;
    with_cors(
        match answer {
            Ok(a) => Json(a).into_response(),
            Err(r) => r.into_response(),
        },
        &site,
    )
}

async fn session(
    st: &ChatState,
    config: &ChatConfig,
    ip: IpAddr,
    presented: Option<&str>,
) -> Result<SessionAnswer, Refused> {
    let now = now_ms();
    let chat = config.account_id;
    let known = presented.and_then(|t| token::verify_visitor(st.key(), t, chat, now).ok());
    let visitor = match known {
        Some(v) => v.to_string(),
        None => {
            limit(
                &st.db,
                &format!("chat-new:{}", address_key(Some(ip))),
                NEW_VISITORS_PER_ADDRESS,
                "Too many chats were started from your network just now; wait a minute and reload the page.",
            )
            .await?;
            token::new_visitor_id()
        }
    };
    app::store::chat::touch(&st.db, chat, &visitor, now)
        .await
        .map_err(Refused::internal)?;
    let conversation = app::store::chat::conversation_of(&st.db, &visitor)
        .await
        .map_err(Refused::internal)?;
    let messages = match conversation {
        Some(c) => app::store::chat::recent(&st.db, c)
            .await
            .map_err(Refused::internal)?,
        None => Vec::new(),
    };
    let online = sessions::anyone_signed_in(&st.db, now)
        .await
        .map_err(Refused::internal)?;
    let expires = now + TOKEN_TTL_MS;
    Ok(SessionAnswer {
        token: token::visitor_token(st.key(), chat, &visitor, expires),
        expires,
        settings: config.widget.clone(),
        online,
        known: conversation.is_some(),
        messages: messages.into_iter().map(WidgetMessage::from).collect(),
    })
}

#[derive(Deserialize)]
pub struct MessageBody {
    #[serde(default)]
    site: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

async fn message_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<MessageBody>,
) -> Response {
    let config = match st.chat_config(&chat).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let site = match check_site(&config, &st.own_origin, &headers, &body.site) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let answer = receive(&st, &config, peer.ip(), body).await;
    with_cors(
        match answer {
            Ok(stored) => (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({ "duplicate": matches!(stored, Stored::Duplicate) })),
            )
                .into_response(),
            Err(r) => r.into_response(),
        },
        &site,
    )
}

/// Checks and stores one visitor message (raw, before any processing), then wakes the
/// inbound worker.
async fn receive(
    st: &ChatState,
    config: &ChatConfig,
    ip: IpAddr,
    body: MessageBody,
) -> Result<Stored, Refused> {
    let chat = config.account_id;
    let visitor = visitor_of(st, chat, &body.token)?;
    if !chat::client_id_ok(&body.client_id) {
        return Err(Refused::new(
            StatusCode::BAD_REQUEST,
            "This message has no valid id; reload the page and send it again.",
        ));
    }
    let text = app::domain::chat_settings::visitor_text(&body.text)
        .map_err(|w| Refused::new(StatusCode::BAD_REQUEST, w))?;
    limit(
        &st.db,
        &format!("chat-msg:{chat}:{visitor}"),
        MESSAGES_PER_VISITOR,
        "You are sending messages faster than we can read them; wait a minute and send again.",
    )
    .await?;
    limit(
        &st.db,
        &format!("chat-msg-ip:{}", address_key(Some(ip))),
        MESSAGES_PER_ADDRESS,
        "Too many messages were sent from your network just now; wait a minute and send again.",
    )
    .await?;
    let name = body
        .name
        .as_deref()
        .map(|n| n.chars().take(200).collect::<String>())
        .filter(|n| !n.trim().is_empty());
    let page = body
        .page
        .as_deref()
        .filter(|p| p.starts_with("https://") || p.starts_with("http://"))
        .map(|p| p.chars().take(500).collect::<String>());
    let payload = VisitorPayload {
        visitor: visitor.clone(),
        client_id: body.client_id.clone(),
        text,
        at: now_ms(),
        name,
        page,
    };
    let stored = st
        .writer
        .store(NewRaw {
            account_id: chat,
            dedupe_key: format!("{visitor}:{}", body.client_id),
            content_type: chat::PAYLOAD_TYPE.into(),
            payload: serde_json::to_vec(&payload).map_err(Refused::internal)?,
        })
        .await
        .map_err(Refused::internal)?;
    st.wake_inbound.notify_one();
    let _ = app::store::chat::touch(&st.db, chat, &visitor, now_ms()).await;
    Ok(stored)
}

#[derive(Deserialize)]
pub struct SeenBody {
    #[serde(default)]
    site: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    upto: i64,
}

/// The visitor has seen the answers up to message `upto`.
async fn seen_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    headers: HeaderMap,
    Json(body): Json<SeenBody>,
) -> Response {
    let config = match st.chat_config(&chat).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let site = match check_site(&config, &st.own_origin, &headers, &body.site) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let done = async {
        let visitor = visitor_of(&st, config.account_id, &body.token)?;
        let Some(conversation) = app::store::chat::conversation_of(&st.db, &visitor)
            .await
            .map_err(Refused::internal)?
        else {
            return Ok(());
        };
        let changed = app::store::chat::mark_answers(&st.db, conversation, body.upto, "read")
            .await
            .map_err(Refused::internal)?;
        if changed > 0 {
            st.hub
                .publish(LiveEvent {
                    kind: LiveKind::Delivery,
                    conversation_id: Some(conversation),
                    message_id: None,
                    presence: None,
                })
                .await;
        }
        Ok::<_, Refused>(())
    }
    .await;
    with_cors(
        match done {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(r) => r.into_response(),
        },
        &site,
    )
}

/// The visitor is writing: agents on the conversation see "Visitor is writing".
async fn typing_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    headers: HeaderMap,
    Json(body): Json<SeenBody>,
) -> Response {
    let config = match st.chat_config(&chat).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let site = match check_site(&config, &st.own_origin, &headers, &body.site) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let done = async {
        let visitor = visitor_of(&st, config.account_id, &body.token)?;
        limit(
            &st.db,
            &format!("chat-typing:{}:{visitor}", config.account_id),
            TYPING_PER_VISITOR,
            "Typing signals are limited; keep writing.",
        )
        .await?;
        if let Some(conversation) = app::store::chat::conversation_of(&st.db, &visitor)
            .await
            .map_err(Refused::internal)?
        {
            st.hub
                .publish(LiveEvent {
                    kind: LiveKind::Presence,
                    conversation_id: Some(conversation),
                    message_id: None,
                    presence: Some(Presence {
                        user_id: 0,
                        name: "The visitor".into(),
                        state: PresenceState::Typing,
                    }),
                })
                .await;
        }
        Ok::<_, Refused>(())
    }
    .await;
    with_cors(
        match done {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(r) => r.into_response(),
        },
        &site,
    )
}
