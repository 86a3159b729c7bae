//! How server functions fail: a status code and words a person can act on. Internal errors
//! are logged with their detail and reported to the browser without it.

use crate::store::StoreError;
use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

/// Sets the response status and returns an error carrying `msg`.
///
/// Not for a plain HTML form posted to a server function (no JavaScript): that answer is a
/// redirect back to the form with the error in its URL, where the page shows it in words, and a
/// status would turn the redirect into a bare error page.
pub fn fail(status: StatusCode, msg: impl Into<String>) -> ServerFnError {
    if let Some(r) = use_context::<ResponseOptions>() {
        if !plain_form_post(use_context::<http::request::Parts>().as_ref()) {
            r.set_status(status);
        }
    }
    ServerFnError::new(msg.into())
}

/// Whether `request` is a browser's own form submission (a POST that accepts HTML), which the
/// server function layer answers with a redirect to the page it came from.
fn plain_form_post(request: Option<&http::request::Parts>) -> bool {
    request.is_some_and(|p| {
        p.method == http::Method::POST
            && p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"))
    })
}

pub fn store(e: StoreError) -> ServerFnError {
    match e {
        StoreError::NotFound => fail(StatusCode::NOT_FOUND, "Not found."),
        StoreError::Invalid(m) | StoreError::Conflict(m) => fail(StatusCode::BAD_REQUEST, m),
        other => {
            tracing::error!(error = %other, "storage error");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side; it has been logged.",
            )
        }
    }
}

pub fn bad_request(msg: impl Into<String>) -> ServerFnError {
    fail(StatusCode::BAD_REQUEST, msg)
}

#[cfg(test)]
mod tests {
    use super::plain_form_post;

    fn request(method: &str, accept: Option<&str>) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri("/api/login");
        if let Some(a) = accept {
            b = b.header("accept", a);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_a_browsers_own_form_post_is_a_plain_form_post() {
        let html = "text/html,application/xhtml+xml,*/*;q=0.8";
        assert!(plain_form_post(Some(&request("POST", Some(html)))));
        // The app's own calls ask for JSON; pages are GETs; no request at all (a direct call).
        assert!(!plain_form_post(Some(&request(
            "POST",
            Some("application/json")
        ))));
        assert!(!plain_form_post(Some(&request("POST", None))));
        assert!(!plain_form_post(Some(&request("GET", Some(html)))));
        assert!(!plain_form_post(None));
    }
}
