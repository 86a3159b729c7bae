//! The messaging providers an admin can connect, and what each one's settings form asks for.
//!
//! One table drives the admin form (drawn generically, so five providers cost the browser
//! bundle one small component), the server's checks, and the adapters' reading of the stored
//! settings: a field's `key` is its name in `channel_accounts.settings` (or `.secrets` for a
//! secret field) as a JSON string.

use crate::domain::ChannelKind;

mod account;
mod check;
pub use account::{check_account, form_values, Checked};
pub use check::MAX_VALUE_LEN;

/// `channel_accounts.provider` of the built-in playground accounts (one per channel kind),
/// which stand in for real providers on the playground page.
pub const PLAYGROUND: &str = "playground";

/// How a field is entered and kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Stored in `secrets`, never sent back to the browser; blank on edit keeps the saved one.
    Secret,
    /// An http(s) base URL of the provider's API (tests point it at a local stand-in).
    Url,
    /// An ISO 3166 two-letter region used to read national phone numbers.
    Region,
    /// A phone number, kept in E.164.
    Phone,
    /// Several lines of text (a keyword reply).
    Multiline,
    /// One of a few words, chosen from a list (the first is the default).
    Choice(&'static [&'static str]),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// The value a new account starts with.
    pub default: &'static str,
    pub help: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderSpec {
    /// `channel_accounts.provider`.
    pub id: &'static str,
    pub channel: ChannelKind,
    pub label: &'static str,
    /// The settings key whose value is the account's address (number, page id, bot name).
    pub address_key: &'static str,
    pub fields: &'static [FieldSpec],
    /// Whether the provider also posts delivery reports to `<webhook>/status`.
    pub status_webhook: bool,
    /// Whether the provider checks the webhook with a GET challenge (Meta's hub.verify_token).
    pub verify_token: bool,
    /// Where in the provider's console the webhook URL goes.
    pub console_hint: &'static str,
}

const fn f(
    key: &'static str,
    label: &'static str,
    kind: FieldKind,
    required: bool,
    default: &'static str,
    help: &'static str,
) -> FieldSpec {
    FieldSpec {
        key,
        label,
        kind,
        required,
        default,
        help,
    }
}

use FieldKind::*;

pub const TWILIO: ProviderSpec = ProviderSpec {
    id: "twilio",
    channel: ChannelKind::Sms,
    label: "SMS/MMS (Twilio-compatible)",
    address_key: "phone_number",
    fields: &[
        f(
            "phone_number",
            "Phone number",
            Phone,
            true,
            "",
            "The number customers text, e.g. +15550100000.",
        ),
        f(
            "account_sid",
            "Account SID",
            Text,
            true,
            "",
            "Starts with AC; 34 characters.",
        ),
        f(
            "auth_token",
            "Auth token",
            Secret,
            true,
            "",
            "Signs the webhooks and authorises sending.",
        ),
        f(
            "messaging_service_sid",
            "Messaging service SID",
            Text,
            false,
            "",
            "Optional (MG…): send through a number pool instead of the number above.",
        ),
        f(
            "api_base",
            "API base URL",
            Url,
            true,
            "https://api.twilio.com",
            "Change only for a Twilio-compatible provider.",
        ),
        f(
            "default_region",
            "Default region",
            Region,
            true,
            "US",
            "How national numbers are read, e.g. US, GB, DE.",
        ),
        f(
            "help_reply",
            "Reply to HELP",
            Multiline,
            false,
            "Reply STOP to stop receiving messages, START to receive them again.",
            "Sent when a customer texts HELP or INFO.",
        ),
    ],
    status_webhook: true,
    verify_token: false,
    console_hint: "Phone Numbers → your number → Messaging → A message comes in (HTTP POST).",
};

pub const WHATSAPP: ProviderSpec = ProviderSpec {
    id: "whatsapp",
    channel: ChannelKind::Whatsapp,
    label: "WhatsApp (Cloud API)",
    address_key: "phone_number_id",
    fields: &[
        f(
            "phone_number_id",
            "Phone number ID",
            Text,
            true,
            "",
            "From WhatsApp → API Setup.",
        ),
        f(
            "display_number",
            "Business number",
            Phone,
            false,
            "",
            "Shown to agents, e.g. +15550100000.",
        ),
        f(
            "access_token",
            "Access token",
            Secret,
            true,
            "",
            "A system user token with whatsapp_business_messaging.",
        ),
        META_APP_SECRET,
        META_VERIFY_TOKEN,
        GRAPH_API_BASE,
        f(
            "default_region",
            "Default region",
            Region,
            true,
            "US",
            "How national numbers are read.",
        ),
    ],
    status_webhook: false,
    verify_token: true,
    console_hint:
        "WhatsApp → Configuration → Webhook: Callback URL and Verify token; subscribe to messages.",
};

// The fields every Meta account has (WhatsApp, Messenger, Instagram).
const META_APP_SECRET: FieldSpec = f(
    "app_secret",
    "App secret",
    Secret,
    true,
    "",
    "Signs the webhooks (App settings → Basic).",
);
const META_VERIFY_TOKEN: FieldSpec = f(
    "verify_token",
    "Verify token",
    Text,
    true,
    "",
    "Any phrase; paste the same into the webhook settings.",
);
const GRAPH_API_BASE: FieldSpec = f(
    "api_base",
    "Graph API base URL",
    Url,
    true,
    "https://graph.facebook.com/v21.0",
    "",
);

const META_PAGE_FIELDS: &[FieldSpec] = &[
    f(
        "page_id",
        "Page ID",
        Text,
        true,
        "",
        "The Facebook page (or the Instagram account's page).",
    ),
    f(
        "page_access_token",
        "Page access token",
        Secret,
        true,
        "",
        "With pages_messaging (and instagram_manage_messages).",
    ),
    META_APP_SECRET,
    META_VERIFY_TOKEN,
    GRAPH_API_BASE,
];

pub const MESSENGER: ProviderSpec = ProviderSpec {
    id: "messenger",
    channel: ChannelKind::Messenger,
    label: "Messenger",
    address_key: "page_id",
    fields: META_PAGE_FIELDS,
    status_webhook: false,
    verify_token: true,
    console_hint: "Messenger → Settings → Webhooks: Callback URL and Verify token; subscribe to messages, message_deliveries, message_reads.",
};

pub const INSTAGRAM: ProviderSpec = ProviderSpec {
    id: "instagram",
    channel: ChannelKind::Instagram,
    label: "Instagram",
    address_key: "page_id",
    fields: META_PAGE_FIELDS,
    status_webhook: false,
    verify_token: true,
    console_hint: "Instagram → Webhooks: Callback URL and Verify token; subscribe to messages.",
};

pub const TELEGRAM: ProviderSpec = ProviderSpec {
    id: "telegram",
    channel: ChannelKind::Telegram,
    label: "Telegram bot",
    address_key: "bot_username",
    fields: &[
        f(
            "bot_username",
            "Bot username",
            Text,
            true,
            "",
            "Without the @, e.g. acme_support_bot.",
        ),
        f(
            "bot_token",
            "Bot token",
            Secret,
            true,
            "",
            "From @BotFather.",
        ),
        f(
            "secret_token",
            "Webhook secret",
            Secret,
            true,
            "",
            "1 to 256 of A-Z a-z 0-9 _ -; sent by Telegram with every update.",
        ),
        f(
            "api_base",
            "Bot API base URL",
            Url,
            true,
            "https://api.telegram.org",
            "",
        ),
    ],
    status_webhook: false,
    verify_token: false,
    console_hint: "Register with setWebhook(url, secret_token), or use \"Register webhook\" here.",
};

const FIELD_RULES: &[&str] = &["off", "optional", "required"];
const YES_NO: &[&str] = &["no", "yes"];

/// The business's own website chat: no provider behind it, the widget is ours. Its settings are
/// checked as a whole by [`crate::domain::chat_settings::ChatForm::check`] too.
pub const CHAT: ProviderSpec = ProviderSpec {
    id: "chat",
    channel: ChannelKind::Chat,
    label: "Website chat",
    address_key: "origins",
    fields: &[
        f(
            "origins",
            "Allowed websites",
            Multiline,
            true,
            "",
            "One per line, as https://www.example.com; https://*.example.com allows its subdomains. The chat opens on these sites only.",
        ),
        f(
            "greeting",
            "Greeting",
            Multiline,
            false,
            "Hi! Ask us anything; we usually answer within a few minutes.",
            "The first thing a visitor reads.",
        ),
        f(
            "offline_message",
            "Offline message",
            Multiline,
            false,
            "We are away right now. Leave your message and email address and we will answer by email.",
            "Shown when no agent is signed in.",
        ),
        f(
            "colour",
            "Colour",
            Text,
            true,
            "#1f5fbf",
            "The launcher and header colour, as #1f5fbf; white text on it must be readable.",
        ),
        f("name_field", "Ask for a name", Choice(FIELD_RULES), false, "optional", ""),
        f("email_field", "Ask for an email", Choice(FIELD_RULES), false, "optional", "Replies the visitor has not seen go to this address."),
        f("phone_field", "Ask for a phone number", Choice(FIELD_RULES), false, "off", ""),
        f(
            "ask_support_consent",
            "Consent box: answers by email or SMS",
            Choice(YES_NO),
            false,
            "no",
            "A checkbox in the pre-chat form; the answer goes to the consent history.",
        ),
        f(
            "ask_marketing_consent",
            "Consent box: news and offers",
            Choice(YES_NO),
            false,
            "no",
            "",
        ),
        f(
            "require_verified_identity",
            "Require verified identities",
            Choice(YES_NO),
            false,
            "no",
            "When yes, Convergence.identify() without a valid hash is refused.",
        ),
        f(
            "identity_secret",
            "Identity secret",
            Secret,
            false,
            "",
            "Your site signs a signed-in user's id with it: hash = hex(HMAC-SHA256(secret, id)).",
        ),
    ],
    status_webhook: false,
    verify_token: false,
    console_hint: "Paste the embed code into every page of the allowed websites, just before the closing body tag.",
};

pub const ALL: [ProviderSpec; 6] = [TWILIO, WHATSAPP, MESSENGER, INSTAGRAM, TELEGRAM, CHAT];

pub fn by_id(id: &str) -> Option<&'static ProviderSpec> {
    ALL.iter().find(|p| p.id == id)
}

impl ProviderSpec {
    pub fn field(&self, key: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The key of the field a refusal is about, from its words (`"name"` for the account's
    /// name), so the form can show it next to that field: refusals start with the field's
    /// label ("Account SID: …", "Phone number cannot …") or ask for it ("Enter the Auth token.").
    pub fn field_of_error(&self, words: &str) -> Option<&'static str> {
        if words.starts_with("Give the account a name") || words.starts_with("The name ") {
            return Some("name");
        }
        let words = words.strip_prefix("Enter the ").unwrap_or(words);
        self.fields
            .iter()
            .filter(|f| {
                words
                    .strip_prefix(f.label)
                    .is_some_and(|rest| rest.starts_with([':', ' ', '.']))
            })
            .max_by_key(|f| f.label.len())
            .map(|f| f.key)
    }

    /// The path of this account's webhook, under the public base URL.
    pub fn webhook_path(&self, account_id: i64) -> String {
        format!("/webhooks/{}/{account_id}", self.id)
    }

    /// The full webhook URL to paste into the provider's console.
    pub fn webhook_url(&self, public_url: &str, account_id: i64) -> String {
        format!(
            "{}{}",
            public_url.trim_end_matches('/'),
            self.webhook_path(account_id)
        )
    }

    /// Where the provider posts delivery reports for this account, when it does.
    pub fn status_url(&self, public_url: &str, account_id: i64) -> Option<String> {
        self.status_webhook
            .then(|| format!("{}/status", self.webhook_url(public_url, account_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_its_address_field_and_unique_keys() {
        for p in ALL {
            assert!(p.field(p.address_key).is_some(), "{}", p.id);
            assert!(p.field("api_base").is_some() || p.id == "chat", "{}", p.id);
            let mut keys: Vec<_> = p.fields.iter().map(|f| f.key).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), p.fields.len(), "{}", p.id);
            assert_eq!(by_id(p.id).map(|q| q.channel), Some(p.channel));
        }
        assert!(by_id("email").is_none());
    }

    #[test]
    fn refusals_are_placed_at_their_field() {
        assert_eq!(
            TWILIO.field_of_error("Enter the Account SID."),
            Some("account_sid")
        );
        assert_eq!(
            TWILIO.field_of_error("Account SID: \"AC1\" is not a Twilio account SID."),
            Some("account_sid")
        );
        assert_eq!(
            TWILIO.field_of_error("Phone number: +15550100000 is already used by “SMS”."),
            Some("phone_number")
        );
        assert_eq!(
            WHATSAPP.field_of_error("Phone number ID: \"x\" is not an id."),
            Some("phone_number_id")
        );
        assert_eq!(
            TWILIO.field_of_error("Default region cannot contain line breaks."),
            Some("default_region")
        );
        assert_eq!(
            TWILIO.field_of_error("Give the account a name."),
            Some("name")
        );
        assert_eq!(
            TWILIO.field_of_error("Something went wrong on our side."),
            None
        );
    }

    #[test]
    fn webhook_urls_come_from_the_public_url() {
        assert_eq!(
            TWILIO.webhook_url("https://inbox.example.com/", 7),
            "https://inbox.example.com/webhooks/twilio/7"
        );
    }

    #[test]
    fn only_twilio_posts_status_reports() {
        assert_eq!(
            TWILIO.status_url("https://inbox.example.com", 7).as_deref(),
            Some("https://inbox.example.com/webhooks/twilio/7/status")
        );
        assert_eq!(TELEGRAM.status_url("https://inbox.example.com", 7), None);
    }
}
