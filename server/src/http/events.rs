//! `GET /api/events`: server-sent events for signed-in staff. Events carry ids only; browsers
//! re-fetch what they are allowed to see through the authorised server functions.

use super::auth::{need, Authorized};
use app::model::{LiveEvent, LiveKind};
use app::ssr::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::convert::Infallible;

pub async fn events_handler(
    _staff: Authorized<need::ReadConversations>,
    State(state): State<AppState>,
) -> Response {
    let open = super::metrics::StreamGuard::open(&state.counters, super::metrics::Stream::Staff);
    let stream =
        tokio_stream::wrappers::BroadcastStream::new(state.hub.subscribe()).map(move |r| {
            let _counted = &open;
            // A lagging browser missed events: tell it to re-fetch everything.
            let ev = r.unwrap_or(LiveEvent {
                kind: LiveKind::Conversation,
                conversation_id: None,
                message_id: None,
                presence: None,
            });
            Ok::<_, Infallible>(
                Event::default().data(serde_json::to_string(&ev).unwrap_or_default()),
            )
        });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
