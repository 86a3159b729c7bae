//! What a provider's webhook adapter implements: [`Webhook::accept`] verifies one request and
//! names its dedupe key; [`Webhook::challenge`] answers a subscription check. The HTTP side
//! (finding the account, storing the payload, answering) is `http::webhooks`.
//!
//! The discipline, the same for every provider: find the account; let its adapter verify the
//! signature or secret over the raw bytes (constant time, against the URL rebuilt from the
//! configured public URL, never the request's Host; no secret configured means refuse); let it
//! check the payload's shape and name its dedupe key; store the raw bytes; answer 2xx at once.
//! Processing happens later in the inbound worker. A retry or replay finds its dedupe key taken
//! and is acknowledged without being stored again.

use app::store::channel_accounts::AccountRow;
use axum::http::HeaderMap;
use std::collections::HashMap;

/// Which of an account's endpoints was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// Messages (and, for most providers, delivery reports among them).
    Events,
    /// A separate delivery-report callback (Twilio's StatusCallback).
    Status,
}

/// One webhook request as the adapter sees it.
pub struct WebhookRequest<'a> {
    /// The URL the provider called, rebuilt from the public URL: what the signature covers.
    pub url: &'a str,
    pub kind: HookKind,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl WebhookRequest<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A verified, well-formed payload, ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Unique per account: the provider's message, status or update id (or a hash of a batch).
    pub dedupe_key: String,
    /// Kept with the raw payload so the receiver knows what it holds.
    pub content_type: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Bad or missing signature, or no secret configured: 403.
    #[error("{0}")]
    Forbidden(String),
    /// Not a payload this endpoint takes (bad JSON, missing fields, wrong types): 400.
    #[error("{0}")]
    Malformed(String),
    /// This provider has no such endpoint: 404.
    #[error("{0}")]
    NotFound(String),
}

pub trait Webhook: Send + Sync {
    /// Verifies `req` (first, over the raw bytes), then checks its shape. Pure; must not panic
    /// on any input.
    fn accept(&self, account: &AccountRow, req: &WebhookRequest) -> Result<Accepted, Refusal>;

    /// The answer to a GET subscription check (Meta: `hub.challenge` when `hub.verify_token`
    /// matches).
    fn challenge(
        &self,
        _account: &AccountRow,
        _query: &HashMap<String, String>,
    ) -> Result<String, Refusal> {
        Err(Refusal::NotFound(
            "this provider has no webhook check by GET".into(),
        ))
    }

    /// The body of a 200 answer: (content type, body).
    fn ack(&self) -> (&'static str, &'static str) {
        ("text/plain; charset=utf-8", "ok")
    }
}

/// Comparing signatures and secrets (shared with the stand-in: the `wire` crate).
pub use wire::constant_time_eq;
