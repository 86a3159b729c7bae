//! The server's integration tests, as one test binary: the shared harness (`support/`) compiles
//! once. One module per area; each `both_engines!` test runs on SQLite and on PostgreSQL (a
//! fresh database per test on the server named by CONVERGENCE_TEST_POSTGRES_URL). The
//! provider stand-in is the `standin` crate, run in process.
//!
//! Run one area with `cargo test -p server --test integration -- sms_twilio::`.

#[macro_use]
mod support;

mod campaign_process;
mod campaigns;
mod canned;
mod channel_rules;
mod channels_admin;
mod cli;
mod consent;
mod email_corpus;
mod email_ingest_corpus;
mod email_receive;
mod email_routes;
mod email_send;
mod http_api;
mod identity;
mod inbound_worker;
mod live_postgres;
mod mail_harness;
mod meta_channels;
mod move_conversation;
mod operations;
mod outbox_process;
mod outbox_ui;
mod reports;
mod search;
mod security;
mod shape;
mod sms_twilio;
mod store_contract;
mod telegram_channel;
mod website_chat;
mod workers;
