//! Provider stand-ins: one local HTTP server that speaks the wire formats of the internet-only
//! providers (Twilio's REST API, Meta's Graph API, Telegram's Bot API), so the adapters can be
//! exercised end to end on a machine with no internet, by the integration tests (in process,
//! as this library) and by the browser tests (the `standin --listen ADDR` binary).
//!
//! It plays the provider's side faithfully: it checks our authentication the way the provider
//! does, answers in the provider's JSON, signs the webhooks it sends us with the provider's
//! scheme, and reports delivery the provider's way (Twilio status callbacks, Meta delivery
//! events, Telegram's synchronous answer). A control API under `/_standin/` lets a test make it
//! send a customer's message, inject faults, and read back every request it received.
//!
//! Not for production use: it accepts any credentials it is told to expect.

pub mod meta;
pub mod telegram;
pub mod twilio;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the stand-in received on a provider API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recorded {
    /// `twilio`, `meta` or `telegram`.
    pub provider: String,
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy for binary bodies).
    pub body: String,
}

/// What the next matching provider API call does instead of succeeding.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Fault {
    pub provider: String,
    /// The HTTP status to answer (with `body`), unless `hang_ms` is set.
    #[serde(default)]
    pub status: u16,
    /// The exact body to answer (the provider's error JSON).
    #[serde(default)]
    pub body: String,
    /// Wait this long before answering 200 (past the client's timeout).
    #[serde(default)]
    pub hang_ms: u64,
    /// How many calls it applies to.
    #[serde(default = "one")]
    pub times: u32,
    /// Only calls whose body holds this text (a recipient such as `+15550100123`, matched as
    /// written or form-encoded); none: any call.
    #[serde(default)]
    pub when_body_contains: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    faults: VecDeque<Fault>,
    /// Files served to the adapters' media downloads: path → (content type, bytes).
    files: HashMap<String, (String, Vec<u8>)>,
    /// Provider-specific registrations (Meta subscriptions, Telegram setWebhook): key → JSON.
    config: HashMap<String, serde_json::Value>,
    counter: u64,
}

/// The shared state of a running stand-in.
#[derive(Clone)]
pub struct StandIn {
    inner: Arc<Mutex<Inner>>,
    /// Our own base URL, for the media URLs we hand out.
    pub base_url: Arc<str>,
    pub client: reqwest::Client,
}

impl StandIn {
    fn new(base_url: &str) -> StandIn {
        StandIn {
            inner: Arc::default(),
            base_url: base_url.trim_end_matches('/').into(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
        }
    }

    pub fn record(
        &self,
        provider: &str,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) {
        let rec = Recorded {
            provider: provider.to_string(),
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect(),
            body: String::from_utf8_lossy(body).into_owned(),
        };
        self.inner.lock().unwrap().requests.push(rec);
    }

    pub fn requests(&self, provider: Option<&str>) -> Vec<Recorded> {
        let g = self.inner.lock().unwrap();
        g.requests
            .iter()
            .filter(|r| provider.is_none_or(|p| r.provider == p))
            .cloned()
            .collect()
    }

    pub fn add_fault(&self, fault: Fault) {
        self.inner.lock().unwrap().faults.push_back(fault);
    }

    /// The fault the next call to `provider` must suffer, if one is queued.
    pub fn take_fault(&self, provider: &str, body: &[u8]) -> Option<Fault> {
        let text = String::from_utf8_lossy(body);
        let applies = |f: &Fault| {
            f.provider == provider
                && f.when_body_contains
                    .as_deref()
                    .is_none_or(|c| text.contains(c) || text.contains(&c.replace('+', "%2B")))
        };
        let mut g = self.inner.lock().unwrap();
        let i = g.faults.iter().position(applies)?;
        let f = g.faults[i].clone();
        if f.times <= 1 {
            g.faults.remove(i);
        } else {
            g.faults[i].times -= 1;
        }
        Some(f)
    }

    /// Answers with the fault: hang then 200 (the caller's body), or the error status and body.
    pub async fn apply_fault(fault: &Fault, ok: impl FnOnce() -> Response) -> Response {
        if fault.hang_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.hang_ms)).await;
            return ok();
        }
        (
            StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            fault.body.clone(),
        )
            .into_response()
    }

    /// Serves `data` at `path` (under the stand-in's base URL) and returns its full URL.
    pub fn put_file(&self, path: &str, content_type: &str, data: Vec<u8>) -> String {
        self.inner
            .lock()
            .unwrap()
            .files
            .insert(path.to_string(), (content_type.to_string(), data));
        format!("{}{path}", self.base_url)
    }

    pub fn file(&self, path: &str) -> Option<(String, Vec<u8>)> {
        self.inner.lock().unwrap().files.get(path).cloned()
    }

    pub fn set_config(&self, key: &str, value: serde_json::Value) {
        self.inner
            .lock()
            .unwrap()
            .config
            .insert(key.to_string(), value);
    }

    pub fn config(&self, key: &str) -> Option<serde_json::Value> {
        self.inner.lock().unwrap().config.get(key).cloned()
    }

    /// Appends `item` to the list kept under `key` (created empty), in place: a provider that
    /// keeps every message must not copy them all on each send.
    pub fn push_config(&self, key: &str, item: serde_json::Value) {
        let mut g = self.inner.lock().unwrap();
        let list = g
            .config
            .entry(key.to_string())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        match list {
            serde_json::Value::Array(a) => a.push(item),
            other => *other = serde_json::Value::Array(vec![item]),
        }
    }

    /// A fresh number for ids (message SIDs, wamids, message_ids).
    pub fn next(&self) -> u64 {
        let mut g = self.inner.lock().unwrap();
        g.counter += 1;
        g.counter
    }

    fn clear(&self) {
        let mut g = self.inner.lock().unwrap();
        g.requests.clear();
        g.faults.clear();
    }
}

/// A running stand-in.
pub struct Running {
    pub base_url: String,
    pub state: StandIn,
}

/// Starts a stand-in on `listen` (e.g. `127.0.0.1:0`).
pub async fn spawn(listen: &str) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let state = StandIn::new(&base_url);
    let app = router(state.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "stand-in stopped");
        }
    });
    Ok(Running { base_url, state })
}

pub fn router(state: StandIn) -> Router {
    Router::new()
        .route("/_standin/requests", get(list_requests))
        .route("/_standin/faults", post(post_fault))
        .route("/_standin/reset", post(reset))
        .route("/_standin/files/{*path}", get(serve_file))
        .merge(twilio::routes())
        .merge(meta::routes())
        .merge(telegram::routes())
        .with_state(state)
}

#[derive(Deserialize)]
struct Filter {
    provider: Option<String>,
}

async fn list_requests(State(s): State<StandIn>, Query(f): Query<Filter>) -> Json<Vec<Recorded>> {
    Json(s.requests(f.provider.as_deref()))
}

async fn post_fault(State(s): State<StandIn>, Json(f): Json<Fault>) -> StatusCode {
    s.add_fault(f);
    StatusCode::NO_CONTENT
}

async fn reset(State(s): State<StandIn>) -> StatusCode {
    s.clear();
    StatusCode::NO_CONTENT
}

async fn serve_file(State(s): State<StandIn>, uri: Uri) -> Response {
    match s.file(uri.path()) {
        Some((ct, data)) => ([(axum::http::header::CONTENT_TYPE, ct)], data).into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// Unix time in milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Unix time in seconds.
pub(crate) fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Posts a webhook to our app the way a provider does; returns (status, body).
pub async fn deliver(
    s: &StandIn,
    url: &str,
    headers: &[(&str, String)],
    content_type: &str,
    body: Vec<u8>,
) -> (u16, String) {
    let mut req = s
        .client
        .post(url)
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    match req.send().await {
        Ok(r) => {
            let st = r.status().as_u16();
            (st, r.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}
