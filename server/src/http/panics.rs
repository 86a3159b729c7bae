//! A handler that panics (a bug) answers 500 in words instead of dropping the connection, and
//! the panic's message goes to the log. The outermost layer but one (inside the page deadline).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

/// What a person sees when a request hit a bug.
pub const WORDS: &str =
    "Something went wrong on our side while answering this request; it has been logged. \
Nothing already saved was lost. Try again, and tell your administrator if it happens again.";

pub fn layer() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(answer as fn(Box<dyn Any + Send + 'static>) -> Response)
}

fn answer(panic: Box<dyn Any + Send + 'static>) -> Response {
    let why = crate::panic_message(panic.as_ref());
    tracing::error!("a request handler panicked: {why}");
    let mut r = (StatusCode::INTERNAL_SERVER_ERROR, WORDS).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_words_and_the_next_request_is_served() {
        let app = Router::new()
            .route("/boom", get(|| async { panic!("a bug") as &str }))
            .route("/ok", get(|| async { "fine" }))
            .layer(layer());
        let r = app
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        assert_eq!(std::str::from_utf8(&body).unwrap(), WORDS);
        let r = app
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}
