//! Meta's channels through the Graph API: WhatsApp (Cloud API), Messenger and Instagram.
//!
//! - `signature`: `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret).
//! - `webhook`: verifies, checks the shape (`object`, `entry`), names the dedupe key (a hash
//!   of the batch; the messages in it de-duplicate on their mid / wamid at ingest), and
//!   answers Meta's GET subscription check.
//! - `page`: the Messenger and Instagram receiver (`entry[].messaging[]` events).
//! - `whatsapp`: the WhatsApp receiver (`entry[].changes[].value` messages and statuses).
//! - `sender`: the Send API (`/{page_id}/messages`, `/{phone_number_id}/messages`) with the
//!   reply windows; `graph`: Graph's error answers in words, retried or final.
//! - `media`: attachment URLs (Messenger, Instagram) and media ids (WhatsApp).
//! - `connection`: the admin's "Test connection".

pub mod connection;
pub mod fields;
pub mod graph;
pub mod media;
pub mod page;
pub mod sender;
pub mod signature;
pub mod webhook;
pub mod whatsapp;

pub use connection::test_connection;

use super::{http_client, ChannelConfig, Registry};
use app::store::channel_accounts::AccountRow;
use std::sync::Arc;

/// `channel_accounts.provider` of the three Meta channels.
pub const WHATSAPP: &str = "whatsapp";
pub const MESSENGER: &str = "messenger";
pub const INSTAGRAM: &str = "instagram";

/// The Graph API (with its version) when the account does not say otherwise.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com/v21.0";

/// Which of Meta's products an account speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Messenger,
    Instagram,
    Whatsapp,
}

impl Product {
    pub fn of(provider: &str) -> Option<Product> {
        match provider {
            MESSENGER => Some(Product::Messenger),
            INSTAGRAM => Some(Product::Instagram),
            WHATSAPP => Some(Product::Whatsapp),
            _ => None,
        }
    }

    /// The webhook's `object` field for this product.
    pub fn object(self) -> &'static str {
        match self {
            Product::Messenger => "page",
            Product::Instagram => "instagram",
            Product::Whatsapp => "whatsapp_business_account",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Product::Messenger => "Messenger",
            Product::Instagram => "Instagram",
            Product::Whatsapp => "WhatsApp",
        }
    }
}

/// Adds the three providers' adapters to `r`.
pub fn register(r: &mut Registry, config: &ChannelConfig) {
    let client = config.client();
    let media_client = config.media_client();
    let policy = config.media_policy.clone();
    for product in [Product::Messenger, Product::Instagram] {
        let provider = match product {
            Product::Messenger => MESSENGER,
            _ => INSTAGRAM,
        };
        r.add(
            provider,
            Arc::new(page::PageReceiver::new(product)),
            Arc::new(sender::PageSender::new(client.clone())),
        );
        r.add_webhook(provider, Arc::new(webhook::MetaWebhook::new(product)));
        r.add_media(
            provider,
            Arc::new(media::UrlMedia::new(media_client.clone(), policy.clone())),
        );
    }
    r.add(
        WHATSAPP,
        Arc::new(whatsapp::WhatsappReceiver),
        Arc::new(sender::WhatsappSender::new(client.clone())),
    );
    r.add_webhook(
        WHATSAPP,
        Arc::new(webhook::MetaWebhook::new(Product::Whatsapp)),
    );
    r.add_media(
        WHATSAPP,
        Arc::new(media::WhatsappMedia::new(client, media_client, policy)),
    );
}

/// The account's Graph base URL (with its version), without a trailing slash.
pub fn api_base(account: &AccountRow) -> String {
    let base = account.setting("api_base");
    let base = base.trim().trim_end_matches('/');
    if base.is_empty() {
        DEFAULT_API_BASE.to_string()
    } else {
        base.to_string()
    }
}

/// Whether `id` may be put in a Graph URL path as it is (page ids, phone number ids and
/// media ids are numbers; nothing that could change the path or the query).
pub fn is_graph_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && id != "."
        && id != ".."
}

/// The `(id, token)` an account sends with: the page and its page token (Messenger,
/// Instagram) or the phone number id and its access token (WhatsApp). Err in words when a
/// setting is missing.
pub fn credentials(account: &AccountRow) -> Result<(String, String), String> {
    let whatsapp = account.provider == WHATSAPP;
    let (id_key, id_label, token_key, token_label) = if whatsapp {
        (
            "phone_number_id",
            "phone number ID",
            "access_token",
            "access token",
        )
    } else {
        (
            "page_id",
            "page ID",
            "page_access_token",
            "page access token",
        )
    };
    let id = account.setting(id_key);
    let id = id.trim();
    if id.is_empty() {
        return Err(format!(
            "The {id_label} is not set on this channel account."
        ));
    }
    if !is_graph_id(id) {
        return Err(format!("The {id_label} {id:?} is not a Graph id."));
    }
    let token = account.secret(token_key);
    if token.trim().is_empty() {
        return Err(format!(
            "The {token_label} is not set on this channel account."
        ));
    }
    Ok((id.to_string(), token.trim().to_string()))
}

/// The start of a non-JSON answer, made safe to show.
pub fn snippet(body: &[u8]) -> String {
    http_client::body_words(body)
}

/// A failed bounded read in words.
pub fn limit_words(e: &http_client::LimitError) -> String {
    match e {
        http_client::LimitError::TooLarge(n) => {
            format!(
                "the answer is over {} bytes ({n})",
                http_client::MAX_API_BYTES
            )
        }
        http_client::LimitError::Io(w) => w.clone(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use app::domain::ChannelKind;

    pub const SECRET: &str = "app-secret-0123456789";
    pub const PAGE_TOKEN: &str = "EAAG-page-token";
    pub const WA_TOKEN: &str = "EAAG-wa-token";

    /// A Messenger (or Instagram) account for page 1001.
    pub fn page_account(product: Product) -> AccountRow {
        let (channel, provider) = match product {
            Product::Instagram => (ChannelKind::Instagram, INSTAGRAM),
            _ => (ChannelKind::Messenger, MESSENGER),
        };
        AccountRow {
            id: 3,
            channel,
            provider: provider.into(),
            name: "Page".into(),
            address: "1001".into(),
            settings: serde_json::json!({
                "page_id": "1001",
                "verify_token": "let me in",
                "api_base": "https://graph.example/v21.0/",
            })
            .to_string(),
            secrets: serde_json::json!({"app_secret": SECRET, "page_access_token": PAGE_TOKEN})
                .to_string(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        }
    }

    pub fn wa_account() -> AccountRow {
        AccountRow {
            id: 4,
            channel: ChannelKind::Whatsapp,
            provider: WHATSAPP.into(),
            name: "WhatsApp".into(),
            address: "2002".into(),
            settings: serde_json::json!({
                "phone_number_id": "2002",
                "verify_token": "let me in",
            })
            .to_string(),
            secrets: serde_json::json!({"app_secret": SECRET, "access_token": WA_TOKEN})
                .to_string(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        }
    }

    #[test]
    fn settings_are_read() {
        assert_eq!(
            api_base(&page_account(Product::Messenger)),
            "https://graph.example/v21.0"
        );
        assert_eq!(api_base(&wa_account()), DEFAULT_API_BASE);
        assert_eq!(
            credentials(&page_account(Product::Instagram)),
            Ok(("1001".into(), PAGE_TOKEN.into()))
        );
        assert_eq!(
            credentials(&wa_account()),
            Ok(("2002".into(), WA_TOKEN.into()))
        );
        let mut a = wa_account();
        a.secrets = "{}".into();
        assert!(credentials(&a)
            .unwrap_err()
            .contains("access token is not set"));
        a.settings = serde_json::json!({"phone_number_id": "1/../x"}).to_string();
        assert!(credentials(&a).unwrap_err().contains("not a Graph id"));
        assert_eq!(
            Product::of("instagram").map(Product::object),
            Some("instagram")
        );
        assert!(Product::of("twilio").is_none());
    }

    #[test]
    fn graph_ids_are_path_safe() {
        assert!(is_graph_id("106540352242922"));
        assert!(is_graph_id("v1.x-y_z"));
        for bad in ["", "..", "a/b", "a?b", "a b", "a%2F", "é"] {
            assert!(!is_graph_id(bad), "{bad:?}");
        }
    }
}
