//! Pure domain code: no I/O, compiled for the server and for the browser.

pub mod audit;
pub mod campaign;
pub mod campaign_rules;
#[cfg(test)]
mod campaign_tests;
pub mod canned;
pub mod channel;
pub mod chat_origin;
pub mod chat_settings;
pub mod consent;
pub mod conversation;
pub mod convert;
pub mod csv;
pub mod cursor;
pub mod email_account;
pub mod event;
pub mod gate;
pub mod html_text;
pub mod identifier;
pub mod keywords;
pub mod labels;
pub mod localtime;
pub mod merge;
#[cfg(feature = "ssr")]
pub mod phone;
pub mod pref_words;
pub mod preferences;
pub mod providers;
pub mod quote;
pub mod reply_choice;
pub mod reports;
pub mod retry;
pub mod role;
pub mod search;
pub mod sms;
pub mod sms_fix;
pub mod text;
pub mod window;

pub use channel::ChannelKind;
pub use conversation::{DeliveryState, Direction, Status};
pub use identifier::{IdentifierError, IdentifierKind};
pub use role::{Permission, Role};
