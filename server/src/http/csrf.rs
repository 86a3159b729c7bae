//! Cross-site request forgery protection: a state-changing request must come from our own
//! origin. Leptos server functions have no CSRF protection of their own, so this runs in front
//! of every route. Provider webhooks (`/webhooks/...`) are exempt: they are authenticated by
//! their signatures instead.

use app::ssr::state::Settings;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Whether a request may proceed.
pub fn allowed(
    method: &Method,
    path: &str,
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
    host: Option<&str>,
    public_origin: &str,
) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || path.starts_with("/webhooks/")
    {
        return true;
    }
    match origin {
        Some("null") => false,
        Some(o) => {
            if o.eq_ignore_ascii_case(public_origin) {
                return true;
            }
            // Same host as the request was addressed to (e.g. localhost vs 127.0.0.1 in dev).
            let authority = o.split_once("://").map(|(_, a)| a).unwrap_or("");
            matches!(host, Some(h) if !authority.is_empty() && h.eq_ignore_ascii_case(authority))
        }
        None => matches!(sec_fetch_site, Some("same-origin")),
    }
}

pub async fn check_origin(
    State(settings): State<Arc<Settings>>,
    req: Request,
    next: Next,
) -> Response {
    let h = req.headers();
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    let ok = allowed(
        req.method(),
        req.uri().path(),
        get(header::ORIGIN.as_str()),
        get("sec-fetch-site"),
        get(header::HOST.as_str()),
        &settings.public_origin(),
    );
    if ok {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), origin = ?get("origin"), "cross-origin request refused");
        (StatusCode::FORBIDDEN, "Cross-origin request refused.").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const PUB: &str = "https://inbox.example.com";

    #[test]
    fn reads_are_always_allowed() {
        assert!(allowed(
            &Method::GET,
            "/inbox",
            Some("https://evil.test"),
            None,
            None,
            PUB
        ));
    }

    #[test]
    fn posts_need_our_origin() {
        assert!(allowed(
            &Method::POST,
            "/api/login",
            Some(PUB),
            None,
            Some("inbox.example.com"),
            PUB
        ));
        assert!(!allowed(
            &Method::POST,
            "/api/login",
            Some("https://evil.test"),
            None,
            Some("inbox.example.com"),
            PUB
        ));
        assert!(!allowed(
            &Method::POST,
            "/api/login",
            Some("null"),
            None,
            None,
            PUB
        ));
        assert!(!allowed(
            &Method::POST,
            "/api/login",
            Some("https://inbox.example.com.evil.test"),
            None,
            None,
            PUB
        ));
    }

    #[test]
    fn same_host_origin_is_accepted_for_local_development() {
        assert!(allowed(
            &Method::POST,
            "/api/x",
            Some("http://localhost:3000"),
            None,
            Some("localhost:3000"),
            "http://127.0.0.1:3000"
        ));
        assert!(!allowed(
            &Method::POST,
            "/api/x",
            Some("http://localhost:3001"),
            None,
            Some("localhost:3000"),
            "http://127.0.0.1:3000"
        ));
    }

    #[test]
    fn missing_origin_needs_same_origin_fetch_metadata() {
        assert!(allowed(
            &Method::POST,
            "/api/x",
            None,
            Some("same-origin"),
            None,
            PUB
        ));
        assert!(!allowed(
            &Method::POST,
            "/api/x",
            None,
            Some("cross-site"),
            None,
            PUB
        ));
        assert!(!allowed(&Method::POST, "/api/x", None, None, None, PUB));
        assert!(!allowed(&Method::DELETE, "/api/x", None, None, None, PUB));
    }

    #[test]
    fn webhooks_are_exempt() {
        assert!(allowed(
            &Method::POST,
            "/webhooks/twilio/1",
            None,
            None,
            None,
            PUB
        ));
    }
}
