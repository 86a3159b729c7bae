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
//! - `POST /chat/api/{chat}/seen`, `/typing` ([`visitor`]), `/identify` ([`identity`]);
//!   `GET /chat/api/{chat}/stream` ([`stream`]).

pub mod frame;
pub mod identity;
pub mod stream;
pub mod visitor;

pub use visitor::WidgetMessage;

use super::webhooks::RawWriter;
use crate::channels::chat::settings::ChatConfig;
use crate::channels::chat::{self, token};
use app::ssr::live::Hub;
use app::store::{channel_accounts, now_ms, rate_counters, Db};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::HashMap;
use std::net::IpAddr;
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
/// Streams one visitor may open per window (a page load or a reconnection each).
pub const STREAMS_PER_VISITOR: i64 = 30;
/// Typing signals one visitor may send per window.
pub const TYPING_PER_VISITOR: i64 = 30;
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
    /// Every limit times this (`CONVERGENCE_CHAT_LIMIT_SCALE`, 1 unless a load test raises it:
    /// its clients all come from one address).
    limit_scale: i64,
    /// The process's counts for `/metrics` (open widget streams).
    pub counters: Arc<app::ssr::state::Counters>,
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
        counters: Arc<app::ssr::state::Counters>,
    ) -> ChatState {
        ChatState {
            db,
            hub,
            writer,
            wake_inbound,
            key: secret_key.as_bytes().into(),
            own_origin: own_origin.into(),
            accounts: Arc::default(),
            limit_scale: std::env::var("CONVERGENCE_CHAT_LIMIT_SCALE")
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|n| *n >= 1)
                .unwrap_or(1),
            counters,
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

/// The chat a request names and its checked website, or the answer refusing it.
pub(super) async fn checked(
    st: &ChatState,
    chat: &str,
    headers: &HeaderMap,
    site: &str,
) -> Result<(Arc<ChatConfig>, Site), Response> {
    let config = st
        .chat_config(chat)
        .await
        .map_err(IntoResponse::into_response)?;
    let site =
        check_site(&config, &st.own_origin, headers, site).map_err(IntoResponse::into_response)?;
    Ok((config, site))
}

/// Answers `result` (or its refusal in words) with the CORS headers `site` gets.
fn answer(site: &Site, result: Result<Response, Refused>) -> Response {
    with_cors(result.unwrap_or_else(IntoResponse::into_response), site)
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

impl ChatState {
    /// Counts a hit on `key` and refuses when it is over `max` (times the limit scale) in the
    /// window.
    pub(super) async fn limit(&self, key: &str, max: i64, words: &str) -> Result<(), Refused> {
        limit(&self.db, key, max.saturating_mul(self.limit_scale), words).await
    }
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
        // The widget's code, compressed (6 KB brotli in all); nothing secret is in it, so
        // compression reveals nothing. The API's answers are not compressed.
        .merge(
            Router::new()
                .route("/chat/widget.js", get(frame::widget_js))
                .route("/chat/frame.js", get(frame::frame_js))
                .route("/chat/frame.css", get(frame::frame_css))
                .route("/chat/frame/{chat}", get(frame::frame_handler))
                .layer(tower_http::compression::CompressionLayer::new()),
        )
        .route(
            "/chat/api/{chat}/session",
            post(visitor::session_handler).options(frame::preflight_handler),
        )
        .route(
            "/chat/api/{chat}/messages",
            post(visitor::message_handler).options(frame::preflight_handler),
        )
        .route(
            "/chat/api/{chat}/seen",
            post(visitor::seen_handler).options(frame::preflight_handler),
        )
        .route(
            "/chat/api/{chat}/typing",
            post(visitor::typing_handler).options(frame::preflight_handler),
        )
        .route(
            "/chat/api/{chat}/identify",
            post(identity::identify_handler).options(frame::preflight_handler),
        )
        .route("/chat/api/{chat}/stream", get(stream::stream_handler))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
