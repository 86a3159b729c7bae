//! A website chat account's stored settings (`channel_accounts.settings`, checked on save by
//! `app::domain::chat_settings`) as the edge and the widget use them.

use app::domain::chat_origin::AllowedOrigins;
use app::domain::chat_settings::FieldRule;
use app::store::channel_accounts::AccountRow;
use serde::Serialize;

/// What the edge needs to serve one chat.
#[derive(Clone, Debug)]
pub struct ChatConfig {
    pub account_id: i64,
    pub enabled: bool,
    pub origins: AllowedOrigins,
    /// What the widget shows (sent to the widget as is).
    pub widget: WidgetSettings,
    pub require_verified_identity: bool,
    /// Signs a site's user ids (`identify()`); empty when the admin set none.
    pub identity_secret: String,
}

/// The settings the widget draws itself with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WidgetSettings {
    pub name: String,
    pub greeting: String,
    pub offline_message: String,
    pub colour: String,
    pub name_field: &'static str,
    pub email_field: &'static str,
    pub phone_field: &'static str,
    pub ask_support_consent: bool,
    pub ask_marketing_consent: bool,
}

impl ChatConfig {
    /// The config of a chat account. A saved account was checked on save; anything unreadable
    /// (edited by hand in the database) allows no site rather than every site.
    pub fn of(account: &AccountRow) -> ChatConfig {
        let rule = |k: &str| {
            FieldRule::parse(&account.setting(k))
                .unwrap_or_default()
                .as_str()
        };
        let yes = |k: &str| account.setting(k) == "yes";
        let colour = account.setting("colour");
        ChatConfig {
            account_id: account.id,
            enabled: account.enabled,
            origins: AllowedOrigins::parse(&account.setting("origins")).unwrap_or_default(),
            widget: WidgetSettings {
                name: account.name.clone(),
                greeting: account.setting("greeting"),
                offline_message: account.setting("offline_message"),
                colour: if colour.is_empty() {
                    "#1f5fbf".into()
                } else {
                    colour
                },
                name_field: rule("name_field"),
                email_field: rule("email_field"),
                phone_field: rule("phone_field"),
                ask_support_consent: yes("ask_support_consent"),
                ask_marketing_consent: yes("ask_marketing_consent"),
            },
            require_verified_identity: yes("require_verified_identity"),
            identity_secret: account.secret("identity_secret"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ChannelKind;

    fn account(settings: serde_json::Value) -> AccountRow {
        AccountRow {
            id: 9,
            channel: ChannelKind::Chat,
            provider: "chat".into(),
            name: "Shop chat".into(),
            address: String::new(),
            settings: settings.to_string(),
            secrets: r#"{"identity_secret":"s3cret"}"#.into(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        }
    }

    #[test]
    fn stored_settings_are_read_and_bad_origins_allow_nothing() {
        let c = ChatConfig::of(&account(serde_json::json!({
            "origins": "https://shop.example.com\nhttps://*.example.org",
            "colour": "#123456", "email_field": "required", "name_field": "bogus",
            "require_verified_identity": "yes",
        })));
        assert!(c.origins.allows("https://shop.example.com"));
        assert!(c.origins.allows("https://a.example.org"));
        assert!(!c.origins.allows("https://evil.example.net"));
        assert_eq!(c.widget.email_field, "required");
        assert_eq!(c.widget.name_field, "off");
        assert_eq!(c.widget.colour, "#123456");
        assert!(c.require_verified_identity);
        assert_eq!(c.identity_secret, "s3cret");
        let broken = ChatConfig::of(&account(serde_json::json!({ "origins": "not a site" })));
        assert!(!broken.origins.allows("https://shop.example.com"));
        assert_eq!(broken.origins.frame_ancestors(), "frame-ancestors");
    }
}
