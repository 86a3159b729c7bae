//! `Convergence.identify({id, email, name, hash})`: who the visitor is, as the site says.

use super::{answer, checked, visitor_of, ChatState, Refused};
use crate::channels::chat::settings::ChatConfig;
use crate::channels::chat::token;
use app::service::chat::{Claim, Identified};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// Tells agents' browsers about the conversations an identification changed.
pub(super) async fn publish_changes(st: &ChatState, done: &Identified) {
    for c in &done.changed {
        st.hub.conversation_changed(*c).await;
    }
}

#[derive(Deserialize)]
pub struct IdentifyBody {
    #[serde(default)]
    site: String,
    #[serde(default)]
    token: String,
    /// The site's id of its signed-in user.
    #[serde(default)]
    id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// hex(HMAC-SHA256(the chat's identity secret, id)).
    #[serde(default)]
    hash: String,
}

/// Identifies who the visitor is for the site: `Convergence.identify({id, email, name, hash})`.
/// A valid hash joins the customer it names; a wrong one is refused; none is an unverified
/// claim (refused when the chat requires verification).
pub async fn identify_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    headers: HeaderMap,
    Json(body): Json<IdentifyBody>,
) -> Response {
    let (config, site) = match checked(&st, &chat, &headers, &body.site).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let done = identify(&st, &config, body).await;
    answer(
        &site,
        done.map(|(verified, joined)| {
            Json(serde_json::json!({ "verified": verified, "joined": joined })).into_response()
        }),
    )
}

/// (verified, joined an existing customer).
async fn identify(
    st: &ChatState,
    config: &ChatConfig,
    body: IdentifyBody,
) -> Result<(bool, bool), Refused> {
    let chat = config.account_id;
    let visitor = visitor_of(st, chat, &body.token)?;
    st.limit(
        &format!("chat-identify:{chat}:{visitor}"),
        10,
        "Too many sign-ins from this chat just now; wait a minute.",
    )
    .await?;
    let forbidden = |w: &str| Refused::new(StatusCode::FORBIDDEN, w);
    let signed = !body.id.is_empty() && !body.hash.is_empty();
    let verified_user = if signed {
        if body.id.len() > token::MAX_USER_ID {
            return Err(forbidden("The signed-in user's id is too long."));
        }
        if config.identity_secret.is_empty()
            || !token::verify_identity(config.identity_secret.as_bytes(), &body.id, &body.hash)
        {
            return Err(forbidden(
                "The signed-in user's hash does not match; the chat goes on without it.",
            ));
        }
        Some(body.id.clone())
    } else if config.require_verified_identity {
        return Err(forbidden(
            "This chat accepts signed-in users only with a valid hash; the chat goes on without it.",
        ));
    } else {
        None
    };
    let verified = verified_user.is_some();
    let claim = Claim {
        verified_user,
        email: body.email,
        phone: None,
        name: body.name.map(|n| n.chars().take(200).collect()),
        consent: Vec::new(),
    };
    let done = app::service::chat::identify(&st.db, chat, &visitor, &claim)
        .await
        .map_err(|e| match e {
            app::store::StoreError::Invalid(w) => Refused::new(StatusCode::BAD_REQUEST, w),
            other => Refused::internal(other),
        })?;
    publish_changes(st, &done).await;
    Ok((verified, done.joined.is_some()))
}
