//! Provider webhooks: `POST /webhooks/{provider}/{account}` (and `/status` for providers that
//! post delivery reports separately), `GET` for Meta's subscription check. The adapter of the
//! account's provider verifies and names the dedupe key (`channels::webhook`); this stores the
//! raw bytes and answers at once. The routes sit outside the session, CSRF and compression
//! layers: they carry no cookies and are authenticated by their signatures.

use crate::channels::webhook::{HookKind, Refusal, WebhookRequest};
use crate::channels::Registry;
use app::ports::NewRaw;
use app::store::channel_accounts::{self, AccountRow};
use app::store::raw_inbound::{self, Stored};
use app::store::Db;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};

/// Largest webhook body accepted (providers send a few kilobytes).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A bad or missing signature is 403, a payload this endpoint does not take 400, an endpoint
/// the provider does not have 404; the body says why.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match self {
            Refusal::Forbidden(_) => StatusCode::FORBIDDEN,
            Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
            Refusal::NotFound(_) => StatusCode::NOT_FOUND,
        };
        (status, self.to_string()).into_response()
    }
}

/// What the webhook routes need.
#[derive(Clone)]
pub struct WebhookState {
    pub db: Db,
    pub registry: Registry,
    pub public_url: Arc<str>,
    pub wake_inbound: Arc<Notify>,
    pub writer: RawWriter,
    accounts: Arc<Mutex<HashMap<i64, (Instant, AccountRow)>>>,
}

/// How long a webhook handler reuses an account it read (a disabled account stops taking
/// webhooks within this time).
const ACCOUNT_TTL: Duration = Duration::from_secs(2);

impl WebhookState {
    pub fn new(db: Db, registry: Registry, public_url: &str, wake_inbound: Arc<Notify>) -> Self {
        WebhookState {
            writer: RawWriter::spawn(db.clone()),
            db,
            registry,
            public_url: public_url.into(),
            wake_inbound,
            accounts: Arc::default(),
        }
    }
}

/// Group commit for webhook payloads: handlers hand their payload to one task, which stores
/// everything that arrived meanwhile in a single transaction and answers each handler. Under
/// load one commit serves many requests; alone, a payload is stored at once.
#[derive(Clone)]
pub struct RawWriter {
    tx: mpsc::Sender<(NewRaw, oneshot::Sender<Result<Stored, String>>)>,
}

/// Most payloads stored by one transaction.
const MAX_GROUP: usize = 256;

impl RawWriter {
    pub fn spawn(db: Db) -> RawWriter {
        let (tx, mut rx) = mpsc::channel::<(NewRaw, oneshot::Sender<_>)>(4 * MAX_GROUP);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (items, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                match raw_inbound::store_many(&db, items).await {
                    Ok(stored) => {
                        for (reply, s) in replies.into_iter().zip(stored) {
                            let _ = reply.send(Ok(s));
                        }
                    }
                    Err(e) => {
                        let words = e.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(words.clone()));
                        }
                    }
                }
            }
        });
        RawWriter { tx }
    }

    /// Stores one payload durably (committed when this returns `Ok`).
    pub async fn store(&self, raw: NewRaw) -> Result<Stored, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((raw, reply))
            .await
            .map_err(|_| "the payload writer has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the payload writer has stopped".to_string())?
    }
}

pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route(
            "/webhooks/{provider}/{account}",
            post(events_handler).get(challenge_handler),
        )
        .route(
            "/webhooks/{provider}/{account}/status",
            post(status_handler),
        )
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

async fn events_handler(
    State(st): State<WebhookState>,
    Path((provider, account)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    receive(
        &st,
        &provider,
        &account,
        HookKind::Events,
        &uri,
        &headers,
        body,
    )
    .await
}

async fn status_handler(
    State(st): State<WebhookState>,
    Path((provider, account)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    receive(
        &st,
        &provider,
        &account,
        HookKind::Status,
        &uri,
        &headers,
        body,
    )
    .await
}

async fn account_for(
    st: &WebhookState,
    provider: &str,
    account: &str,
) -> Result<AccountRow, Response> {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            "No channel account has this webhook.",
        )
            .into_response()
    };
    let Ok(id) = account.parse::<i64>() else {
        return Err(not_found());
    };
    let cached = st
        .accounts
        .lock()
        .unwrap()
        .get(&id)
        .filter(|(at, _)| at.elapsed() < ACCOUNT_TTL)
        .map(|(_, a)| a.clone());
    let found = match cached {
        Some(a) => Ok(a),
        None => channel_accounts::get(&st.db, id).await.inspect(|a| {
            st.accounts
                .lock()
                .unwrap()
                .insert(id, (Instant::now(), a.clone()));
        }),
    };
    match found {
        Ok(a) if a.provider == provider && a.enabled => Ok(a),
        Ok(_) | Err(app::store::StoreError::NotFound) => Err(not_found()),
        Err(e) => {
            tracing::error!(error = %e, "webhook: reading the channel account failed");
            Err((StatusCode::SERVICE_UNAVAILABLE, "Try again shortly.").into_response())
        }
    }
}

async fn receive(
    st: &WebhookState,
    provider: &str,
    account: &str,
    kind: HookKind,
    uri: &Uri,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Response {
    let Some(hook) = st.registry.webhook(provider) else {
        return (StatusCode::NOT_FOUND, "Unknown provider.").into_response();
    };
    let account = match account_for(st, provider, account).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The body is over the {MAX_BODY_BYTES} byte limit for webhooks."),
            )
                .into_response()
        }
    };
    let url = public_url_of(&st.public_url, uri);
    let req = WebhookRequest {
        url: &url,
        kind,
        headers,
        body: &body,
    };
    let accepted = match hook.accept(&account, &req) {
        Ok(a) => a,
        Err(r) => {
            match &r {
                Refusal::Forbidden(why) => {
                    tracing::warn!(provider, account = account.id, reason = %why, "webhook refused")
                }
                other => {
                    tracing::info!(provider, account = account.id, reason = %other, "webhook payload refused")
                }
            }
            return r.into_response();
        }
    };
    let raw = NewRaw {
        account_id: account.id,
        dedupe_key: accepted.dedupe_key.clone(),
        content_type: accepted.content_type,
        payload: body.to_vec(),
    };
    match st.writer.store(raw).await {
        Ok(Stored::New(_)) => st.wake_inbound.notify_one(),
        Ok(Stored::Duplicate) => {
            tracing::debug!(provider, key = %accepted.dedupe_key, "webhook replay acknowledged")
        }
        Err(e) => {
            // Not stored: the provider must send it again.
            tracing::error!(provider, error = %e, "webhook: storing the payload failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Not stored; send it again.",
            )
                .into_response();
        }
    }
    let (ct, text) = hook.ack();
    ([(header::CONTENT_TYPE, ct)], text).into_response()
}

async fn challenge_handler(
    State(st): State<WebhookState>,
    Path((provider, account)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(hook) = st.registry.webhook(&provider) else {
        return (StatusCode::NOT_FOUND, "Unknown provider.").into_response();
    };
    let account = match account_for(&st, &provider, &account).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match hook.challenge(&account, &query) {
        Ok(body) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response(),
        Err(r) => {
            tracing::warn!(provider, account = account.id, reason = %r, "webhook check refused");
            r.into_response()
        }
    }
}

/// The URL the provider called as the public URL names it: our configured scheme, host, port
/// and path prefix, then the request's path and query.
pub fn public_url_of(public_url: &str, uri: &Uri) -> String {
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{}{pq}", public_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_replaces_scheme_and_host() {
        let uri: Uri = "/webhooks/twilio/3?x=1".parse().unwrap();
        assert_eq!(
            public_url_of("https://inbox.example.com/", &uri),
            "https://inbox.example.com/webhooks/twilio/3?x=1"
        );
    }
}
