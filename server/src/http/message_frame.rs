//! `GET /messages/{id}/body`: showing email safely. The sanitised HTML body of a message as the
//! document of a sandboxed frame with its own Content-Security-Policy; `cid:` images point at
//! `/attachments/{id}`; remote images only when the reader asks (`?images=1`). Checks the
//! session and the reader's permission, like every server function.

use super::auth::{need, Authorized};
use crate::channels::email::sanitize;
use app::ssr::AppState;
use app::store::{attachments, messages};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "message frame");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
}

#[derive(Deserialize)]
pub struct BodyQuery {
    #[serde(default)]
    images: Option<String>,
}

/// `GET /messages/{id}/body[?images=1]`: the frame document of an HTML email.
pub async fn message_body_handler(
    _staff: Authorized<need::ReadConversations>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<BodyQuery>,
) -> Response {
    let html = match messages::html_body(&state.db, id).await {
        Ok(Some(h)) => h,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such message.").into_response(),
        Err(e) => return internal(e),
    };
    let cids = match attachments::content_ids(&state.db, id).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let html = sanitize::rewrite_cid(&html, &|cid: &str| {
        cids.iter()
            .find(|(_, c)| c.eq_ignore_ascii_case(cid))
            .map(|(aid, _)| format!("/attachments/{aid}"))
    });
    let remote = q.images.as_deref() == Some("1");
    let frame = sanitize::render_frame(&html, remote);
    let mut resp = frame.html.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&sanitize::frame_csp(remote)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "x-blocked-images",
        HeaderValue::from(frame.blocked_images as u64),
    );
    resp
}
