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

/// `scheme://host:port` of an absolute http(s) URL, lower-cased, with the scheme's default port
/// written out; `None` for anything else (`null`, a relative URL, userinfo, another scheme).
pub fn origin_of(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{h}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None => default_port,
        Some(p) => p.parse().ok()?,
    };
    if host.is_empty() {
        return None;
    }
    Some((scheme, host.to_ascii_lowercase(), port))
}

/// Whether a request may proceed: reads and webhooks always; anything else only when its
/// `Origin` (or, without one, its `Referer`) has the public URL's scheme, host and port. The
/// request's own `Host` is never the reference: it is whatever the client wrote.
pub fn allowed(
    method: &Method,
    path: &str,
    origin: Option<&str>,
    referer: Option<&str>,
    public_origin: &str,
) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || path.starts_with("/webhooks/")
    {
        return true;
    }
    let Some(ours) = origin_of(public_origin) else {
        return false;
    };
    match (origin, referer) {
        (Some(o), _) => origin_of(o.trim()) == Some(ours),
        (None, Some(r)) => origin_of(r.trim()) == Some(ours),
        (None, None) => false,
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
        get(header::REFERER.as_str()),
        &settings.public_origin(),
    );
    if ok {
        next.run(req).await
    } else {
        tracing::warn!(
            path = %req.uri().path(),
            origin = ?get("origin"),
            referer = ?get("referer"),
            public_origin = %settings.public_origin(),
            "cross-origin request refused (open the app at its public URL, CONVERGENCE_PUBLIC_URL)"
        );
        (
            StatusCode::FORBIDDEN,
            "Cross-origin request refused: open the app at its public address.",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const PUB: &str = "https://inbox.example.com";

    fn post(origin: Option<&str>, referer: Option<&str>, public: &str) -> bool {
        allowed(&Method::POST, "/api/login", origin, referer, public)
    }

    #[test]
    fn reads_are_always_allowed() {
        assert!(allowed(
            &Method::GET,
            "/inbox",
            Some("https://evil.test"),
            None,
            PUB
        ));
    }

    #[test]
    fn posts_need_our_origin() {
        assert!(post(Some(PUB), None, PUB));
        assert!(post(Some("HTTPS://Inbox.Example.com:443"), None, PUB));
        assert!(!post(Some("https://evil.test"), None, PUB));
        assert!(!post(Some("null"), None, PUB));
        assert!(!post(
            Some("https://inbox.example.com.evil.test"),
            None,
            PUB
        ));
        assert!(!post(
            Some("https://inbox.example.com@evil.test"),
            None,
            PUB
        ));
        // An Origin that is wrong is not rescued by a right Referer.
        assert!(!post(
            Some("https://evil.test"),
            Some("https://inbox.example.com/inbox"),
            PUB
        ));
    }

    #[test]
    fn the_scheme_must_match() {
        assert!(!post(Some("http://inbox.example.com"), None, PUB));
        assert!(!post(
            Some("https://127.0.0.1:3000"),
            None,
            "http://127.0.0.1:3000"
        ));
        assert!(!post(None, Some("http://inbox.example.com/inbox"), PUB));
    }

    #[test]
    fn the_port_must_match() {
        assert!(!post(Some("https://inbox.example.com:8443"), None, PUB));
        assert!(!post(
            Some("http://127.0.0.1:3001"),
            None,
            "http://127.0.0.1:3000"
        ));
        assert!(post(
            Some("http://127.0.0.1:3000"),
            None,
            "http://127.0.0.1:3000"
        ));
        assert!(post(Some("http://x.test"), None, "http://x.test:80"));
        assert!(post(Some("http://[::1]:3000"), None, "http://[::1]:3000"));
        assert!(!post(Some("http://[::1]:3001"), None, "http://[::1]:3000"));
    }

    #[test]
    fn the_host_header_is_never_the_reference() {
        // Development by another name than the public URL's is refused: only the configured
        // origin counts, whatever Host the request carries.
        assert!(!post(
            Some("http://localhost:3000"),
            None,
            "http://127.0.0.1:3000"
        ));
    }

    #[test]
    fn without_origin_the_referer_decides() {
        assert!(post(None, Some("https://inbox.example.com/inbox?x=1"), PUB));
        assert!(post(None, Some("https://inbox.example.com"), PUB));
        assert!(!post(
            None,
            Some("https://evil.test/inbox.example.com"),
            PUB
        ));
        assert!(!post(None, Some("https://inbox.example.com:444/"), PUB));
        assert!(!post(None, Some("/inbox"), PUB));
    }

    #[test]
    fn without_origin_and_referer_state_changes_are_refused() {
        assert!(!post(None, None, PUB));
        assert!(!allowed(&Method::DELETE, "/api/x", None, None, PUB));
        assert!(!allowed(&Method::PUT, "/api/x", None, None, PUB));
    }

    #[test]
    fn webhooks_are_exempt() {
        assert!(allowed(
            &Method::POST,
            "/webhooks/twilio/1",
            None,
            None,
            PUB
        ));
    }

    #[test]
    fn origins_are_read_strictly() {
        assert_eq!(
            origin_of("https://A.example/x"),
            Some(("https".into(), "a.example".into(), 443))
        );
        assert_eq!(origin_of("ftp://a.example"), None);
        assert_eq!(origin_of("https://a.example:99999"), None);
        assert_eq!(origin_of("https://"), None);
        assert_eq!(origin_of("null"), None);
    }
}
