//! The Telegram receiver: one stored update (JSON) becomes a customer's message or is ignored
//! with a reason.
#![no_main]

use std::sync::OnceLock;

use app::domain::ChannelKind;
use app::store::channel_accounts::AccountRow;
use libfuzzer_sys::fuzz_target;
use server::channels::telegram::{self, receiver::TelegramReceiver};
use server::channels::Receiver;

fn account() -> &'static AccountRow {
    static A: OnceLock<AccountRow> = OnceLock::new();
    A.get_or_init(|| {
        convergence_fuzz::account(
            ChannelKind::Telegram,
            telegram::PROVIDER,
            "acme_bot",
            "{}",
            r#"{"bot_token":"123456:ABC-DEF","secret_token":"s3cr3t_-X"}"#,
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let raw = convergence_fuzz::raw("application/json", data);
    let _ = TelegramReceiver.parse(account(), &raw);
});
