//! The whole HTTP edge: the router with its layers (sessions, CSRF, compression, security
//! headers), the Leptos pages and server functions, and every plain axum route.
//!
//! - `auth`: the one [`auth::Authorized`] extractor plain routes use; `csrf`: the Origin check.
//! - `assets`: the pre-compressed client bundle; `health`: `/healthz`; `events`: `/api/events`;
//!   `metrics`: `/metrics` (Prometheus, behind a bearer token).
//! - `message_frame`: `/messages/{id}/body`; `attachments`: `/attachments/{id}`; `files`:
//!   `/files/{token}`; `download`: the headers every served file carries.
//! - `uploads`: `/conversations/{id}/reply-with-files`; `unsubscribe`: `/unsubscribe/{token}`.
//! - `audit`: `/admin/audit.csv` (the trail as CSV) and the record every export leaves.
//! - `webhooks`: `/webhooks/{provider}/{account}` (the adapters verify, this stores).
//! - `page_deadline`: the outermost layer: a page render that stalls is tried once more, then
//!   answered 503 in words.

pub mod assets;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod chat;
pub mod chat_invite;
pub mod csrf;
pub mod download;
pub mod events;
pub mod files;
pub mod health;
pub mod message_frame;
pub mod metrics;
pub mod page_deadline;
pub mod panics;
pub mod plain_pages;
pub mod preference_link;
pub mod preferences;
pub mod reports;
pub mod unsubscribe;
pub mod uploads;
pub mod webhooks;

use app::ssr::AppState;
use app::store::sessions::DbSessionStore;
use app::{shell, App};
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub const SESSION_COOKIE: &str = "convergence_session";

/// The Content-Security-Policy of every response that sets none of its own. Scripts only from
/// our origin, plus, on a rendered page, the inline ones carrying that response's nonce (the
/// hydration bootstrap and streamed resource data); WebAssembly may be compiled (hydration).
pub fn csp(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "{scripts}; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// Context for every Leptos page and server function: the app state, and the page's CSP with
/// the nonce Leptos puts on its inline scripts for this response.
fn page_context(state: &AppState) {
    provide_context(state.clone());
    if let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(v) = HeaderValue::from_str(&csp(Some(&nonce))) {
            res.insert_header(header::CONTENT_SECURITY_POLICY, v);
        }
    }
}

/// The whole HTTP surface. Provider webhooks are merged outside the session, CSRF and
/// compression layers: they carry no cookies and are authenticated by their signatures.
pub fn router(state: AppState, registry: crate::channels::Registry) -> Router {
    let webhooks = webhooks::router(webhooks::WebhookState::new(
        state.db.clone(),
        registry,
        &state.settings.public_url,
        state.wake.inbound.clone(),
    ))
    .layer(axum::middleware::from_fn_with_state(
        state.counters.clone(),
        metrics::count_webhooks,
    ));
    let chat = chat::router(chat::ChatState::new(
        state.db.clone(),
        state.hub.clone(),
        webhooks::RawWriter::spawn(state.db.clone()),
        state.wake.inbound.clone(),
        &state.settings.secret_key,
        &state.settings.public_origin(),
        state.counters.clone(),
    ));
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.is_https())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));
    let ctx_state = state.clone();
    let fallback_state = state.clone();
    let shell_opts = state.leptos_options.clone();
    let pkg_dir = assets::pkg_dir(&state.leptos_options);
    Router::new()
        .route("/healthz", get(health::healthz_handler))
        .route("/metrics", get(metrics::metrics_handler))
        .nest_service("/pkg", ServeDir::new(pkg_dir).precompressed_br())
        .route("/api/events", get(events::events_handler))
        .route(
            "/messages/{id}/body",
            get(message_frame::message_body_handler),
        )
        .route("/attachments/{id}", get(attachments::attachment_handler))
        .route(
            "/conversations/{id}/chat-invite",
            get(chat_invite::chat_invite_handler),
        )
        .route(
            "/conversations/{id}/preference-link",
            get(preference_link::preference_link_handler),
        )
        .route("/reports/export.csv", get(reports::export_handler))
        .route("/admin/audit.csv", get(audit::export_handler))
        .route("/reports/episodes.csv", get(reports::episodes_handler))
        .route(
            "/conversations/{id}/reply-with-files",
            post(uploads::reply_with_files_handler).layer(axum::extract::DefaultBodyLimit::max(
                uploads::MAX_REQUEST_BYTES,
            )),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || page_context(&ctx_state),
            move || shell(shell_opts.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(move || page_context(&fallback_state), shell))
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
            HeaderValue::from_str(&csp(None)).expect("the CSP is a valid header value"),
        ))
        .merge(unsubscribe::routes()) // after the layers: signed links, no session or CSRF check
        .merge(preferences::routes()) // after the layers: signed links; checks its own origin
        .merge(files::routes()) // after the layers: file links carry their own token and headers
        .with_state(state)
        .merge(webhooks)
        .merge(chat)
        // A handler that panics answers 500 in words (and the log has the panic).
        .layer(panics::layer())
        // Outermost: a page render that stalls is tried once more, then answered in words.
        .layer(page_deadline::PageDeadlineLayer::new())
}
