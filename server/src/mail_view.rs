//! Showing email safely: the sanitised HTML body of a message in a sandboxed frame with its own
//! Content-Security-Policy, and attachments served as downloads. Both check the session and
//! the reader's permission, like every server function.

use crate::channels::email::sanitize;
use app::domain::Permission;
use app::ssr::AppState;
use app::store::{attachments, messages};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

async fn authorize(state: &AppState, session: &Session) -> Result<(), Response> {
    crate::routes::authorize(state, session, Permission::ReadConversations)
        .await
        .map(|_| ())
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "mail view");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
}

#[derive(Deserialize)]
pub struct BodyQuery {
    #[serde(default)]
    images: Option<String>,
}

/// `GET /messages/{id}/body[?images=1]`: the frame document of an HTML email.
pub async fn message_body(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<BodyQuery>,
) -> Response {
    if let Err(r) = authorize(&state, &session).await {
        return r;
    }
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

/// Types a browser may show inline in the message frame; everything else is a download of
/// `application/octet-stream`.
pub(crate) fn served_type(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "image/png",
        "image/jpeg" | "image/jpg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        "application/pdf" => "application/pdf",
        "text/plain" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `Content-Disposition: attachment` with an ASCII fallback and the UTF-8 name (RFC 6266).
pub fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()[]".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `GET /attachments/{id}`: one attachment, always as a download.
pub async fn attachment(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    if let Err(r) = authorize(&state, &session).await {
        return r;
    }
    let a = match attachments::get(&state.db, id).await {
        Ok(Some(a)) => a,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such attachment.").into_response(),
        Err(e) => return internal(e),
    };
    let mut resp = a.data.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(served_type(&a.content_type)),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&a.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_are_safe() {
        let d = content_disposition("report \"final\"\r\n.pdf");
        assert!(!d.contains('\r') && !d.contains('\n'));
        assert!(
            d.starts_with("attachment; filename=\"report _final___.pdf\""),
            "{d}"
        );
        assert!(content_disposition("naïve.txt").contains("filename*=UTF-8''na%C3%AFve.txt"));
    }

    #[test]
    fn only_known_types_are_served_as_themselves() {
        assert_eq!(served_type("text/html"), "application/octet-stream");
        assert_eq!(served_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(served_type("image/png"), "image/png");
    }
}
