//! The email channel: IMAP in (async-imap), SMTP out (lettre).
//!
//! - [`parse`]: raw RFC 5322 bytes to a [`parse::ParsedEmail`] with mail-parser, bounded; no I/O.
//! - [`sanitize`]: the HTML allow-list (ammonia), quoted-history folding, the frame's CSP.
//! - [`token`]: HMAC-signed reply addresses (`support+c42-k3j…@example.com`).
//! - [`unsubscribe`]: the signed token of the unsubscribe link every outbound email carries.
//! - [`receiver`]: the [`super::Receiver`] that turns a stored raw message into inbound events.
//! - [`imap`] and [`sync`]: the per-mailbox worker (initial import, IDLE, resume, reconnect).
//! - [`smtp`]: the [`super::Sender`] that builds and submits replies.

pub mod imap;
pub mod parse;
pub mod receiver;
pub mod sanitize;
pub mod settings;
pub mod smtp;
pub mod sync;
pub mod token;
pub mod unsubscribe;

pub const PROVIDER: &str = "email";
