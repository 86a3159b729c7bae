//! An email channel account read from its row: settings (visible to admins) and secrets.

use app::domain::email_account::{EmailSettings, TlsMode};
use app::store::channel_accounts::AccountRow;
use serde::Deserialize;
use std::fmt;

/// One server to talk to. The password never leaves the server and is never printed.
#[derive(Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct EmailAccount {
    pub id: i64,
    /// Our From address, as configured.
    pub address: String,
    pub from_name: String,
    pub imap: Endpoint,
    pub smtp: Endpoint,
    pub folder: String,
    /// First import only mail since this day (`YYYY-MM-DD`).
    pub import_since: Option<String>,
}

#[derive(Deserialize, Default)]
struct Secrets {
    #[serde(default)]
    imap_password: String,
    #[serde(default)]
    smtp_password: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the email account settings are incomplete: {0}")]
pub struct SettingsError(String);

impl EmailAccount {
    pub fn from_row(row: &AccountRow) -> Result<EmailAccount, SettingsError> {
        let s: EmailSettings =
            serde_json::from_str(&row.settings).map_err(|e| SettingsError(e.to_string()))?;
        let secrets: Secrets = serde_json::from_str(&row.secrets).unwrap_or_default();
        if s.imap_host.trim().is_empty() || s.imap_port == 0 {
            return Err(SettingsError("no IMAP server".into()));
        }
        Ok(EmailAccount {
            id: row.id,
            address: row.address.clone(),
            from_name: s.from_name,
            imap: Endpoint {
                host: s.imap_host.trim().to_string(),
                port: s.imap_port,
                tls: s.imap_tls,
                user: s.imap_user,
                password: secrets.imap_password,
            },
            smtp: Endpoint {
                host: s.smtp_host.trim().to_string(),
                port: s.smtp_port,
                tls: s.smtp_tls,
                user: s.smtp_user,
                password: secrets.smtp_password,
            },
            folder: if s.imap_folder.trim().is_empty() {
                "INBOX".into()
            } else {
                s.imap_folder.trim().to_string()
            },
            import_since: s.import_since.filter(|d| !d.trim().is_empty()),
        })
    }

    /// The domain of our address (for Message-IDs).
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map(|(_, d)| d)
            .filter(|d| !d.is_empty())
            .unwrap_or("localhost")
    }
}

/// `2026-01-31` as IMAP's `31-Jan-2026`, for `SEARCH SINCE`.
pub fn imap_date(iso: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut it = iso.trim().splitn(3, '-');
    let y: u32 = it.next()?.parse().ok()?;
    let m: usize = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    Some(format!("{d}-{}-{y}", MONTHS[m - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_dates() {
        assert_eq!(imap_date("2026-01-31").as_deref(), Some("31-Jan-2026"));
        assert_eq!(imap_date("2026-12-01").as_deref(), Some("1-Dec-2026"));
        assert_eq!(imap_date("2026-13-01"), None);
        assert_eq!(imap_date("yesterday"), None);
    }

    #[test]
    fn passwords_are_not_printed() {
        let e = Endpoint {
            host: "h".into(),
            port: 1,
            tls: TlsMode::None,
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{e:?}").contains("hunter2"));
    }
}
