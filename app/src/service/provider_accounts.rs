//! Messaging provider accounts (Twilio, WhatsApp, Messenger, Instagram, Telegram): their
//! admin form, checked against the provider's [`ProviderSpec`]
//! ([`crate::domain::providers::check_account`]) and stored as a channel account.

use crate::domain::providers::{
    self, check_account, form_values, Checked, FieldKind, ProviderSpec,
};
use crate::model::{ProviderForm, ProviderFormView};
use crate::store::channel_accounts::{self, AccountRow};
use crate::store::{Db, Result, StoreError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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

/// [`check_account`], and what only the server knows: whether a region is one the phone
/// numbering plan has.
fn check(
    spec: &ProviderSpec,
    name: &str,
    values: &BTreeMap<String, String>,
    saved: Option<&Map<String, Value>>,
) -> Result<Checked> {
    let c = check_account(spec, name, values, saved, &mut generate_token)
        .map_err(StoreError::Invalid)?;
    for f in spec.fields.iter().filter(|f| f.kind == FieldKind::Region) {
        let v = c.settings.get(f.key).and_then(Value::as_str).unwrap_or("");
        if !v.is_empty() && !crate::domain::phone::is_region(v) {
            return invalid(format!(
                "{}: {v:?} is not a region. Use a country's two-letter code, such as US, GB or DE.",
                f.label
            ));
        }
    }
    Ok(c)
}

/// Refuses an address (number, page or phone number id, bot) another account of the same
/// provider already has: its webhooks and replies could not be told apart.
async fn refuse_duplicate(
    db: &Db,
    spec: &ProviderSpec,
    id: Option<i64>,
    address: &str,
) -> Result<()> {
    if address.is_empty() {
        return Ok(());
    }
    let other = channel_accounts::list_by_provider(db, spec.id)
        .await?
        .into_iter()
        .find(|a| Some(a.id) != id && a.address.eq_ignore_ascii_case(address));
    match other {
        Some(a) => {
            let label = spec
                .field(spec.address_key)
                .map_or("The address", |f| f.label);
            Err(StoreError::Conflict(format!(
                "{label}: {address} is already used by the account “{}”. Edit that account instead, or use another.",
                a.name
            )))
        }
        None => Ok(()),
    }
}

fn secrets_of(row: &AccountRow) -> Map<String, Value> {
    serde_json::from_str(&row.secrets).unwrap_or_default()
}

/// The account id (None for a new one) and the provider's spec named in a posted form.
pub fn parse_form(f: &ProviderForm) -> Result<(Option<i64>, &'static ProviderSpec)> {
    let Some(spec) = providers::by_id(f.provider.trim()) else {
        return invalid(format!("There is no provider called {:?}.", f.provider));
    };
    let id = match f.id.trim() {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| StoreError::Invalid("Unknown account.".into()))?,
        ),
    };
    Ok((id, spec))
}

/// The account `id` if it is one of `spec`'s.
async fn existing(db: &Db, id: i64, spec: &ProviderSpec) -> Result<AccountRow> {
    let row = channel_accounts::get(db, id).await?;
    if row.provider != spec.id {
        return invalid(format!("That account is not a {} account.", spec.label));
    }
    Ok(row)
}

/// Creates (`id` = None) or updates a provider account after checking it; returns its id. On
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
            refuse_duplicate(db, spec, None, &c.address).await?;
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
            refuse_duplicate(db, spec, Some(id), &c.address).await?;
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

/// The form of a new account (`row` None: the spec's defaults) or of a saved one.
pub fn form_view(
    public_url: &str,
    spec: &ProviderSpec,
    row: Option<&AccountRow>,
) -> ProviderFormView {
    let Some(row) = row else {
        return ProviderFormView {
            provider: spec.id.into(),
            values: spec
                .fields
                .iter()
                .map(|f| (f.key.to_string(), f.default.to_string()))
                .collect(),
            ..Default::default()
        };
    };
    let settings: Map<String, Value> = serde_json::from_str(&row.settings).unwrap_or_default();
    let (values, saved) = form_values(spec, &settings, &secrets_of(row));
    let chat = spec.channel == crate::domain::ChannelKind::Chat;
    ProviderFormView {
        provider: spec.id.into(),
        id: Some(row.id),
        name: row.name.clone(),
        values,
        saved,
        webhook_url: (!chat).then(|| spec.webhook_url(public_url, row.id)),
        snippet: chat.then(|| crate::domain::chat_settings::snippet(public_url, row.id)),
        status_url: spec.status_url(public_url, row.id),
        verify_token: spec.verify_token.then(|| row.setting("verify_token")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let (a, b) = (generate_token(), generate_token());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_posted_form_names_its_provider_and_account() {
        let form = |provider: &str, id: &str| ProviderForm {
            id: id.into(),
            provider: provider.into(),
            ..Default::default()
        };
        let (id, spec) = parse_form(&form(" twilio ", "7")).unwrap();
        assert_eq!((id, spec.id), (Some(7), "twilio"));
        assert_eq!(parse_form(&form("telegram", "")).unwrap().0, None);
        assert!(matches!(
            parse_form(&form("fax", "")),
            Err(StoreError::Invalid(m)) if m.contains("no provider called \"fax\"")
        ));
        assert!(matches!(
            parse_form(&form("twilio", "x")),
            Err(StoreError::Invalid(m)) if m == "Unknown account."
        ));
    }
}
