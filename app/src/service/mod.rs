//! Use cases: what combines several table groups, in one transaction where it writes. Server
//! functions (`api`), the server's workers and its channel adapters call these (or a store
//! module directly for a plain read or write of one table group).
//!
//! The modules call each other in one direction only:
//! `conversations` → `customers`, `reply_options`; `reply_options` → `customers`, `reply`,
//! `sending`; `reply` → `sending`; `customers` → `suggestions`; `ingest` → `suggestions`;
//! `channel_accounts` → `provider_accounts`; the others call no other service module.

pub mod channel_accounts;
pub mod consent;
pub mod conversations;
pub mod customers;
pub mod identifiers;
pub mod ingest;
pub mod merge;
pub mod provider_accounts;
pub mod reply;
pub mod reply_options;
pub mod sending;
pub mod suggestions;
