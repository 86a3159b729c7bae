//! `GET /conversations/{id}/preference-link?identifier=N`: "Let the customer choose" as a page,
//! for an agent without JavaScript (with it, the composer's button adds the line to the draft
//! in place). The page shows the customer's preference center link to copy into a reply.

use super::auth::{need, Authorized};
use app::domain::text::escape_html;
use app::ssr::{pref_token, AppState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

pub async fn preference_link_handler(
    _staff: Authorized<need::Reply>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let identifier = q
        .get("identifier")
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    let found = app::service::preferences::link_target(&state.db, id, identifier).await;
    let (status, body) = match found {
        Ok((i, c)) => {
            let link = pref_token::link(
                &state.settings.public_url,
                state.settings.secret_key.as_bytes(),
                i,
                c,
                app::store::now_ms(),
            );
            (
                StatusCode::OK,
                format!(
                    "<p>Copy this line into your reply; it opens the customer's preference center for 30 days:</p>\
                     <p><textarea readonly rows=\"3\" cols=\"70\" aria-label=\"Preference center link\">Choose how we reach you: {}</textarea></p>",
                    escape_html(&link)
                ),
            )
        }
        Err(app::store::StoreError::NotFound) => (
            StatusCode::NOT_FOUND,
            "<p>Pick one of this customer's addresses to reply by first.</p>".to_string(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "preference link");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<p>Something went wrong on our side; try again.</p>".to_string(),
            )
        }
    };
    super::plain_pages::copy_page(status, "Let the customer choose", &body, id)
}
