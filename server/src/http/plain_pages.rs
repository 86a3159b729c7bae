//! What the small server-drawn pages outside the app share: the headers of a page reached by a
//! signed link (unsubscribe, the preference center) and the staff's no-JavaScript "copy this
//! line" pages (chat invitation, preference link).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Headers of a page a signed link opens: HTML, not cached, no scripts or outside resources,
/// not framed, not indexed. `referrer` is the page's `Referrer-Policy` (`no-referrer` keeps
/// the token in the URL to ourselves; a page whose forms pass the origin check needs
/// `same-origin`, or browsers send `Origin: null`).
pub fn link_page_headers(h: &mut HeaderMap, referrer: &'static str) {
    let mut set = |k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(header::CACHE_CONTROL, "no-store");
    set(header::REFERRER_POLICY, referrer);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
}

/// A staff page without JavaScript, in the app's stylesheet: `title`, `body` (HTML, escaped by
/// the caller) and a way back to conversation `conversation`.
pub fn copy_page(status: StatusCode, title: &str, body: &str, conversation: i64) -> Response {
    let t = app::domain::text::escape_html(title);
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{t}</title><link rel=\"stylesheet\" href=\"/pkg/convergence.css\"></head>\
             <body><main class=\"notice-page\" id=\"main\"><h1>{t}</h1>{body}\
             <p><a href=\"/inbox/{conversation}\">Back to the conversation</a></p></main></body></html>"
        ),
    )
        .into_response()
}
