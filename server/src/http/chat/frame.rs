//! The widget's code and the chat frame, and CORS preflights: embeddable and callable only by
//! the chat's allowed websites.

use super::{ChatState, Refused};
use crate::channels::chat::settings::ChatConfig;
use app::domain::text::escape_html;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

const WIDGET_JS: &str = include_str!("../../../assets/chat/widget.js");
const FRAME_JS: &str = include_str!("../../../assets/chat/frame.js");
const FRAME_CSS: &str = include_str!("../../../assets/chat/frame.css");
const FRAME_HTML: &str = include_str!("../../../assets/chat/frame.html");

pub async fn widget_js() -> Response {
    asset(WIDGET_JS, "text/javascript").await
}

pub async fn frame_js() -> Response {
    asset(FRAME_JS, "text/javascript").await
}

pub async fn frame_css() -> Response {
    asset(FRAME_CSS, "text/css").await
}

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
pub async fn frame_handler(
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
        escape_html(words)
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

/// CORS preflight: allowed for the chat's websites only.
pub async fn preflight_handler(
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
