//! The HTTP surface: Leptos pages and server functions, health check, live event stream.

use crate::csrf;
use app::domain::Permission;
use app::model::{LiveEvent, LiveKind};
use app::ssr::AppState;
use app::store::{sessions::DbSessionStore, sessions::USER_ID_KEY, users};
use app::{shell, App};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use futures::StreamExt;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::convert::Infallible;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

pub const SESSION_COOKIE: &str = "convergence_session";

/// The whole HTTP surface. Provider webhooks are merged outside the session, CSRF and
/// compression layers: they carry no cookies and are authenticated by their signatures.
pub fn router(state: AppState, registry: crate::channels::Registry) -> Router {
    let webhooks = crate::channels::webhook::router(crate::channels::webhook::WebhookState::new(
        state.db.clone(),
        registry,
        &state.settings.public_url,
        state.wake.inbound.clone(),
    ));
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.is_https())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));
    let ctx_state = state.clone();
    let shell_opts = state.leptos_options.clone();
    let pkg_dir = crate::assets::pkg_dir(&state.leptos_options);
    Router::new()
        .route("/healthz", get(healthz))
        .nest_service("/pkg", ServeDir::new(pkg_dir).precompressed_br())
        .route("/api/events", get(events))
        .route("/messages/{id}/body", get(crate::mail_view::message_body))
        .route("/attachments/{id}", get(crate::mail_view::attachment))
        .route(
            "/conversations/{id}/reply-with-files",
            axum::routing::post(crate::compose::reply_with_files).layer(
                axum::extract::DefaultBodyLimit::max(crate::compose::MAX_REQUEST_BYTES),
            ),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(ctx_state.clone()),
            move || shell(shell_opts.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.settings.clone(),
            csrf::check_origin,
        ))
        .layer(sessions)
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
            ),
        ))
        .merge(crate::unsubscribe::routes()) // after the layers: signed links, no session or CSRF check
        .merge(crate::links::routes()) // after the layers: file links carry their own token and headers
        .with_state(state)
        .merge(webhooks)
}

/// For plain axum routes (server functions use `app::ssr::auth::require`): the signed-in,
/// enabled user who holds `permission`, or the 401/403 response to send instead.
pub async fn authorize(
    state: &AppState,
    session: &Session,
    permission: Permission,
) -> Result<users::UserRow, Response> {
    let uid: Option<i64> = session.get(USER_ID_KEY).await.ok().flatten();
    let user = match uid {
        Some(id) => users::get(&state.db, id)
            .await
            .ok()
            .flatten()
            .filter(|u| !u.disabled),
        None => None,
    };
    match user {
        None => Err((StatusCode::UNAUTHORIZED, "Please sign in.").into_response()),
        Some(u) if !u.role.allows(permission) => {
            Err((StatusCode::FORBIDDEN, "Not allowed.").into_response())
        }
        Some(u) => Ok(u),
    }
}

/// 200 when the database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Server-sent events for signed-in staff. Events carry ids only; browsers re-fetch what they
/// are allowed to see through the authorised server functions.
async fn events(State(state): State<AppState>, session: Session) -> Response {
    if let Err(r) = authorize(&state, &session, Permission::ReadConversations).await {
        return r;
    }
    let stream = tokio_stream::wrappers::BroadcastStream::new(state.hub.subscribe()).map(|r| {
        // A lagging browser missed events: tell it to re-fetch everything.
        let ev = r.unwrap_or(LiveEvent {
            kind: LiveKind::Conversation,
            conversation_id: None,
            message_id: None,
        });
        Ok::<_, Infallible>(Event::default().data(serde_json::to_string(&ev).unwrap_or_default()))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
