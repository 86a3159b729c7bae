//! `GET /attachments/{id}`: one attachment of a message, always as a download (see
//! `download`), for staff who may read conversations.

use super::auth::{need, Authorized};
use super::download::download_response;
use app::ssr::AppState;
use app::store::attachments;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub async fn attachment_handler(
    _staff: Authorized<need::ReadConversations>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Response {
    match attachments::get(&state.db, id).await {
        Ok(Some(a)) => download_response(
            a.data,
            &a.content_type,
            &a.filename,
            "private, max-age=3600",
        ),
        Ok(None) => (StatusCode::NOT_FOUND, "No such attachment.").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "attachment");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}
