//! Server-only parts of the app crate: state, live event hub, authentication helpers.

pub mod account;
pub mod audit;
pub mod auth;
pub mod chat_token;
pub mod errors;
pub mod live;
pub mod login_limit;
pub mod pref_token;
pub mod state;
pub mod totp;
pub mod zone;

pub use state::AppState;
