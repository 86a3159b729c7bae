//! Email unsubscribe links (RFC 2369 `List-Unsubscribe`, RFC 8058 one-click).
//!
//! Every outbound email carries `List-Unsubscribe: <{public}/unsubscribe/{token}>` and
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The token names the recipient
//! identifier and the purpose, signed with the server's secret key:
//! `{identifier id}.{m|s}.{32 hex}`, the hex being the first 16 bytes of
//! HMAC-SHA256(key, `convergence-unsubscribe:{id}:{purpose}`).
//!
//! `GET /unsubscribe/{token}` shows a page with a confirm button and never changes anything
//! (mail scanners follow links). `POST` records the opt-out (source `unsubscribe`) and says
//! so; a mail client's one-click POST (`List-Unsubscribe=One-Click`) does the same. The routes
//! sit outside the session and CSRF layers: the signature is the authentication.

use app::domain::consent::Purpose;
use app::domain::convert::escape_html;
use app::service::consent;
use app::ssr::AppState;
use app::store::{identifiers, StoreError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const MAC_BYTES: usize = 16;

/// Why a token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not the shape of a token (cut short by a mail program, mistyped).
    Garbled,
    /// The shape is right but the signature is not ours.
    Forged,
}

fn letter(p: Purpose) -> &'static str {
    match p {
        Purpose::Marketing => "m",
        Purpose::Support => "s",
    }
}

fn mac_for(key: &[u8], identifier_id: i64, purpose: Purpose) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(
        format!(
            "convergence-unsubscribe:{identifier_id}:{}",
            purpose.as_str()
        )
        .as_bytes(),
    );
    mac
}

/// The token for `identifier_id` and `purpose`.
pub fn token(key: &[u8], identifier_id: i64, purpose: Purpose) -> String {
    let tag = mac_for(key, identifier_id, purpose).finalize().into_bytes();
    format!(
        "{identifier_id}.{}.{}",
        letter(purpose),
        hex::encode(&tag[..MAC_BYTES])
    )
}

/// The identifier and purpose a token names, checked in constant time.
pub fn verify(key: &[u8], token: &str) -> Result<(i64, Purpose), TokenError> {
    if token.len() > 64 {
        return Err(TokenError::Garbled);
    }
    let mut parts = token.split('.');
    let (Some(digits), Some(p), Some(mac), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Garbled);
    };
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TokenError::Garbled);
    }
    let id: i64 = digits.parse().map_err(|_| TokenError::Garbled)?;
    if id.to_string() != digits {
        return Err(TokenError::Garbled);
    }
    let purpose = match p {
        "m" => Purpose::Marketing,
        "s" => Purpose::Support,
        _ => return Err(TokenError::Garbled),
    };
    if mac.len() != MAC_BYTES * 2 || !mac.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(TokenError::Garbled);
    }
    let tag = hex::decode(mac).map_err(|_| TokenError::Garbled)?;
    mac_for(key, id, purpose)
        .verify_truncated_left(&tag)
        .map_err(|_| TokenError::Forged)?;
    Ok((id, purpose))
}

/// The marketing unsubscribe link for `identifier_id` under `public_url`.
pub fn link(public_url: &str, key: &[u8], identifier_id: i64) -> String {
    format!(
        "{}/unsubscribe/{}",
        public_url.trim_end_matches('/'),
        token(key, identifier_id, Purpose::Marketing)
    )
}

/// `GET` and `POST /unsubscribe/{token}`. Merge it after the session and CSRF layers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/unsubscribe/{token}", get(page).post(confirm))
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
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
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
async fn page(State(st): State<AppState>, Path(token): Path<String>) -> Response {
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
async fn confirm(State(st): State<AppState>, Path(token): Path<String>, body: Bytes) -> Response {
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
    use proptest::prelude::*;

    const KEY: &[u8] = b"test key, thirty-two bytes long!";

    #[test]
    fn tokens_round_trip() {
        for (id, p) in [
            (1, Purpose::Marketing),
            (42, Purpose::Support),
            (i64::MAX, Purpose::Marketing),
            (0, Purpose::Marketing),
        ] {
            let t = token(KEY, id, p);
            assert_eq!(verify(KEY, &t), Ok((id, p)), "{t}");
        }
        let l = link("https://inbox.example.com/", KEY, 7);
        assert!(
            l.starts_with("https://inbox.example.com/unsubscribe/7.m."),
            "{l}"
        );
    }

    #[test]
    fn forged_and_garbled_tokens_are_told_apart() {
        let t = token(KEY, 42, Purpose::Marketing);
        assert_eq!(verify(b"another key", &t), Err(TokenError::Forged));
        assert_eq!(
            verify(KEY, &t.replacen("42.", "43.", 1)),
            Err(TokenError::Forged)
        );
        assert_eq!(
            verify(KEY, &t.replacen(".m.", ".s.", 1)),
            Err(TokenError::Forged)
        );
        assert_eq!(
            verify(KEY, &t.replacen("42.", "042.", 1)),
            Err(TokenError::Garbled)
        );
        assert_eq!(verify(KEY, &t[..t.len() - 1]), Err(TokenError::Garbled));
        assert_eq!(verify(KEY, &format!("{t}0")), Err(TokenError::Garbled));
        assert_eq!(verify(KEY, &t.to_uppercase()), Err(TokenError::Garbled));
        for bad in ["", "42", "42.m", "x.m.00", "42.x.00", "42.m.zz", "-1.m.00"] {
            assert_eq!(verify(KEY, bad), Err(TokenError::Garbled), "{bad}");
        }
    }

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape_html("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }

    proptest! {
        #[test]
        fn garbage_never_verifies(s in "\\PC{0,80}") {
            prop_assert!(verify(KEY, &s).is_err());
        }

        #[test]
        fn random_macs_are_forged(id in 0i64..i64::MAX, mac in "[0-9a-f]{32}") {
            prop_assert_eq!(verify(KEY, &format!("{id}.m.{mac}")), Err(TokenError::Forged));
        }
    }
}
