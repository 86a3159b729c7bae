//! How server functions fail: a status code and words a person can act on. Internal errors
//! are logged with their detail and reported to the browser without it.

use crate::store::StoreError;
use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

/// Sets the response status and returns an error carrying `msg`.
pub fn fail(status: StatusCode, msg: impl Into<String>) -> ServerFnError {
    if let Some(r) = use_context::<ResponseOptions>() {
        r.set_status(status);
    }
    ServerFnError::new(msg.into())
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
