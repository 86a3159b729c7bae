//! Channel adapters. Each channel is one adapter behind two traits: [`Receiver`] turns a stored
//! raw payload into inbound events (pure, no I/O), and [`Sender`] delivers one outbound
//! message. The workers only talk to these traits, so adding a channel is adding an adapter.

pub mod email;
pub mod playground;
pub mod runtime;

use app::domain::DeliveryState;
use app::store::channel_accounts::AccountRow;
use app::store::inbound::RawInbound;
use app::store::ingest::InboundMessage;
use app::store::outbox::Outbound;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;

/// What one raw payload means.
#[derive(Clone, Debug, PartialEq)]
pub enum InboundEvent {
    Message(Box<InboundMessage>),
    /// A provider's report about one of our outbound messages.
    Status {
        provider_message_id: String,
        state: DeliveryState,
        reason: Option<String>,
    },
    /// Nothing to do (our own mail, a report about nothing we sent); the reason is kept on
    /// the raw row.
    Ignored(String),
}

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
    /// Will never succeed as is (bad recipient, opted out, rejected content).
    #[error("{0}")]
    Permanent(String),
}

#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError>;
}

/// Adapters by provider name (`channel_accounts.provider`).
#[derive(Clone, Default)]
pub struct Registry {
    receivers: HashMap<String, Arc<dyn Receiver>>,
    senders: HashMap<String, Arc<dyn Sender>>,
}

impl Registry {
    /// Every adapter this build knows.
    pub fn standard(secret_key: &str) -> Registry {
        let mut r = Registry::default();
        r.add(
            email::PROVIDER,
            Arc::new(email::receiver::EmailReceiver::new(secret_key)),
            Arc::new(email::smtp::EmailSender::new(secret_key)),
        );
        r.add(
            app::store::channel_accounts::PLAYGROUND,
            Arc::new(playground::Playground),
            Arc::new(playground::Playground),
        );
        r
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
