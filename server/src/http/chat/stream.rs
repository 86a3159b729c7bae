//! `GET /chat/api/{chat}/stream?site=&token=&after=`: the widget's live stream (server-sent
//! events). It listens to the live hub, which on PostgreSQL carries every process's events
//! (NOTIFY), so an answer written through any process reaches the widget wherever its stream
//! is held. Events name conversations only; the stream reads what its own visitor may see
//! from the database (`store::chat`), never what an event says.
//!
//! Events sent: `message` (a [`WidgetMessage`]), `typing` (an agent's first name), `seen` (an
//! agent has the conversation open since the visitor last wrote).
//! The stream ends when the visitor's token expires; the widget then asks for a fresh one.

use super::{checked, ChatState, Refused, WidgetMessage, STREAMS_PER_VISITOR};
use app::model::{LiveEvent, LiveKind, PresenceState};
use app::store::{chat as chat_store, now_ms};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

/// How often an open stream records that the visitor is still there.
pub const HEARTBEAT: Duration = Duration::from_secs(25);
/// Shortest gap between two lookups of a visitor's conversation before their first message.
const RESOLVE_GAP: Duration = Duration::from_millis(250);

#[derive(Deserialize)]
pub struct StreamQuery {
    #[serde(default)]
    site: String,
    #[serde(default)]
    token: String,
    /// The last message id the widget has.
    #[serde(default)]
    after: i64,
}

pub async fn stream_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
) -> Response {
    let (config, site) = match checked(&st, &chat, &headers, &q.site).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = now_ms();
    let Ok((visitor, expires)) = crate::channels::chat::token::verify_visitor_until(
        st.key(),
        &q.token,
        config.account_id,
        now,
    ) else {
        return Refused::unauthorized().into_response();
    };
    // A widget opens its stream once per page; a token opening streams without end is not one.
    if let Err(r) = st
        .limit(
            &format!("chat-stream:{}:{visitor}", config.account_id),
            STREAMS_PER_VISITOR,
            "Too many chat connections from this visitor just now; wait a minute.",
        )
        .await
    {
        return r.into_response();
    }
    let watch = Watch {
        st: st.clone(),
        rx: st.hub.subscribe(),
        chat: config.account_id,
        visitor: visitor.to_string(),
        conversation: None,
        after: q.after.max(0),
        expires,
        queue: VecDeque::new(),
        last_touch: Instant::now(),
        last_resolve: None,
        resolve_due: false,
        unseen_by_agents: false,
        started: false,
    };
    let open =
        crate::http::metrics::StreamGuard::open(&st.counters, crate::http::metrics::Stream::Chat);
    let stream = futures::stream::unfold((watch, open), |(mut w, open)| async move {
        let ev = w.next().await?;
        Some((Ok::<_, Infallible>(ev), (w, open)))
    });
    let mut r = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    let h = r.headers_mut();
    if let Some(o) = site
        .cors
        .as_deref()
        .and_then(|o| HeaderValue::from_str(o).ok())
    {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies must not hold the events back.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

/// One open widget stream.
struct Watch {
    st: ChatState,
    rx: Receiver<LiveEvent>,
    chat: i64,
    visitor: String,
    conversation: Option<i64>,
    /// The last message id sent.
    after: i64,
    /// When the token ends (unix ms): the stream ends then.
    expires: i64,
    queue: VecDeque<Event>,
    last_touch: Instant,
    last_resolve: Option<Instant>,
    /// A lookup was put off (too soon after the last): done when the gap has passed.
    resolve_due: bool,
    /// The visitor wrote since an agent last had the conversation open (a `seen` is due).
    unseen_by_agents: bool,
    started: bool,
}

impl Watch {
    async fn next(&mut self) -> Option<Event> {
        if !self.started {
            self.started = true;
            self.refresh(true).await;
        }
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Some(ev);
            }
            let left = self.expires - now_ms();
            if left <= 0 {
                return None;
            }
            if self.last_touch.elapsed() >= HEARTBEAT {
                self.last_touch = Instant::now();
                let _ = chat_store::touch(&self.st.db, self.chat, &self.visitor, now_ms()).await;
            }
            let mut wait = HEARTBEAT
                .saturating_sub(self.last_touch.elapsed())
                .min(Duration::from_millis(left as u64));
            if self.resolve_due {
                let since = self.last_resolve.map_or(RESOLVE_GAP, |t| t.elapsed());
                wait = wait.min(RESOLVE_GAP.saturating_sub(since));
            }
            match tokio::time::timeout(wait, self.rx.recv()).await {
                Err(_) => {
                    if self.resolve_due {
                        self.refresh(true).await;
                    }
                }
                Ok(Err(RecvError::Closed)) => return None,
                // Missed events: look again at everything after the last message sent.
                Ok(Err(RecvError::Lagged(_))) => self.refresh(true).await,
                Ok(Ok(ev)) => self.on_event(ev).await,
            }
        }
    }

    async fn on_event(&mut self, ev: LiveEvent) {
        match ev.kind {
            LiveKind::Presence => {
                let (Some(c), Some(p)) = (self.conversation, ev.presence.as_ref()) else {
                    return;
                };
                if ev.conversation_id != Some(c) || p.user_id <= 0 {
                    return;
                }
                let first = p.name.split_whitespace().next().unwrap_or("").to_string();
                // An agent with the conversation open has seen what the visitor wrote.
                if p.state != PresenceState::Left && self.unseen_by_agents {
                    self.unseen_by_agents = false;
                    self.queue.push_back(
                        Event::default()
                            .event("seen")
                            .data(serde_json::json!({ "name": first }).to_string()),
                    );
                }
                if p.state == PresenceState::Typing {
                    self.queue.push_back(
                        Event::default()
                            .event("typing")
                            .data(serde_json::json!({ "name": first }).to_string()),
                    );
                }
            }
            LiveKind::Message | LiveKind::Delivery | LiveKind::Conversation => {
                let ours = match (self.conversation, ev.conversation_id) {
                    (Some(c), Some(e)) => c == e,
                    // Not yet known: the visitor's first message may have just been stored.
                    (None, _) => true,
                    (_, None) => true,
                };
                if ours {
                    self.refresh(false).await;
                }
            }
            LiveKind::Channel | LiveKind::Accounts => {}
        }
    }

    /// Finds the visitor's conversation (it changes when customers are merged) and queues the
    /// messages after the last one sent; answers handed over become `delivered`.
    async fn refresh(&mut self, force: bool) {
        if self.conversation.is_none()
            && !force
            && self.last_resolve.is_some_and(|t| t.elapsed() < RESOLVE_GAP)
        {
            self.resolve_due = true;
            return;
        }
        self.resolve_due = false;
        self.last_resolve = Some(Instant::now());
        let db = &self.st.db;
        let found = match chat_store::conversation_of(db, &self.visitor).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "chat stream could not find its conversation");
                return;
            }
        };
        if found != self.conversation {
            self.conversation = found;
        }
        let Some(c) = self.conversation else {
            return;
        };
        let messages = match chat_store::messages_after(db, c, self.after).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "chat stream could not read messages");
                return;
            }
        };
        let mut last_answer = None;
        for m in messages {
            self.after = self.after.max(m.id);
            if m.direction == "out" && m.delivery_state == "sent" {
                last_answer = Some(m.id);
            }
            if m.direction == "in" {
                self.unseen_by_agents = true;
            }
            let w = WidgetMessage::from(m);
            self.queue.push_back(
                Event::default()
                    .event("message")
                    .id(w.id.to_string())
                    .data(serde_json::to_string(&w).unwrap_or_default()),
            );
        }
        if let Some(upto) = last_answer {
            if let Ok(n) = chat_store::mark_answers(db, c, upto, "delivered").await {
                if n > 0 {
                    self.st
                        .hub
                        .publish(LiveEvent {
                            kind: LiveKind::Delivery,
                            conversation_id: Some(c),
                            message_id: None,
                            presence: None,
                        })
                        .await;
                }
            }
        }
    }
}
