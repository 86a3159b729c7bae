//! `GET /conversations/{id}/chat-invite`: the "Invite to website chat" link as a page, for an
//! agent without JavaScript (with it, the composer's button adds the link to the draft in
//! place). The page shows the signed link to copy into a reply, and a way back.

use super::auth::{need, Authorized};
use app::domain::text::escape_html;
use app::ssr::{chat_token, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

pub async fn chat_invite_handler(
    _staff: Authorized<need::Reply>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Response {
    let key = state.settings.secret_key.clone();
    let expires = app::store::now_ms() + app::service::chat::INVITE_TTL_MS;
    let found = app::service::chat::invite_link(&state.db, id, |chat, customer| {
        chat_token::continue_token(key.as_bytes(), chat, customer, expires)
    })
    .await;
    let (status, body) = match found {
        Ok(Some((name, link))) => (
            StatusCode::OK,
            format!(
                "<p>Copy this line into your reply; it opens “{}” attached to this customer for a week:</p>\
                 <p><textarea readonly rows=\"3\" cols=\"70\" aria-label=\"Invitation\">You can continue with us in our website chat: {}</textarea></p>",
                escape_html(&name),
                escape_html(&link)
            ),
        ),
        Ok(None) => (
            StatusCode::OK,
            "<p>No website chat names a site to open on: add one in Admin → Channels.</p>".to_string(),
        ),
        Err(app::store::StoreError::NotFound) => (
            StatusCode::NOT_FOUND,
            "<p>No such conversation.</p>".to_string(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "chat invite");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<p>Something went wrong on our side; try again.</p>".to_string(),
            )
        }
    };
    super::plain_pages::copy_page(status, "Invite to website chat", &body, id)
}
