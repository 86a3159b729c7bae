//! Channel adapters. Each channel is one adapter behind two traits: [`Receiver`] turns a stored
//! raw payload into inbound events (pure, no I/O), and [`Sender`] delivers one outbound
//! message. The workers only talk to these traits, so adding a channel is adding an adapter.
//! The types adapters exchange with the core (raw payloads, inbound events and messages,
//! media references, outbound jobs) are in `app::ports`.

pub mod chat;
pub mod email;
pub mod http_client;
pub mod meta;
pub mod playground;
pub mod runtime;
pub mod telegram;
pub mod twilio;
pub mod webhook;

use app::domain::DeliveryState;
use app::ports::{InboundEvent, MediaRef, NewAttachment, Outbound, RawInbound};
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct ParseError(pub String);

pub trait Receiver: Send + Sync {
    /// Parses one raw payload stored for `account`. Must not panic on any input.
    fn parse(
        &self,
        account: &AccountRow,
        raw: &RawInbound,
    ) -> Result<Vec<InboundEvent>, ParseError>;
}

/// A delivery accepted by the provider.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub provider_message_id: String,
    /// `Sent`, or `Delivered` when the provider confirms delivery synchronously.
    pub state: DeliveryState,
    /// Email: the Message-ID we gave the message (no angle brackets), for threading replies.
    pub rfc_message_id: Option<String>,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum SendError {
    /// Worth retrying later (network, 4xx SMTP, 5xx HTTP, rate limit).
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Will never succeed as is (bad recipient, rejected content).
    #[error("{0}")]
    Permanent(String),
    /// The provider refused because the recipient opted out (Twilio 21610): final, and the
    /// opt-out is recorded on the identifier so the next reply is stopped before sending.
    #[error("{0}")]
    OptedOut(String),
    /// The request left and no usable answer came back (a timeout after sending, a dropped
    /// connection, an unreadable answer): the provider may have the message. Never sent again
    /// blindly: looked up with [`Sender::lookup`], else left to the agent as "delivery unknown".
    #[error("outcome unknown: {0}")]
    Unknown(String),
}

/// What a provider says about a message whose send had no known outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    /// The provider has it.
    Found(Sent),
    /// The provider has no such message: sending it is a first send.
    NotFound,
    /// The provider's API cannot look messages up.
    Unsupported,
}

#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError>;

    /// Looks up `msg` at the provider, as sent by a request that left at `since` (unix ms) or
    /// later. A failed lookup is a [`SendError::Temporary`].
    async fn lookup(
        &self,
        _account: &AccountRow,
        _msg: &Outbound,
        _since: i64,
    ) -> Result<Lookup, SendError> {
        Ok(Lookup::Unsupported)
    }
}

/// Why a file the provider holds could not be stored with its message.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum MediaError {
    /// Over the size limit or of a refused kind: the message is stored with a note instead.
    #[error("{0}")]
    Refused(String),
    /// Network trouble or a 5xx: the payload is processed again later.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// The provider says it does not exist or we may not have it: noted on the message.
    #[error("{0}")]
    Permanent(String),
}

/// Downloads the files an inbound message refers to ([`MediaRef`]).
#[async_trait]
pub trait MediaFetcher: Send + Sync {
    async fn fetch(
        &self,
        account: &AccountRow,
        media: &MediaRef,
    ) -> Result<NewAttachment, MediaError>;
}

/// What every adapter needs from the server's configuration.
#[derive(Clone, Debug)]
pub struct ChannelConfig {
    /// HMAC key for tokens and Message-IDs.
    pub secret_key: String,
    /// The public base URL (webhook URLs, signature checks, status callbacks).
    pub public_url: String,
    /// Longest wait for a provider's API to answer one request.
    pub http_timeout: std::time::Duration,
    /// Where files named by inbound payloads may be downloaded from besides public addresses.
    pub media_policy: http_client::AddressPolicy,
}

impl ChannelConfig {
    pub fn new(secret_key: &str, public_url: &str) -> ChannelConfig {
        ChannelConfig {
            secret_key: secret_key.to_string(),
            public_url: public_url.trim_end_matches('/').to_string(),
            http_timeout: std::time::Duration::from_secs(15),
            media_policy: http_client::AddressPolicy::default(),
        }
    }

    /// The client for files named by inbound payloads (a longer timeout: files take longer
    /// than API calls), reaching only what [`ChannelConfig::media_policy`] permits.
    pub fn media_client(&self) -> reqwest::Client {
        http_client::media_client(
            self.http_timeout.max(std::time::Duration::from_secs(60)),
            self.media_policy.clone(),
        )
    }

    /// The HTTP client adapters use to reach providers.
    pub fn client(&self) -> reqwest::Client {
        http_client::client(self.http_timeout)
    }
}

/// Adapters by provider name (`channel_accounts.provider`).
#[derive(Clone, Default)]
pub struct Registry {
    /// Makes the preference center's links (issue 18) for messages the workers write.
    links: Option<app::ssr::pref_token::Linker>,
    receivers: HashMap<String, Arc<dyn Receiver>>,
    senders: HashMap<String, Arc<dyn Sender>>,
    webhooks: HashMap<String, Arc<dyn webhook::Webhook>>,
    media: HashMap<String, Arc<dyn MediaFetcher>>,
}

impl Registry {
    /// Every adapter this build knows, with a development public URL (tests of the workers).
    pub fn standard(secret_key: &str) -> Registry {
        Registry::with_config(&ChannelConfig::new(secret_key, "http://127.0.0.1:3000"))
    }

    /// Every adapter this build knows.
    pub fn with_config(config: &ChannelConfig) -> Registry {
        let secret_key = config.secret_key.as_str();
        let mut r = Registry {
            links: Some(app::ssr::pref_token::Linker {
                public_url: config.public_url.clone(),
                key: secret_key.as_bytes().to_vec(),
            }),
            ..Registry::default()
        };
        r.add(
            email::PROVIDER,
            Arc::new(email::receiver::EmailReceiver::new(secret_key)),
            Arc::new(email::smtp::EmailSender::new(secret_key).with_public_url(&config.public_url)),
        );
        r.add(
            app::domain::providers::PLAYGROUND,
            Arc::new(playground::Playground),
            Arc::new(playground::Playground),
        );
        twilio::register(&mut r, config);
        meta::register(&mut r, config);
        telegram::register(&mut r, config);
        chat::register(&mut r, config);
        r
    }

    /// The preference center's link maker (None in a registry built by hand for a test).
    pub fn links(&self) -> Option<&app::ssr::pref_token::Linker> {
        self.links.as_ref()
    }

    pub fn add_webhook(&mut self, provider: &str, hook: Arc<dyn webhook::Webhook>) {
        self.webhooks.insert(provider.to_string(), hook);
    }

    pub fn add_media(&mut self, provider: &str, fetcher: Arc<dyn MediaFetcher>) {
        self.media.insert(provider.to_string(), fetcher);
    }

    pub fn webhook(&self, provider: &str) -> Option<Arc<dyn webhook::Webhook>> {
        self.webhooks.get(provider).cloned()
    }

    pub fn media(&self, provider: &str) -> Option<Arc<dyn MediaFetcher>> {
        self.media.get(provider).cloned()
    }

    pub fn add(&mut self, provider: &str, rx: Arc<dyn Receiver>, tx: Arc<dyn Sender>) {
        self.receivers.insert(provider.to_string(), rx);
        self.senders.insert(provider.to_string(), tx);
    }

    pub fn receiver(&self, provider: &str) -> Option<Arc<dyn Receiver>> {
        self.receivers.get(provider).cloned()
    }

    pub fn sender(&self, provider: &str) -> Option<Arc<dyn Sender>> {
        self.senders.get(provider).cloned()
    }
}
