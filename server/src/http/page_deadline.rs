//! A deadline for server-rendered pages, with one fresh render when the first one stalls.
//!
//! Every page is rendered with `SsrMode::Async`: nothing is sent before the whole page is ready,
//! so a render that never finishes would leave the browser on a blank tab forever. Leptos 0.8
//! has had such stalls (a Suspense boundary that misses its last notification under load,
//! leptos-rs/leptos#4851, #4673); one was seen a handful of times in our full test run on
//! PostgreSQL and could not be reproduced alone. A page render has no side effects (GET only:
//! marking read, presence and every change happen in server functions), so a render still
//! unfinished after [`FIRST_TRY`] is dropped and the page rendered once more; a second stall
//! answers 503 with a page that says so in words. Both are logged with the path.
//!
//! The deadline covers the whole body, not only the head: Leptos sends the page's HTML, then
//! the data of its resources for hydration as a stream, and that stream was seen to stall too
//! (the head sent, the body never finished; a full test run on SQLite, December 2026). So a
//! page is read whole within the deadline and sent as one body; with `SsrMode::Async` nothing
//! was sent before the HTML was complete anyway.
//!
//! Only page GETs are covered: server functions, the event stream, files, exports and assets
//! pass through untouched.

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt};

/// How long the first render may take before it is tried again.
pub const FIRST_TRY: Duration = Duration::from_secs(15);
/// How long the second render may take before the page answers 503.
pub const SECOND_TRY: Duration = Duration::from_secs(20);

/// The largest page read whole (a long conversation's page is a few hundred kilobytes).
const MAX_PAGE_BYTES: usize = 32 << 20;

/// The first path segments of the app's pages (`ui::App`'s routes).
const PAGES: &[&str] = &[
    "",
    "inbox",
    "login",
    "playground",
    "admin",
    "reports",
    "canned",
    "campaigns",
];

/// Whether `req` asks for a server-rendered page.
fn is_page(req: &Request<Body>) -> bool {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return false;
    }
    let path = req.uri().path();
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    PAGES.contains(&first) && !path.ends_with(".csv")
}

#[derive(Clone, Copy, Debug)]
pub struct PageDeadlineLayer {
    first: Duration,
    second: Duration,
}

impl PageDeadlineLayer {
    /// [`FIRST_TRY`], then [`SECOND_TRY`].
    pub fn new() -> PageDeadlineLayer {
        PageDeadlineLayer::with(FIRST_TRY, SECOND_TRY)
    }

    /// Other deadlines (tests).
    pub fn with(first: Duration, second: Duration) -> PageDeadlineLayer {
        PageDeadlineLayer { first, second }
    }
}

impl Default for PageDeadlineLayer {
    fn default() -> Self {
        PageDeadlineLayer::new()
    }
}

impl<S> Layer<S> for PageDeadlineLayer {
    type Service = PageDeadline<S>;
    fn layer(&self, inner: S) -> PageDeadline<S> {
        PageDeadline {
            inner,
            first: self.first,
            second: self.second,
        }
    }
}

#[derive(Clone, Debug)]
pub struct PageDeadline<S> {
    inner: S,
    first: Duration,
    second: Duration,
}

/// A short page in words with `status`: its title, heading and paragraph.
fn words_page(status: StatusCode, title: &str, heading: &str, text: &str) -> Response<Body> {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Convergence</title></head><body><main>\
         <h1>{heading}</h1><p>{text} Nothing was changed. Reload the page to try again; if it \
         keeps happening, tell your administrator (the server log names the page).</p>\
         </main></body></html>"
    );
    let mut res = Response::new(Body::from(html));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// The answer after two stalled renders.
fn stalled_page() -> Response<Body> {
    let mut res = words_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Page not ready",
        "This page could not be prepared in time",
        "The server started it twice and neither finished.",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

/// The answer when a page's body could not be read (an error from the renderer, or larger
/// than [`MAX_PAGE_BYTES`]).
fn unreadable_page() -> Response<Body> {
    words_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Page failed",
        "This page could not be prepared",
        "The server failed while writing it.",
    )
}

/// A rendered page with its body read whole (the wait counts against the deadline).
async fn whole<E>(res: Result<Response<Body>, E>, path: &str) -> Result<Response<Body>, E> {
    let (parts, body) = res?.into_parts();
    match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => Ok(Response::from_parts(parts, Body::from(bytes))),
        Err(e) => {
            tracing::error!(%path, error = %e, "page body could not be read; answered 500");
            Ok(unreadable_page())
        }
    }
}

impl<S> Service<Request<Body>> for PageDeadline<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The service that was made ready serves this call; a clone serves a second try.
        let spare = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, spare);
        if !is_page(&req) {
            return Box::pin(inner.call(req));
        }
        let (first, second) = (self.first, self.second);
        // A page GET has no body: its method, URI, headers and extensions make it again.
        let again = {
            let mut r = Request::new(Body::empty());
            *r.method_mut() = req.method().clone();
            *r.uri_mut() = req.uri().clone();
            *r.version_mut() = req.version();
            *r.headers_mut() = req.headers().clone();
            if let Some(info) = req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            {
                r.extensions_mut().insert(*info);
            }
            r
        };
        let retry = self.inner.clone();
        Box::pin(async move {
            let path = req.uri().path().to_string();
            match tokio::time::timeout(first, async { whole(inner.call(req).await, &path).await })
                .await
            {
                Ok(res) => return res,
                Err(_) => tracing::error!(
                    %path,
                    seconds = first.as_secs_f64(),
                    "page render stalled; rendering it once more"
                ),
            }
            let res = async { whole(retry.oneshot(again).await, &path).await };
            match tokio::time::timeout(second, res).await {
                Ok(res) => res,
                Err(_) => {
                    tracing::error!(
                        %path,
                        seconds = second.as_secs_f64(),
                        "page render stalled twice; answered 503"
                    );
                    Ok(stalled_page())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    type Boxed = tower::util::BoxCloneService<Request<Body>, Response<Body>, Infallible>;

    /// Short deadlines, so the tests take real time without tokio's paused clock.
    const FIRST: Duration = Duration::from_millis(60);
    const SECOND: Duration = Duration::from_millis(90);

    /// A page service whose first `stalls` calls never finish; later calls answer 200 at
    /// once with the URI and cookie they were given.
    fn stalling(stalls: usize, calls: Arc<AtomicUsize>) -> PageDeadline<Boxed> {
        let svc = tower::service_fn(move |req: Request<Body>| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                assert_eq!(req.method(), Method::GET);
                if n < stalls {
                    std::future::pending::<()>().await;
                }
                let cookie = req
                    .headers()
                    .get("cookie")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string();
                Ok::<_, Infallible>(Response::new(Body::from(format!("{} {cookie}", req.uri()))))
            }
        });
        PageDeadlineLayer::with(FIRST, SECOND).layer(tower::util::BoxCloneService::new(svc))
    }

    fn get(path: &str) -> Request<Body> {
        Request::builder()
            .uri(path)
            .header("cookie", "s=1")
            .body(Body::empty())
            .unwrap()
    }

    async fn text(res: Response<Body>) -> String {
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_stalled_page_is_rendered_once_more_with_the_same_request() {
        let calls = Arc::new(AtomicUsize::new(0));
        let res = stalling(1, calls.clone())
            .oneshot(get("/inbox/7?status=open"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(text(res).await, "/inbox/7?status=open s=1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_body_that_stalls_after_the_head_is_a_stall() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let svc = tower::service_fn(move |req: Request<Body>| {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                // The head at once; the first body sends its HTML and never ends.
                let body = if n == 0 {
                    Body::from_stream(
                        futures::stream::iter([Ok::<_, Infallible>("<html>".to_string())])
                            .chain(futures::stream::pending()),
                    )
                } else {
                    Body::from(format!("whole {}", req.uri()))
                };
                Ok::<_, Infallible>(Response::new(body))
            }
        });
        let res = PageDeadlineLayer::with(FIRST, SECOND)
            .layer(tower::util::BoxCloneService::new(svc))
            .oneshot(get("/inbox/3"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body = tokio::time::timeout(FIRST + SECOND, text(res))
            .await
            .expect("the answer's body ends");
        assert_eq!(body, "whole /inbox/3");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn two_stalls_answer_503_in_words() {
        let calls = Arc::new(AtomicUsize::new(0));
        let started = std::time::Instant::now();
        let res = stalling(2, calls.clone())
            .oneshot(get("/reports?tab=reach"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let took = started.elapsed();
        assert!(took >= FIRST + SECOND, "{took:?}");
        assert!(took < (FIRST + SECOND) * 10, "{took:?}");
        let body = text(res).await;
        assert!(body.contains("could not be prepared in time"), "{body}");
        assert!(body.contains("Reload the page"), "{body}");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn only_page_gets_are_covered() {
        for path in [
            "/api/events",
            "/api/send_reply",
            "/pkg/convergence.wasm",
            "/reports/export.csv",
            "/attachments/3",
            "/healthz",
        ] {
            let calls = Arc::new(AtomicUsize::new(0));
            let svc = stalling(1, calls.clone());
            let res = tokio::time::timeout((FIRST + SECOND) * 3, svc.oneshot(get(path))).await;
            assert!(res.is_err(), "{path} was cut off or retried");
            assert_eq!(calls.load(Ordering::SeqCst), 1, "{path}");
        }
        assert!(is_page(&get("/")));
        assert!(is_page(&get("/campaigns/3")));
        let post = Request::builder()
            .method(Method::POST)
            .uri("/inbox")
            .body(Body::empty())
            .unwrap();
        assert!(!is_page(&post));
    }
}
