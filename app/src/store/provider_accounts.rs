//! Messaging provider accounts (Twilio, WhatsApp, Messenger, Instagram, Telegram), checked
//! against their [`ProviderSpec`]: secret fields go to `channel_accounts.secrets`, the others to
//! `settings`, both JSON objects of strings keyed by the spec's field keys.

use super::channel_accounts::{self, AccountRow};
use super::{Db, Result, StoreError};
use crate::domain::providers::{FieldKind, ProviderSpec};
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

fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(StoreError::Invalid(msg.into()))
}

/// A random token of 32 URL-safe characters (verify tokens, webhook secrets).
pub fn generate_token() -> String {
    use rand::Rng;
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
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
/// token, Telegram webhook secret) gets a new random token.
pub fn check(
    spec: &ProviderSpec,
    name: &str,
    values: &BTreeMap<String, String>,
    saved: Option<&Map<String, Value>>,
) -> Result<Checked> {
    if name.contains(['\r', '\n']) {
        return invalid("The name cannot contain line breaks.");
    }
    let name = name.trim();
    if name.is_empty() {
        return invalid("Give the account a name.");
    }
    if name.chars().count() > 200 {
        return invalid("The name is too long: at most 200 characters.");
    }
    let mut settings = Map::new();
    let mut secrets = Map::new();
    for f in spec.fields {
        let raw = values.get(f.key).map(String::as_str).unwrap_or("");
        let mut v = f.check(raw).map_err(StoreError::Invalid)?;
        let secret = f.kind == FieldKind::Secret;
        if v.is_empty() {
            if secret && non_blank(saved, f.key) {
                continue;
            }
            if f.generated() {
                v = generate_token();
            } else if f.required {
                return invalid(format!("Enter the {}.", f.label));
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

fn secrets_of(row: &AccountRow) -> Map<String, Value> {
    serde_json::from_str(&row.secrets).unwrap_or_default()
}

/// The account `id` if it is one of `spec`'s.
async fn existing(db: &Db, id: i64, spec: &ProviderSpec) -> Result<AccountRow> {
    let row = channel_accounts::get(db, id).await?;
    if row.provider != spec.id {
        return invalid(format!("That account is not a {} account.", spec.label));
    }
    Ok(row)
}

/// Creates (`id` = None) or updates a provider account after [`check`]; returns its id. On
/// update a blank secret keeps the stored one; a new account needs its required secrets.
pub async fn save_provider(
    db: &Db,
    id: Option<i64>,
    spec: &ProviderSpec,
    name: &str,
    values: &BTreeMap<String, String>,
) -> Result<i64> {
    match id {
        None => {
            let c = check(spec, name, values, None)?;
            channel_accounts::create(
                db,
                spec.channel,
                spec.id,
                &c.name,
                &c.address,
                &Value::Object(c.settings),
                &Value::Object(c.secrets),
            )
            .await
        }
        Some(id) => {
            let row = existing(db, id, spec).await?;
            let c = check(spec, name, values, Some(&secrets_of(&row)))?;
            channel_accounts::update(
                db,
                id,
                &c.name,
                &c.address,
                &Value::Object(c.settings),
                &Value::Object(c.secrets),
            )
            .await?;
            Ok(id)
        }
    }
}

/// The account as the form describes it, not stored, for a connection test: blank secrets of
/// an existing account are filled from the saved ones.
pub async fn candidate(
    db: &Db,
    id: Option<i64>,
    spec: &ProviderSpec,
    name: &str,
    values: &BTreeMap<String, String>,
) -> Result<AccountRow> {
    let saved = match id {
        Some(id) => Some(secrets_of(&existing(db, id, spec).await?)),
        None => None,
    };
    let c = check(spec, name, values, saved.as_ref())?;
    let mut secrets = saved.unwrap_or_default();
    secrets.extend(c.secrets);
    Ok(AccountRow {
        id: id.unwrap_or(0),
        channel: spec.channel,
        provider: spec.id.to_string(),
        name: c.name,
        address: c.address,
        settings: Value::Object(c.settings).to_string(),
        secrets: Value::Object(secrets).to_string(),
        enabled: true,
        state: "ok".into(),
        state_detail: None,
    })
}

/// The edit form's values in the order of `spec.fields` (secret fields always blank), and the
/// keys of the secrets that are saved.
pub fn form_values(spec: &ProviderSpec, row: &AccountRow) -> (Vec<String>, Vec<String>) {
    let secrets = secrets_of(row);
    let mut saved = Vec::new();
    let values = spec
        .fields
        .iter()
        .map(|f| {
            if f.kind == FieldKind::Secret {
                if non_blank(Some(&secrets), f.key) {
                    saved.push(f.key.to_string());
                }
                String::new()
            } else {
                row.setting(f.key)
            }
        })
        .collect();
    (values, saved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::providers::{MESSENGER, TELEGRAM, TWILIO};

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

    fn refused(r: Result<Checked>) -> String {
        match r {
            Err(StoreError::Invalid(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
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
            let m = refused(check(&TWILIO, "SMS", &values, None));
            assert!(m.contains(words), "expected {words:?} in {m:?}");
        }
        assert!(refused(check(&TWILIO, " ", &twilio(), None)).contains("name"));
        assert!(refused(check(&TWILIO, "a\nb", &twilio(), None)).contains("line breaks"));
        let tg: BTreeMap<String, String> = [
            ("bot_username", "acme_bot"),
            ("bot_token", "123:abc"),
            ("secret_token", "not allowed!"),
            ("api_base", "https://api.telegram.org"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert!(refused(check(&TELEGRAM, "Bot", &tg, None)).contains("1 to 256"));
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
        let m = refused(check(
            &TWILIO,
            "SMS",
            &with(twilio(), "auth_token", ""),
            Some(&Map::new()),
        ));
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
        let b = check(&MESSENGER, "Page", &meta, None).unwrap();
        let token = a.settings["verify_token"].as_str().unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|c| c.is_ascii_alphanumeric()), "{token}");
        assert_ne!(a.settings["verify_token"], b.settings["verify_token"]);
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
        let secret = c.secrets["secret_token"].as_str().unwrap();
        assert_eq!(secret.len(), 32);
        assert!(TELEGRAM
            .field("secret_token")
            .unwrap()
            .check(secret)
            .is_ok());
        // An edit with a saved webhook secret keeps it.
        let mut saved = Map::new();
        saved.insert("secret_token".into(), "kept".into());
        let c = check(&TELEGRAM, "Bot", &tg, Some(&saved)).unwrap();
        assert!(!c.secrets.contains_key("secret_token"));
    }
}
