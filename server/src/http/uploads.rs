//! Replies with files: a plain multipart form post (it works the same with and without
//! JavaScript and adds nothing to the browser bundle). The files are stored with the message in
//! the same transaction as its outbox row; the email sender attaches them. On channels that
//! cannot carry files (SMS, WhatsApp, Messenger, Instagram, Telegram) each file becomes a line
//! "File: <name> <link>" with an expiring, unguessable link served by `files`.

use super::auth::{need, Authorized};
use super::files;
use crate::channels::email::parse::safe_filename;
use app::model::{LiveEvent, LiveKind};
use app::ports::NewAttachment;
use app::service::reply::{self, FileLinks};
use app::ssr::AppState;
use app::store::StoreError;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

/// Largest request this form accepts (files plus text).
pub const MAX_REQUEST_BYTES: usize = reply::MAX_OUTBOUND_BYTES + 1024 * 1024;

fn problem(status: StatusCode, conversation: i64, words: &str) -> Response {
    let words = app::domain::text::escape_html(words);
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(format!(
            "<!doctype html><meta charset=utf-8><title>Not sent</title>\
             <p role=alert>Not sent: {words}</p><p><a href=\"/inbox/{conversation}\">Back to the conversation</a></p>"
        )),
    )
        .into_response()
}

fn content_type(ct: Option<&str>) -> String {
    let ct = ct.unwrap_or("").trim().to_ascii_lowercase();
    let ok = ct.split_once('/').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && ct
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/.+-".contains(c))
    });
    if ok {
        ct
    } else {
        "application/octet-stream".into()
    }
}

/// `POST /conversations/{id}/reply-with-files`: `via`, `body`, any number of `files`, the
/// draft's idempotency key `draft_key` (a double submit stores one message) and
/// `confirm_unverified` (ticked to reply to an unverified identifier).
pub async fn reply_with_files_handler(
    staff: Authorized<need::Reply>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> Response {
    let user = staff.user;
    let (mut via, mut body, mut files) = (String::new(), String::new(), Vec::new());
    let (mut draft_key, mut confirm_unverified) = (String::new(), String::new());
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    id,
                    &format!("the form could not be read ({e})"),
                )
            }
        };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "via" | "body" | "draft_key" | "confirm_unverified" => {
                let text = match field.text().await {
                    Ok(t) => t,
                    Err(e) => return problem(StatusCode::BAD_REQUEST, id, &e.to_string()),
                };
                match name.as_str() {
                    "via" => via = text,
                    "body" => body = text,
                    "draft_key" => draft_key = text,
                    _ => confirm_unverified = text,
                }
            }
            "files" => {
                let original = field.file_name().unwrap_or("").to_string();
                let ct = content_type(field.content_type());
                let data = match field.bytes().await {
                    Ok(d) => d,
                    Err(e) => {
                        return problem(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            id,
                            &format!("the files are too large ({e})"),
                        )
                    }
                };
                if original.is_empty() && data.is_empty() {
                    continue; // The file input was left empty.
                }
                let n = files.len() + 1;
                files.push(NewAttachment {
                    filename: safe_filename(&original, n, &ct),
                    content_type: ct,
                    content_id: None,
                    data: data.to_vec(),
                });
            }
            _ => {}
        }
    }
    let Some((acc, ident)) = via
        .split_once(':')
        .and_then(|(a, i)| Some((a.parse::<i64>().ok()?, i.parse::<i64>().ok()?)))
    else {
        return problem(StatusCode::BAD_REQUEST, id, "choose a channel to reply on");
    };
    // On a channel that cannot carry files, each becomes an expiring link (`/files/{token}`);
    // the store uses these tokens only then.
    let links = FileLinks {
        base_url: state.settings.public_url.trim_end_matches('/').to_string(),
        tokens: files.iter().map(|_| files::new_token()).collect(),
    };
    let sending = reply::Sending {
        draft_key: Some(draft_key.as_str()),
        unverified_confirmed: !matches!(confirm_unverified.trim(), "" | "0" | "false" | "off"),
    };
    match reply::queue_agent_reply(
        &state.db,
        id,
        acc,
        ident,
        user.id,
        &body,
        &files,
        Some(&links),
        sending,
    )
    .await
    {
        Ok(mid) => {
            state.wake.outbox.notify_one();
            state
                .hub
                .publish(LiveEvent {
                    kind: LiveKind::Message,
                    conversation_id: Some(id),
                    message_id: Some(mid),
                    presence: None,
                })
                .await;
            Redirect::to(&format!("/inbox/{id}")).into_response()
        }
        Err(StoreError::Invalid(words)) => problem(StatusCode::BAD_REQUEST, id, &words),
        Err(StoreError::NotFound) => problem(StatusCode::NOT_FOUND, id, "no such conversation"),
        Err(e) => {
            tracing::error!(error = %e, "reply with files");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                id,
                "something went wrong; nothing was sent",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_types_are_checked() {
        assert_eq!(
            super::content_type(Some("Application/PDF")),
            "application/pdf"
        );
        assert_eq!(
            super::content_type(Some("text/html\r\nX: y")),
            "application/octet-stream"
        );
        assert_eq!(super::content_type(None), "application/octet-stream");
    }
}
