//! Messaging provider accounts in the admin page: the form as drawn and as posted. Secrets go
//! in, never out: no shape the server sends carries one.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A provider account's form as the page draws it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderFormView {
    /// The provider id ([`crate::domain::providers::ProviderSpec::id`]).
    pub provider: String,
    /// None for a new account.
    pub id: Option<i64>,
    pub name: String,
    /// Where the provider posts (a saved account only).
    pub webhook_url: Option<String>,
    /// Where Twilio posts delivery reports; the adapter names it with each message it sends.
    pub status_url: Option<String>,
    /// The token Meta's webhook check must echo (Meta accounts only).
    pub verify_token: Option<String>,
    /// Website chat: the line to paste into the site's pages (a saved chat only).
    pub snippet: Option<String>,
    /// The keys of the secret fields that have a saved value.
    pub saved: Vec<String>,
    /// The field values by the spec's field keys; secret fields always empty.
    pub values: BTreeMap<String, String>,
}

/// The provider account form as posted, field by field: `id` (empty for a new account),
/// `provider`, `name`, and each of the spec's field keys (`values`, flattened: the form's
/// inputs are named by the keys). Blank secrets keep the saved ones.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderForm {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub name: String,
    #[serde(flatten)]
    pub values: BTreeMap<String, String>,
}

impl std::fmt::Debug for ProviderForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.values.keys().map(String::as_str).collect();
        f.debug_struct("ProviderForm")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("keys", &keys)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_posted_form_is_one_flat_map_and_hides_values_in_debug() {
        let f = ProviderForm {
            id: "3".into(),
            provider: "twilio".into(),
            name: "SMS".into(),
            values: [("auth_token".to_string(), "tok-secret".to_string())].into(),
        };
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "3", "provider": "twilio", "name": "SMS", "auth_token": "tok-secret"})
        );
        let back: ProviderForm = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
        assert!(!format!("{f:?}").contains("tok-secret"));
    }

    #[test]
    fn the_form_view_travels_with_its_field_names() {
        let v = ProviderFormView {
            provider: "twilio".into(),
            id: Some(7),
            name: "SMS".into(),
            webhook_url: Some("https://x.test/webhooks/twilio/7".into()),
            snippet: None,
            status_url: None,
            verify_token: None,
            saved: vec!["auth_token".into()],
            values: [("phone_number".to_string(), "+15550100000".to_string())].into(),
        };
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["values"]["phone_number"], "+15550100000");
        assert_eq!(json["id"], 7);
        assert_eq!(serde_json::from_value::<ProviderFormView>(json).unwrap(), v);
    }
}
