//! The Twilio receiver: a stored webhook form (application/x-www-form-urlencoded) becomes an
//! inbound SMS/MMS or a delivery report.
#![no_main]

use std::sync::OnceLock;

use app::domain::ChannelKind;
use app::store::channel_accounts::AccountRow;
use libfuzzer_sys::fuzz_target;
use server::channels::twilio::{self, receiver::TwilioReceiver, webhook::FORM};
use server::channels::Receiver;

fn account() -> &'static AccountRow {
    static A: OnceLock<AccountRow> = OnceLock::new();
    A.get_or_init(|| {
        convergence_fuzz::account(
            ChannelKind::Sms,
            twilio::PROVIDER,
            "+15550100000",
            r#"{"account_sid":"AC0123456789abcdef0123456789abcdef","phone_number":"+15550100000","api_base":"https://api.twilio.com/"}"#,
            r#"{"auth_token":"0123456789abcdef0123456789abcdef"}"#,
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = TwilioReceiver.parse(account(), &convergence_fuzz::raw(FORM, data));
});
