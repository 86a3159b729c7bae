//! Channel accounts: our endpoints on each channel. Secrets stay in the row type.

use super::{now_ms, Db, Result, StoreError};
use crate::domain::ChannelKind;
use crate::model::ChannelAccountView;
use sqlx::Row;

pub const PLAYGROUND: &str = "playground";

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
    for c in ChannelKind::ALL {
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
