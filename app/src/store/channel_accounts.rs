//! Channel accounts (`channel_accounts`): our endpoints on each channel. Secrets stay in the
//! row type.

use super::{now_ms, Db, Result, StoreError};
use crate::domain::email_account::{EmailSecrets, EmailSettings};
use crate::domain::providers::PLAYGROUND;
use crate::domain::ChannelKind;
use crate::model::ChannelAccountView;
use sqlx::{AnyConnection, Row};

/// Server-only: includes the secrets JSON.
#[derive(Clone, Debug)]
pub struct AccountRow {
    pub id: i64,
    pub channel: ChannelKind,
    pub provider: String,
    pub name: String,
    pub address: String,
    pub settings: String,
    pub secrets: String,
    pub enabled: bool,
    pub state: String,
    pub state_detail: Option<String>,
}

impl AccountRow {
    /// What the browser may see: no secrets.
    pub fn view(&self) -> ChannelAccountView {
        ChannelAccountView {
            id: self.id,
            channel: self.channel,
            provider: self.provider.clone(),
            name: self.name.clone(),
            address: self.address.clone(),
            enabled: self.enabled,
            state: self.state.clone(),
            state_detail: self.state_detail.clone(),
        }
    }
}

const COLS: &str =
    "id, channel, provider, name, address, settings, secrets, enabled, state, state_detail";

fn row_to_account(r: &sqlx::any::AnyRow) -> Result<AccountRow> {
    let channel: String = r.try_get("channel")?;
    Ok(AccountRow {
        id: r.try_get("id")?,
        channel: ChannelKind::parse(&channel)
            .ok_or_else(|| StoreError::Invalid(format!("bad channel {channel}")))?,
        provider: r.try_get("provider")?,
        name: r.try_get("name")?,
        address: r.try_get("address")?,
        settings: r.try_get("settings")?,
        secrets: r.try_get("secrets")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        state: r.try_get("state")?,
        state_detail: r.try_get("state_detail")?,
    })
}

pub async fn create(
    db: &Db,
    channel: ChannelKind,
    provider: &str,
    name: &str,
    address: &str,
    settings: &serde_json::Value,
    secrets: &serde_json::Value,
) -> Result<i64> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO channel_accounts (channel, provider, name, address, settings, secrets, enabled, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, 'ok', $7, $7) RETURNING id",
    )
    .bind(channel.as_str())
    .bind(provider)
    .bind(name)
    .bind(address)
    .bind(settings.to_string())
    .bind(secrets.to_string())
    .bind(now)
    .fetch_one(&db.write)
    .await?;
    Ok(row.try_get("id")?)
}

pub async fn get(db: &Db, id: i64) -> Result<AccountRow> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM channel_accounts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(StoreError::NotFound)?;
    row_to_account(&row)
}

/// The channel of account `id`, inside the caller's transaction.
pub async fn channel_of(conn: &mut AnyConnection, id: i64) -> Result<ChannelKind> {
    let (channel,): (String,) =
        sqlx::query_as("SELECT channel FROM channel_accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
    ChannelKind::parse(&channel).ok_or_else(|| StoreError::Invalid("unknown channel".into()))
}

pub async fn list(db: &Db) -> Result<Vec<AccountRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM channel_accounts ORDER BY channel, name, id"
    ))
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(row_to_account).collect()
}

/// The playground account standing in for `channel`, if one exists.
pub async fn playground_for(db: &Db, channel: ChannelKind) -> Result<Option<AccountRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM channel_accounts WHERE provider = $1 AND channel = $2 AND enabled = 1 ORDER BY id LIMIT 1"
    ))
    .bind(PLAYGROUND)
    .bind(channel.as_str())
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(row_to_account).transpose()
}

/// Creates one playground account per channel kind where none exists yet.
pub async fn ensure_playground_accounts(db: &Db) -> Result<()> {
    // The website chat needs no stand-in: its widget is ours, and anyone can try it.
    for c in ChannelKind::ALL
        .into_iter()
        .filter(|c| *c != ChannelKind::Chat)
    {
        if playground_for(db, c).await?.is_none() {
            let address = match c {
                ChannelKind::Email => "support@convergence.test".to_string(),
                ChannelKind::Sms | ChannelKind::Whatsapp => "+15550100000".to_string(),
                _ => format!("playground-{}", c.as_str()),
            };
            create(
                db,
                c,
                PLAYGROUND,
                &format!("Playground {}", c.label()),
                &address,
                &serde_json::json!({}),
                &serde_json::json!({}),
            )
            .await?;
        }
    }
    Ok(())
}

impl AccountRow {
    /// A string value of the `settings` JSON object (empty when missing or not a string).
    pub fn setting(&self, key: &str) -> String {
        json_str(&self.settings, key)
    }

    /// A string value of the `secrets` JSON object (empty when missing). Never log it.
    pub fn secret(&self, key: &str) -> String {
        json_str(&self.secrets, key)
    }
}

fn json_str(json: &str, key: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.get(key).and_then(|s| s.as_str()).map(str::to_string))
        .unwrap_or_default()
}

impl AccountRow {
    /// The stored email settings (defaults when the JSON does not parse).
    pub fn email_settings(&self) -> EmailSettings {
        serde_json::from_str(&self.settings).unwrap_or_default()
    }

    /// The stored email passwords (empty when missing).
    pub fn email_secrets(&self) -> EmailSecrets {
        serde_json::from_str(&self.secrets).unwrap_or_default()
    }
}

/// Changes an account's name, address and settings, and merges `secrets_patch` (a JSON object)
/// into its stored secrets: a blank or missing value keeps the stored one.
pub async fn update(
    db: &Db,
    id: i64,
    name: &str,
    address: &str,
    settings: &serde_json::Value,
    secrets_patch: &serde_json::Value,
) -> Result<()> {
    let mut secrets: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&get(db, id).await?.secrets).unwrap_or_default();
    if let Some(patch) = secrets_patch.as_object() {
        for (k, v) in patch {
            let blank = v.is_null() || v.as_str().is_some_and(str::is_empty);
            if !blank {
                secrets.insert(k.clone(), v.clone());
            }
        }
    }
    let n = sqlx::query(
        "UPDATE channel_accounts SET name = $2, address = $3, settings = $4, secrets = $5, updated_at = $6 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(address)
    .bind(settings.to_string())
    .bind(serde_json::Value::Object(secrets).to_string())
    .bind(now_ms())
    .execute(&db.write)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Enables or disables an account.
pub async fn set_enabled(db: &Db, id: i64, enabled: bool) -> Result<()> {
    let n = sqlx::query("UPDATE channel_accounts SET enabled = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(enabled as i64)
        .bind(now_ms())
        .execute(&db.write)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The accounts with `provider`, enabled or not, oldest first.
pub async fn list_by_provider(db: &Db, provider: &str) -> Result<Vec<AccountRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM channel_accounts WHERE provider = $1 ORDER BY id"
    ))
    .bind(provider)
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(row_to_account).collect()
}
