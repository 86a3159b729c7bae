//! Messaging provider accounts (admins only): save one and test its connection. The form's
//! data comes with the channel list ([`super::channels::channels_page`]); everything is drawn
//! from [`crate::domain::providers`]. Secrets go in, never out: no answer carries one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A provider account's form as the page draws it. It travels as a list of strings
/// ([`ProviderFormView::into_values`], in [`super::channels::ChannelsView::provider`]): that
/// decoder is already in the browser bundle, a struct's would cost it more.
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// The keys of the secret fields that have a saved value.
    pub saved: Vec<String>,
    /// The field values in the order of the spec's fields; secret fields always empty.
    pub values: Vec<String>,
}

impl ProviderFormView {
    /// provider, id, name, webhook URL, status URL, verify token (empty when none), the saved
    /// secrets' keys separated by spaces, then the field values.
    pub fn into_values(self) -> Vec<String> {
        let opt = Option::unwrap_or_default;
        let mut v = vec![
            self.provider,
            self.id.map(|i| i.to_string()).unwrap_or_default(),
            self.name,
            opt(self.webhook_url),
            opt(self.status_url),
            opt(self.verify_token),
            self.saved.join(" "),
        ];
        v.extend(self.values);
        v
    }

    /// The form from [`ProviderFormView::into_values`]; None for an empty list.
    pub fn from_values(values: Vec<String>) -> Option<ProviderFormView> {
        if values.len() < 7 {
            return None;
        }
        let mut v = values.into_iter();
        let mut next = || v.next().unwrap_or_default();
        let some = |s: String| (!s.is_empty()).then_some(s);
        // Struct fields are evaluated in the order written: keep it the order of into_values.
        Some(ProviderFormView {
            provider: next(),
            id: next().parse().ok(),
            name: next(),
            webhook_url: some(next()),
            status_url: some(next()),
            verify_token: some(next()),
            saved: next().split_whitespace().map(str::to_string).collect(),
            values: v.collect(),
        })
    }
}

/// The provider account form as posted, field by field: `id` (empty for a new account),
/// `provider`, `name`, and each of the spec's field keys (`values`). Blank secrets keep the
/// saved ones. Written by hand as one flat map, so the browser needs no map type to send it.
#[derive(Clone, Default, PartialEq)]
pub struct ProviderForm {
    pub id: String,
    pub provider: String,
    pub name: String,
    pub values: Vec<(String, String)>,
}

impl Serialize for ProviderForm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3 + self.values.len()))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("provider", &self.provider)?;
        m.serialize_entry("name", &self.name)?;
        for (k, v) in &self.values {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for ProviderForm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut all = BTreeMap::<String, String>::deserialize(d)?;
        let mut take = |k: &str| all.remove(k).unwrap_or_default();
        Ok(ProviderForm {
            id: take("id"),
            provider: take("provider"),
            name: take("name"),
            values: all.into_iter().collect(),
        })
    }
}

impl std::fmt::Debug for ProviderForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.values.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ProviderForm")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("keys", &keys)
            .finish()
    }
}

impl ProviderForm {
    /// The field values by key, as the store takes them.
    pub fn value_map(&self) -> BTreeMap<String, String> {
        self.values.iter().cloned().collect()
    }
}

#[cfg(feature = "ssr")]
mod edge {
    use super::{ProviderForm, ProviderFormView};
    use crate::api::channels::edge::refuse;
    use crate::domain::providers::{self, ProviderSpec};
    use crate::store::channel_accounts::AccountRow;
    use crate::store::provider_accounts;
    use leptos::prelude::ServerFnError;

    /// The account id (None for a new one) and the provider's spec named in the form.
    pub fn parse(f: &ProviderForm) -> Result<(Option<i64>, &'static ProviderSpec), ServerFnError> {
        let spec = providers::by_id(f.provider.trim())
            .ok_or_else(|| refuse(format!("There is no provider called {:?}.", f.provider)))?;
        let id = match f.id.trim() {
            "" => None,
            s => Some(s.parse().map_err(|_| refuse("Unknown account."))?),
        };
        Ok((id, spec))
    }

    /// The form of a new account (`row` None: the spec's defaults) or of a saved one.
    pub fn view(
        public_url: &str,
        spec: &ProviderSpec,
        row: Option<&AccountRow>,
    ) -> ProviderFormView {
        let Some(row) = row else {
            return ProviderFormView {
                provider: spec.id.into(),
                values: spec.fields.iter().map(|f| f.default.to_string()).collect(),
                ..Default::default()
            };
        };
        let (values, saved) = provider_accounts::form_values(spec, row);
        ProviderFormView {
            provider: spec.id.into(),
            id: Some(row.id),
            name: row.name.clone(),
            values,
            saved,
            webhook_url: Some(spec.webhook_url(public_url, row.id)),
            status_url: spec.status_url(public_url, row.id),
            verify_token: spec.verify_token.then(|| row.setting("verify_token")),
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) use edge::view as form_view;

/// Creates or updates a provider account and answers its id. A plain form post is redirected
/// to the account's form, which shows the webhook URL to paste into the provider's console.
#[server(endpoint = "admin/channels/provider/save")]
pub async fn save_provider_account(
    #[server(flatten)] form: ProviderForm,
) -> Result<i64, ServerFnError> {
    use crate::api::channels::edge as channels_edge;
    use crate::domain::Permission;
    use crate::ssr::auth;
    use crate::store::provider_accounts;
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let (id, spec) = edge::parse(&form)?;
    let id = provider_accounts::save_provider(&st.db, id, spec, &form.name, &form.value_map())
        .await
        .map_err(channels_edge::store)?;
    channels_edge::announce(&st).await;
    leptos_axum::redirect(&format!("/admin?edit_provider={id}#provider-form"));
    Ok(id)
}

/// Calls the provider with the form's settings (an existing account's saved secrets fill blank
/// secret fields) and answers its words: `Ok` when it worked, `Err` not. Nothing is saved.
#[server(endpoint = "admin/channels/provider/test")]
pub async fn test_provider_connection(
    #[server(flatten)] form: ProviderForm,
) -> Result<Result<String, String>, ServerFnError> {
    use crate::api::channels::edge as channels_edge;
    use crate::domain::Permission;
    use crate::ssr::auth;
    use crate::store::provider_accounts;
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let (id, spec) = edge::parse(&form)?;
    // A connection can be tried before the account has a name.
    let name = match form.name.trim() {
        "" => spec.label,
        n => n,
    };
    let row = provider_accounts::candidate(&st.db, id, spec, name, &form.value_map())
        .await
        .map_err(channels_edge::store)?;
    // The provider's words are shown as they are, but never with a secret in them.
    let secrets: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&row.secrets)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(_, v)| v.as_str().map(str::to_string))
            .filter(|s| s.len() >= 4)
            .collect();
    let scrub = |mut words: String| {
        for s in &secrets {
            words = words.replace(s.as_str(), "••••");
        }
        words
    };
    Ok(st
        .channels
        .test_connection(&row)
        .await
        .map(scrub)
        .map_err(scrub))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_view_survives_its_list_of_strings() {
        let saved = ProviderFormView {
            provider: "twilio".into(),
            id: Some(7),
            name: "SMS".into(),
            webhook_url: Some("https://x.test/webhooks/twilio/7".into()),
            status_url: Some("https://x.test/webhooks/twilio/7/status".into()),
            verify_token: None,
            saved: vec!["auth_token".into()],
            values: vec!["+15550100000".into(), String::new(), "US".into()],
        };
        let new = ProviderFormView {
            provider: "telegram".into(),
            values: vec![String::new(); 4],
            ..Default::default()
        };
        for v in [saved, new] {
            assert_eq!(
                ProviderFormView::from_values(v.clone().into_values()),
                Some(v)
            );
        }
        assert_eq!(ProviderFormView::from_values(Vec::new()), None);
    }

    #[test]
    fn the_posted_form_is_one_flat_map_and_hides_values_in_debug() {
        let f = ProviderForm {
            id: "3".into(),
            provider: "twilio".into(),
            name: "SMS".into(),
            values: vec![("auth_token".into(), "tok-secret".into())],
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
}
