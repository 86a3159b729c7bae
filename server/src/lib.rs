//! The Convergence server: configuration, HTTP routes, channel adapters and background workers.

pub mod assets;
pub mod bench_email;
pub mod bench_webhooks;
pub mod channels;
pub mod compose;
pub mod config;
pub mod csrf;
pub mod demo;
pub mod import_consent;
pub mod links;
pub mod mail_view;
pub mod routes;
pub mod standin;
pub mod startup;
pub mod stats;
pub mod unsubscribe;
pub mod workers;
