//! The website chat receiver: one stored visitor message (JSON) becomes an inbound message.
#![no_main]

use std::sync::OnceLock;

use app::domain::ChannelKind;
use app::store::channel_accounts::AccountRow;
use libfuzzer_sys::fuzz_target;
use server::channels::chat::{self, receiver::ChatReceiver, PAYLOAD_TYPE};
use server::channels::Receiver;

fn account() -> &'static AccountRow {
    static A: OnceLock<AccountRow> = OnceLock::new();
    A.get_or_init(|| convergence_fuzz::account(ChannelKind::Chat, chat::PROVIDER, "", "{}", "{}"))
}

fuzz_target!(|data: &[u8]| {
    let _ = ChatReceiver.parse(account(), &convergence_fuzz::raw(PAYLOAD_TYPE, data));
});
