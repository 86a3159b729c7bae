//! `GET /files/{token}`: a file sent as a link on a channel that cannot carry files (SMS,
//! WhatsApp, Messenger, Instagram, Telegram). The token is the only authorization: 32 random
//! bytes, of which only the SHA-256 is stored; links expire (7 days). Served with the same
//! safe headers as `/attachments/{id}` (`download`): always a download, `nosniff`, a sandbox
//! CSP.

use super::download::download_response;
use app::service::reply::LinkToken;
use app::ssr::AppState;
use app::store::attachments::{self, Lookup};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The routes, merged outside the session and CSRF layers: customers have no session.
pub fn routes() -> Router<AppState> {
    Router::new().route("/files/{token}", get(file_handler))
}

/// A fresh token and its SHA-256.
pub fn new_token() -> LinkToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    LinkToken {
        sha256: sha256_hex(&token),
        token,
    }
}

/// Lowercase hex SHA-256 of a token.
pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token as [`new_token`] writes it: 43 URL-safe base64 characters.
fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn plain(status: StatusCode, words: &'static str) -> Response {
    let mut r = (status, words).into_response();
    protect(&mut r, "no-store");
    r
}

/// Headers every answer carries, errors included: these routes sit outside the app's header
/// layers.
fn protect(resp: &mut Response, cache: &'static str) {
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The token is in the address: never pass it on.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
}

async fn file_handler(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !well_formed(&token) {
        return plain(StatusCode::NOT_FOUND, "No such file.");
    }
    let found =
        attachments::lookup_link(&state.db, &sha256_hex(&token), app::store::now_ms()).await;
    let a = match found {
        Ok(Lookup::Found(a)) => a,
        Ok(Lookup::Expired) => return plain(StatusCode::GONE, "This link has expired."),
        Ok(Lookup::Unknown) => return plain(StatusCode::NOT_FOUND, "No such file."),
        Err(e) => {
            tracing::error!(error = %e, "file link");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.");
        }
    };
    let mut resp = download_response(a.data, &a.content_type, &a.filename, "private, no-store");
    protect(&mut resp, "private, no-store");
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_well_formed_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.token, b.token);
        assert!(well_formed(&a.token), "{}", a.token);
        assert_eq!(a.sha256, sha256_hex(&a.token));
        assert_eq!(a.sha256.len(), 64);
        assert!(!well_formed("short"));
        assert!(!well_formed(&format!("{}/", &a.token[..42])));
    }
}
