//! `GET` and `POST /unsubscribe/{token}`: the pages an email's unsubscribe link opens (the
//! token is `channels::email::unsubscribe`).
//!
//! `GET` shows a page with a confirm button and never changes anything (mail scanners follow
//! links). `POST` records the opt-out (source `unsubscribe`) and says so; a mail client's
//! one-click POST (`List-Unsubscribe=One-Click`) does the same. The routes sit outside the
//! session and CSRF layers: the signature is the authentication.

use crate::channels::email::unsubscribe::{verify, TokenError};
use app::domain::consent::Purpose;
use app::domain::text::escape_html;
use app::service::consent;
use app::ssr::AppState;
use app::store::{identifiers, StoreError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// `GET` and `POST /unsubscribe/{token}`. Merge it after the session and CSRF layers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/unsubscribe/{token}",
            get(page_handler).post(confirm_handler),
        )
        .layer(axum::extract::DefaultBodyLimit::max(4096))
}

/// A small self-contained page: no scripts, no outside resources, no referrer (the URL holds
/// the token), not cached, not framed, not indexed.
fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1f2328}}\
         button{{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #3652d9;background:#3652d9;color:#fff;cursor:pointer}}\
         label{{display:block;margin:1rem 0}}.muted{{color:#59636e}}</style></head>\
         <body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape_html(title)
    );
    let mut r = (status, doc).into_response();
    super::plain_pages::link_page_headers(r.headers_mut(), "no-referrer");
    r
}

fn refused(e: TokenError) -> Response {
    match e {
        TokenError::Garbled => html(
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "<p>This unsubscribe link is damaged or cut short. Open it again from the email, or copy the whole link into your browser.</p>",
        ),
        TokenError::Forged => html(
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "<p>We did not send this unsubscribe link. Use the link in one of our emails.</p>",
        ),
    }
}

fn gone() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "Address not found",
        "<p>We no longer hold the address this link was sent to, so there is nothing to unsubscribe.</p>",
    )
}

fn failed(e: StoreError) -> Response {
    tracing::error!(error = %e, "unsubscribe");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "<p>We could not record your choice just now; it has been logged. Please try again in a few minutes.</p>",
    )
}

/// The confirmation page. Never changes anything.
async fn page_handler(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let (id, purpose) = match verify(st.settings.secret_key.as_bytes(), &token) {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    let value = match identifiers::value_of(&st.db, id).await {
        Ok(Some(v)) => v,
        Ok(None) => return gone(),
        Err(e) => return failed(e),
    };
    let what = match purpose {
        Purpose::Marketing => "marketing email (news and offers)",
        Purpose::Support => "email from us",
    };
    let body = format!(
        "<p>Stop sending {what} to <strong>{addr}</strong>?</p>\
         <form method=\"post\" action=\"/unsubscribe/{tok}\">\
         <label><input type=\"checkbox\" name=\"scope\" value=\"all\"> Also stop answers to my own questions at this address</label>\
         <button type=\"submit\">Unsubscribe</button></form>\
         <p class=\"muted\">Nothing changes until you press the button.</p>",
        addr = escape_html(&value),
        tok = escape_html(&token),
    );
    html(StatusCode::OK, "Unsubscribe", &body)
}

/// The confirm button's POST (`scope=all` stops support answers too) and a mail client's
/// one-click POST (`List-Unsubscribe=One-Click`, marketing only).
async fn confirm_handler(
    State(st): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let (id, purpose) = match verify(st.settings.secret_key.as_bytes(), &token) {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    let all = purpose == Purpose::Support
        || form_urlencoded::parse(&body).any(|(k, v)| k == "scope" && v == "all");
    let done = match consent::unsubscribe(&st.db, id, all).await {
        Ok(d) => d,
        Err(StoreError::NotFound) => return gone(),
        Err(e) => return failed(e),
    };
    if done.changed {
        if let Some(c) = done.conversation_id {
            st.hub.conversation_changed(c).await;
        }
    }
    let what = if all {
        "any more email from us, including answers to your questions"
    } else {
        "any more marketing email from us"
    };
    let body = format!(
        "<p><strong>{addr}</strong> will not receive {what}.</p>\
         <p class=\"muted\">Changed your mind? Write to us and we will set it back.</p>",
        addr = escape_html(&done.value),
    );
    html(StatusCode::OK, "You are unsubscribed", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape_html("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
