//! Email channel accounts (IMAP + SMTP): their settings and secrets as stored in
//! `channel_accounts.settings` / `.secrets`, and the checks an account passes before it is
//! stored. Every refusal says in words what to fix.

use serde::{Deserialize, Serialize};

/// `channel_accounts.provider` of email accounts.
pub const PROVIDER: &str = "email";

/// How a mail client secures its connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    #[default]
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    Starttls,
    /// No encryption: only for servers on this machine or a private network.
    None,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Tls => "tls",
            TlsMode::Starttls => "starttls",
            TlsMode::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<TlsMode> {
        match s {
            "tls" => Some(TlsMode::Tls),
            "starttls" => Some(TlsMode::Starttls),
            "none" => Some(TlsMode::None),
            _ => None,
        }
    }
}

/// An email account's settings as stored in `channel_accounts.settings`. Passwords are in
/// [`EmailSecrets`], never here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailSettings {
    pub from_name: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub imap_tls: TlsMode,
    pub imap_user: String,
    /// The folder to import and watch, usually `INBOX`.
    pub imap_folder: String,
    /// First import: `None` imports everything, `Some("2026-01-31")` mail since that day.
    #[serde(default)]
    pub import_since: Option<String>,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: TlsMode,
    pub smtp_user: String,
}

/// The secrets of an email account, as stored in `channel_accounts.secrets`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
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

fn no_line_breaks(label: &str, v: &str) -> Result<(), String> {
    if v.contains(['\r', '\n']) {
        return Err(format!("{label} cannot contain line breaks."));
    }
    Ok(())
}

fn check_host(label: &str, host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err(format!("Enter the {label} host."));
    }
    if host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
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
pub fn check(
    name: &str,
    address: &str,
    settings: &EmailSettings,
    secrets: &EmailSecrets,
) -> Result<String, String> {
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
        return Err("Give the account a name.".into());
    }
    let address = crate::domain::identifier::normalize_email(address.trim())
        .map_err(|_| format!("{address:?} is not an email address."))?;
    check_host("IMAP", &s.imap_host)?;
    check_host("SMTP", &s.smtp_host)?;
    if s.imap_port == 0 || s.smtp_port == 0 {
        return Err("A port is a number from 1 to 65535.".into());
    }
    if s.imap_user.trim().is_empty() {
        return Err("Enter the IMAP user.".into());
    }
    if s.imap_folder.trim().is_empty() {
        return Err("Enter the IMAP folder to import, usually INBOX.".into());
    }
    if let Some(d) = &s.import_since {
        if !is_iso_date(d) {
            return Err(format!(
                "{d:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31."
            ));
        }
    }
    Ok(address)
}

/// A port typed into the form: a number from 1 to 65535.
pub fn parse_port(label: &str, v: &str) -> Result<u16, String> {
    match v.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!(
            "The {label} port {v:?} is not a port: use a number from 1 to 65535."
        )),
    }
}

/// A connection security typed into the form: `tls`, `starttls` or `none`.
pub fn parse_tls(label: &str, v: &str) -> Result<TlsMode, String> {
    TlsMode::parse(v)
        .ok_or_else(|| format!("The {label} security {v:?} is not one of TLS, STARTTLS or none."))
}

/// The first import chosen in the form: `all` (or nothing) imports everything, `since`
/// imports mail since `since` (`YYYY-MM-DD`, checked by [`check`]).
pub fn parse_import(choice: &str, since: &str) -> Result<Option<String>, String> {
    match choice {
        "" | "all" => Ok(None),
        "since" if since.trim().is_empty() => Err("Choose the date to import mail from.".into()),
        "since" => Ok(Some(since.trim().to_string())),
        other => Err(format!("Unknown first import choice {other:?}.")),
    }
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
            check("Support", " Help@Example.COM ", &s, &pw).unwrap(),
            "help@example.com"
        );
        let refused = |s: &EmailSettings, pw: &EmailSecrets| {
            check("Support", "help@example.com", s, pw).expect_err("expected a refusal")
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

    #[test]
    fn form_values_are_read_in_words() {
        assert_eq!(parse_port("IMAP", " 993 "), Ok(993));
        assert!(parse_port("IMAP", "0").unwrap_err().contains("1 to 65535"));
        assert!(parse_port("SMTP", "x").unwrap_err().contains("SMTP port"));
        assert_eq!(parse_tls("IMAP", "starttls"), Ok(TlsMode::Starttls));
        assert!(parse_tls("IMAP", "ssl")
            .unwrap_err()
            .contains("TLS, STARTTLS or none"));
        assert_eq!(parse_import("all", "2026-01-01"), Ok(None));
        assert_eq!(parse_import("", ""), Ok(None));
        assert_eq!(
            parse_import("since", " 2026-01-31 "),
            Ok(Some("2026-01-31".into()))
        );
        assert!(parse_import("since", " ")
            .unwrap_err()
            .contains("Choose the date"));
        assert!(parse_import("some", "").unwrap_err().contains("Unknown"));
    }
}
