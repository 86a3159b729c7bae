//! Checking a provider account's whole form against its [`ProviderSpec`]: secret fields go to
//! `channel_accounts.secrets`, the others to `settings`, both JSON objects of strings keyed by
//! the spec's field keys.

use super::{FieldKind, ProviderSpec};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An account's form, checked and normalised, ready to store.
#[derive(Clone, PartialEq)]
pub struct Checked {
    pub name: String,
    pub address: String,
    pub settings: Map<String, Value>,
    /// The secrets typed in (and generated ones); a blank secret on update is absent here, so
    /// the stored one is kept.
    pub secrets: Map<String, Value>,
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("settings", &self.settings)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn non_blank(secrets: Option<&Map<String, Value>>, key: &str) -> bool {
    secrets
        .and_then(|s| s.get(key))
        .and_then(Value::as_str)
        .is_some_and(|v| !v.is_empty())
}

/// Checks an account's form: `values` by field key (unknown keys are ignored), `saved` the
/// stored secrets of the account being edited (None for a new account). Every refusal says in
/// words what to fix. A blank secret with one saved keeps it; a blank generated field (verify
/// token, Telegram webhook secret) gets a token from `new_token`.
pub fn check_account(
    spec: &ProviderSpec,
    name: &str,
    values: &BTreeMap<String, String>,
    saved: Option<&Map<String, Value>>,
    new_token: &mut dyn FnMut() -> String,
) -> Result<Checked, String> {
    if name.contains(['\r', '\n']) {
        return Err("The name cannot contain line breaks.".into());
    }
    let name = name.trim();
    if name.is_empty() {
        return Err("Give the account a name.".into());
    }
    if name.chars().count() > 200 {
        return Err("The name is too long: at most 200 characters.".into());
    }
    let mut settings = Map::new();
    let mut secrets = Map::new();
    for f in spec.fields {
        let raw = values.get(f.key).map(String::as_str).unwrap_or("");
        let mut v = f.check(raw)?;
        let secret = f.kind == FieldKind::Secret;
        if v.is_empty() {
            if secret && non_blank(saved, f.key) {
                continue;
            }
            if f.generated() {
                v = new_token();
            } else if f.required {
                return Err(format!("Enter the {}.", f.label));
            }
        }
        if secret {
            if !v.is_empty() {
                secrets.insert(f.key.into(), Value::String(v));
            }
        } else {
            settings.insert(f.key.into(), Value::String(v));
        }
    }
    if spec.channel == crate::domain::ChannelKind::Chat {
        check_chat(name, &mut settings)?;
    }
    let address = settings
        .get(spec.address_key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(Checked {
        name: name.to_string(),
        address,
        settings,
        secrets,
    })
}

/// A website chat's settings checked as a whole ([`ChatForm::check`]), stored in their normal
/// form (origins one per line as the browser sends them, the colour in lower case).
///
/// [`ChatForm::check`]: crate::domain::chat_settings::ChatForm::check
fn check_chat(name: &str, settings: &mut Map<String, Value>) -> Result<(), String> {
    let get = |k: &str| {
        settings
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let yes = |k: &str| get(k) == "yes";
    let form = crate::domain::chat_settings::ChatForm {
        name: name.to_string(),
        origins: get("origins"),
        greeting: get("greeting"),
        offline_message: get("offline_message"),
        colour: get("colour"),
        name_field: get("name_field"),
        email_field: get("email_field"),
        phone_field: get("phone_field"),
        ask_support_consent: yes("ask_support_consent"),
        ask_marketing_consent: yes("ask_marketing_consent"),
        require_verified_identity: yes("require_verified_identity"),
    };
    let checked = form.check().map_err(|problems| problems.join(" "))?;
    for (k, v) in [
        ("origins", checked.origins),
        ("greeting", checked.greeting),
        ("offline_message", checked.offline_message),
        ("colour", checked.colour),
    ] {
        settings.insert(k.into(), Value::String(v));
    }
    Ok(())
}

/// The edit form's values by field key (secret fields always blank) from an account's stored
/// `settings` and `secrets`, and the keys of the secrets that are saved.
pub fn form_values(
    spec: &ProviderSpec,
    settings: &Map<String, Value>,
    secrets: &Map<String, Value>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut saved = Vec::new();
    let values = spec
        .fields
        .iter()
        .map(|f| {
            let v = if f.kind == FieldKind::Secret {
                if non_blank(Some(secrets), f.key) {
                    saved.push(f.key.to_string());
                }
                String::new()
            } else {
                settings
                    .get(f.key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (f.key.to_string(), v)
        })
        .collect();
    (values, saved)
}

#[cfg(test)]
mod tests {
    use super::super::{MESSENGER, TELEGRAM, TWILIO};
    use super::*;

    fn twilio() -> BTreeMap<String, String> {
        [
            ("phone_number", "+1 555 010 0000"),
            ("account_sid", "AC0123456789abcdef0123456789abcdef"),
            ("auth_token", "tok-secret-1"),
            ("api_base", "https://api.twilio.com/"),
            ("default_region", "us"),
            ("help_reply", "Text STOP to stop."),
            ("unknown", "ignored"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn with(mut v: BTreeMap<String, String>, k: &str, val: &str) -> BTreeMap<String, String> {
        v.insert(k.into(), val.into());
        v
    }

    /// Tokens "token-1", "token-2"… (the server draws random ones).
    fn tokens() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("token-{n}")
        }
    }

    fn check(
        spec: &ProviderSpec,
        name: &str,
        values: &BTreeMap<String, String>,
        saved: Option<&Map<String, Value>>,
    ) -> Result<Checked, String> {
        check_account(spec, name, values, saved, &mut tokens())
    }

    #[test]
    fn settings_and_secrets_are_split_and_normalised() {
        let c = check(&TWILIO, " Support SMS ", &twilio(), None).unwrap();
        assert_eq!(c.name, "Support SMS");
        assert_eq!(c.address, "+15550100000");
        assert_eq!(c.settings["phone_number"], "+15550100000");
        assert_eq!(c.settings["default_region"], "US");
        assert_eq!(c.settings["api_base"], "https://api.twilio.com");
        assert_eq!(c.settings["messaging_service_sid"], "");
        assert!(!c.settings.contains_key("auth_token"));
        assert!(!c.settings.contains_key("unknown"));
        assert_eq!(c.secrets.len(), 1);
        assert_eq!(c.secrets["auth_token"], "tok-secret-1");
        assert!(
            !format!("{c:?}").contains("tok-secret-1"),
            "Debug hides secrets"
        );
    }

    #[test]
    fn refusals_say_what_to_fix() {
        let cases = [
            (with(twilio(), "account_sid", " "), "Enter the Account SID."),
            (
                with(twilio(), "phone_number", "555 0100"),
                "not a phone number",
            ),
            (
                with(twilio(), "api_base", "api.twilio.com"),
                "not a web address",
            ),
            (with(twilio(), "default_region", "USA"), "two letters"),
            (with(twilio(), "account_sid", "AC\r\nX"), "line breaks"),
            (with(twilio(), "auth_token", ""), "Enter the Auth token."),
        ];
        for (values, words) in cases {
            let m = check(&TWILIO, "SMS", &values, None).unwrap_err();
            assert!(m.contains(words), "expected {words:?} in {m:?}");
        }
        assert!(check(&TWILIO, " ", &twilio(), None)
            .unwrap_err()
            .contains("name"));
        assert!(check(&TWILIO, "a\nb", &twilio(), None)
            .unwrap_err()
            .contains("line breaks"));
        let tg: BTreeMap<String, String> = [
            ("bot_username", "acme_bot"),
            ("bot_token", "123:abc"),
            ("secret_token", "not allowed!"),
            ("api_base", "https://api.telegram.org"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert!(check(&TELEGRAM, "Bot", &tg, None)
            .unwrap_err()
            .contains("1 to 256"));
    }

    #[test]
    fn blank_secrets_keep_the_saved_ones_and_tokens_are_generated() {
        let mut saved = Map::new();
        saved.insert("auth_token".into(), "saved-token".into());
        let c = check(
            &TWILIO,
            "SMS",
            &with(twilio(), "auth_token", ""),
            Some(&saved),
        )
        .unwrap();
        assert!(
            c.secrets.is_empty(),
            "nothing to merge: the saved token stays"
        );
        // With nothing saved, a blank required secret is still refused on update.
        let m = check(
            &TWILIO,
            "SMS",
            &with(twilio(), "auth_token", ""),
            Some(&Map::new()),
        )
        .unwrap_err();
        assert!(m.contains("Auth token"), "{m}");

        let meta: BTreeMap<String, String> = [
            ("page_id", "1234"),
            ("page_access_token", "EAAB"),
            ("app_secret", "shh"),
            ("verify_token", ""),
            ("api_base", "https://graph.facebook.com/v21.0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let a = check(&MESSENGER, "Page", &meta, None).unwrap();
        assert_eq!(a.settings["verify_token"], "token-1");
        assert_eq!(a.address, "1234");

        let tg: BTreeMap<String, String> = [
            ("bot_username", "@acme_bot"),
            ("bot_token", "1:x"),
            ("api_base", "https://api.telegram.org"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = check(&TELEGRAM, "Bot", &tg, None).unwrap();
        assert_eq!(c.address, "acme_bot");
        assert_eq!(c.secrets["secret_token"], "token-1");
        // An edit with a saved webhook secret keeps it.
        let mut saved = Map::new();
        saved.insert("secret_token".into(), "kept".into());
        let c = check(&TELEGRAM, "Bot", &tg, Some(&saved)).unwrap();
        assert!(!c.secrets.contains_key("secret_token"));
    }

    #[test]
    fn the_edit_form_shows_settings_and_hides_secrets() {
        let c = check(&TWILIO, "SMS", &twilio(), None).unwrap();
        let (values, saved) = form_values(&TWILIO, &c.settings, &c.secrets);
        assert_eq!(values["phone_number"], "+15550100000");
        assert_eq!(values["auth_token"], "");
        assert_eq!(values.len(), TWILIO.fields.len());
        assert_eq!(saved, vec!["auth_token".to_string()]);
        let (_, none) = form_values(&TWILIO, &c.settings, &Map::new());
        assert!(none.is_empty());
    }

    #[test]
    fn a_website_chat_is_checked_as_a_whole_and_stored_in_normal_form() {
        let values: BTreeMap<String, String> = [
            (
                "origins",
                " https://Shop.Example.com/ \n\nhttps://*.example.org",
            ),
            ("colour", "#1F5FBF"),
            ("greeting", "  Hi!  "),
            ("name_field", "Optional"),
            ("email_field", "required"),
            ("phone_field", "off"),
            ("ask_support_consent", "yes"),
            ("ask_marketing_consent", "no"),
            ("require_verified_identity", "no"),
            ("identity_secret", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = check_account(&super::super::CHAT, "Shop chat", &values, None, &mut || {
            "gen".into()
        })
        .unwrap();
        let s = |k: &str| c.settings[k].as_str().unwrap().to_string();
        assert_eq!(
            s("origins"),
            "https://shop.example.com\nhttps://*.example.org"
        );
        assert_eq!(c.address, s("origins"));
        assert_eq!(s("colour"), "#1f5fbf");
        assert_eq!(s("greeting"), "Hi!");
        assert_eq!(s("name_field"), "optional");
        // A blank identity secret is generated, and kept as a secret.
        assert_eq!(c.secrets["identity_secret"], "gen");
        assert!(!c.settings.contains_key("identity_secret"));

        let bad = |k: &str, v: &str| {
            let mut v2 = values.clone();
            v2.insert(k.into(), v.into());
            check_account(&super::super::CHAT, "Shop chat", &v2, None, &mut || {
                "gen".into()
            })
            .unwrap_err()
        };
        let e = bad("origins", "shop.example.com/path");
        assert!(e.starts_with("Allowed websites:"), "{e}");
        assert_eq!(super::super::CHAT.field_of_error(&e), Some("origins"));
        let e = bad("colour", "#ffd700");
        assert!(e.contains("too faint"), "{e}");
        assert_eq!(super::super::CHAT.field_of_error(&e), Some("colour"));
        let e = bad("email_field", "sometimes");
        assert!(e.contains("choose one of off, optional, required"), "{e}");
        let mut none = values.clone();
        none.insert("email_field".into(), "off".into());
        let e = check_account(&super::super::CHAT, "Shop chat", &none, None, &mut || {
            "gen".into()
        })
        .unwrap_err();
        assert!(
            e.contains("consent checkbox needs an email or phone"),
            "{e}"
        );
    }
}
