//! The email parser and sanitiser: raw RFC 5322 bytes through the de-duplication key and the
//! receiver the inbound worker calls (parse within limits, HTML sanitised, bounces classified).
#![no_main]

use std::sync::OnceLock;

use app::domain::ChannelKind;
use app::store::channel_accounts::AccountRow;
use libfuzzer_sys::fuzz_target;
use server::channels::email::{self, parse, receiver::EmailReceiver};
use server::channels::Receiver;

fn setup() -> &'static (EmailReceiver, AccountRow) {
    static S: OnceLock<(EmailReceiver, AccountRow)> = OnceLock::new();
    S.get_or_init(|| {
        let account = convergence_fuzz::account(
            ChannelKind::Email,
            email::PROVIDER,
            "support@example.com",
            "{}",
            "{}",
        );
        (EmailReceiver::new("fuzz-secret-key-0123456789"), account)
    })
}

fuzz_target!(|data: &[u8]| {
    let (receiver, account) = setup();
    let _ = parse::dedupe_key(data);
    let raw = convergence_fuzz::raw("message/rfc822", data);
    let _ = receiver.parse(account, &raw);
});
