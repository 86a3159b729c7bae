//! Channel accounts: our endpoints on each channel. Secrets stay in the row type.

use super::{now_ms, Db, Result, StoreError};
use crate::domain::ChannelKind;
use crate::model::{ChannelAccountView, EmailSettings};
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

// ---- Email accounts (IMAP + SMTP) -------------------------------------------------------

/// `channel_accounts.provider` of email accounts.
pub const EMAIL: &str = "email";

/// The secrets of an email account, as stored in `channel_accounts.secrets`.
#[derive(Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EmailSecrets {
    #[serde(default)]
    pub imap_password: String,
    #[serde(default)]
    pub smtp_password: String,
}

impl std::fmt::Debug for EmailSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailSecrets(<redacted>)")
    }
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

fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(StoreError::Invalid(msg.into()))
}

fn no_line_breaks(label: &str, v: &str) -> Result<()> {
    if v.contains(['\r', '\n']) {
        return invalid(format!("{label} cannot contain line breaks."));
    }
    Ok(())
}

fn check_host(label: &str, host: &str) -> Result<()> {
    if host.is_empty() {
        return invalid(format!("Enter the {label} host."));
    }
    if host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid(format!(
            "The {label} host {host:?} is not a host name: no spaces or control characters."
        ));
    }
    Ok(())
}

/// Whether `s` is a real calendar date written `YYYY-MM-DD`.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r.clone()]
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| s[r].parse().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1970 && (1..=days).contains(&d)
}

/// Checks an email account before it is stored and returns the normalised From address.
/// Every refusal says in words what to fix.
pub fn check_email_account(
    name: &str,
    address: &str,
    settings: &EmailSettings,
    secrets: &EmailSecrets,
) -> Result<String> {
    let s = settings;
    for (label, v) in [
        ("The name", name),
        ("The From address", address),
        ("The From name", s.from_name.as_str()),
        ("The IMAP host", s.imap_host.as_str()),
        ("The IMAP user", s.imap_user.as_str()),
        ("The IMAP folder", s.imap_folder.as_str()),
        ("The SMTP host", s.smtp_host.as_str()),
        ("The SMTP user", s.smtp_user.as_str()),
        ("The IMAP password", secrets.imap_password.as_str()),
        ("The SMTP password", secrets.smtp_password.as_str()),
    ] {
        no_line_breaks(label, v)?;
    }
    if name.trim().is_empty() {
        return invalid("Give the account a name.");
    }
    let address = crate::domain::identifier::normalize_email(address.trim())
        .map_err(|_| StoreError::Invalid(format!("{address:?} is not an email address.")))?;
    check_host("IMAP", &s.imap_host)?;
    check_host("SMTP", &s.smtp_host)?;
    if s.imap_port == 0 || s.smtp_port == 0 {
        return invalid("A port is a number from 1 to 65535.");
    }
    if s.imap_user.trim().is_empty() {
        return invalid("Enter the IMAP user.");
    }
    if s.imap_folder.trim().is_empty() {
        return invalid("Enter the IMAP folder to import, usually INBOX.");
    }
    if let Some(d) = &s.import_since {
        if !is_iso_date(d) {
            return invalid(format!(
                "{d:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31."
            ));
        }
    }
    Ok(address)
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

/// Creates (`id` = None) or updates an email account after [`check_email_account`]. On update,
/// blank passwords keep the stored ones; a new account needs its IMAP password.
pub async fn save_email(
    db: &Db,
    id: Option<i64>,
    name: &str,
    address: &str,
    settings: &EmailSettings,
    secrets: &EmailSecrets,
) -> Result<i64> {
    let address = check_email_account(name, address, settings, secrets)?;
    let name = name.trim();
    let settings_json =
        serde_json::to_value(settings).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let secrets_json =
        serde_json::to_value(secrets).map_err(|e| StoreError::Invalid(e.to_string()))?;
    match id {
        None => {
            if secrets.imap_password.is_empty() {
                return invalid("Enter the IMAP password.");
            }
            create(
                db,
                ChannelKind::Email,
                EMAIL,
                name,
                &address,
                &settings_json,
                &secrets_json,
            )
            .await
        }
        Some(id) => {
            if get(db, id).await?.provider != EMAIL {
                return invalid("That account is not an email account.");
            }
            update(db, id, name, &address, &settings_json, &secrets_json).await?;
            Ok(id)
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_real_calendar_days() {
        for ok in [
            "2026-01-31",
            "2028-02-29",
            "2000-02-29",
            "1970-01-01",
            "2026-12-31",
        ] {
            assert!(is_iso_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-1-31",
            "26-01-31",
            "2026/01/31",
            "yesterday",
            "",
            "2026-01-31\n",
            "+026-01-31",
            "1969-12-31",
        ] {
            assert!(!is_iso_date(bad), "{bad:?}");
        }
    }

    #[test]
    fn email_accounts_are_checked_in_words() {
        let s = EmailSettings {
            imap_host: "imap.example.com".into(),
            imap_port: 993,
            imap_user: "u".into(),
            imap_folder: "INBOX".into(),
            smtp_host: "smtp.example.com".into(),
            smtp_port: 587,
            ..Default::default()
        };
        let pw = EmailSecrets::default();
        assert_eq!(
            check_email_account("Support", " Help@Example.COM ", &s, &pw).unwrap(),
            "help@example.com"
        );
        let refused = |s: &EmailSettings, pw: &EmailSecrets| match check_email_account(
            "Support",
            "help@example.com",
            s,
            pw,
        ) {
            Err(StoreError::Invalid(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let with = |f: fn(&mut EmailSettings)| {
            let mut s = s.clone();
            f(&mut s);
            s
        };
        assert!(refused(&with(|s| s.imap_port = 0), &pw).contains("65535"));
        assert!(refused(&with(|s| s.smtp_host = "a b".into()), &pw).contains("host"));
        assert!(refused(&with(|s| s.imap_host = "x\r\ny".into()), &pw).contains("line breaks"));
        assert!(
            refused(&with(|s| s.import_since = Some("2026-02-30".into())), &pw)
                .contains("YYYY-MM-DD")
        );
        let crlf = EmailSecrets {
            imap_password: "pw\r\nA1 LOGOUT".into(),
            ..Default::default()
        };
        assert!(refused(&s, &crlf).contains("line breaks"));
        assert!(
            !format!("{crlf:?}").contains("pw"),
            "secrets are redacted in Debug"
        );
    }
}
