//! The Meta receivers: one stored webhook body (JSON) read as WhatsApp, Messenger and Instagram.
#![no_main]

use std::sync::OnceLock;

use app::domain::ChannelKind;
use app::store::channel_accounts::AccountRow;
use libfuzzer_sys::fuzz_target;
use server::channels::meta::{
    self, page::PageReceiver, webhook::JSON, whatsapp::WhatsappReceiver, Product,
};
use server::channels::Receiver;

struct Setup {
    whatsapp: AccountRow,
    messenger: AccountRow,
    instagram: AccountRow,
    messenger_rx: PageReceiver,
    instagram_rx: PageReceiver,
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let page_settings = r#"{"page_id":"1001","verify_token":"let me in","api_base":"https://graph.example/v21.0/"}"#;
        let page_secrets = r#"{"app_secret":"app-secret-0123456789","page_access_token":"EAAG-page-token"}"#;
        Setup {
            whatsapp: convergence_fuzz::account(
                ChannelKind::Whatsapp,
                meta::WHATSAPP,
                "2002",
                r#"{"phone_number_id":"2002","verify_token":"let me in"}"#,
                r#"{"app_secret":"app-secret-0123456789","access_token":"EAAG-wa-token"}"#,
            ),
            messenger: convergence_fuzz::account(
                ChannelKind::Messenger,
                meta::MESSENGER,
                "1001",
                page_settings,
                page_secrets,
            ),
            instagram: convergence_fuzz::account(
                ChannelKind::Instagram,
                meta::INSTAGRAM,
                "1001",
                page_settings,
                page_secrets,
            ),
            messenger_rx: PageReceiver::new(Product::Messenger),
            instagram_rx: PageReceiver::new(Product::Instagram),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let raw = convergence_fuzz::raw(JSON, data);
    let _ = WhatsappReceiver.parse(&s.whatsapp, &raw);
    let _ = s.messenger_rx.parse(&s.messenger, &raw);
    let _ = s.instagram_rx.parse(&s.instagram, &raw);
});
