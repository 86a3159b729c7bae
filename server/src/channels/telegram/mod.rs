//! The Telegram Bot API adapter: a bot's webhook (secret header, `update_id` dedupe), private
//! messages to the bot as customer messages, replies with `sendMessage`, and inbound files
//! through `getFile`.
//!
//! `webhook` checks and names an update, `receiver` reads it, `content` turns a message into
//! text and file references, `sender` replies, `media` downloads, `admin` checks the token and
//! registers the webhook, `api` calls the Bot API (and keeps the token out of every text).

pub mod admin;
pub mod api;
pub mod content;
pub mod media;
pub mod receiver;
pub mod sender;
pub mod webhook;

use super::{ChannelConfig, Registry};
use std::sync::Arc;

pub use admin::{set_webhook, test_connection};

/// `channel_accounts.provider` of Telegram bots.
pub const PROVIDER: &str = "telegram";

/// Adds this provider's adapters to `r`.
pub fn register(r: &mut Registry, config: &ChannelConfig) {
    let client = config.client();
    r.add(
        PROVIDER,
        Arc::new(receiver::TelegramReceiver),
        Arc::new(sender::TelegramSender {
            client: client.clone(),
        }),
    );
    r.add_webhook(PROVIDER, Arc::new(webhook::TelegramWebhook));
    r.add_media(PROVIDER, Arc::new(media::TelegramMedia { client }));
}
