//! Channel accounts in the admin page: the list with each mailbox's sync state and the form
//! asked for, and email accounts (IMAP + SMTP) checked
//! ([`crate::domain::email_account::check`]) and saved.

use super::provider_accounts;
use crate::domain::email_account::{self as rules, EmailSecrets, EmailSettings};
use crate::domain::providers::{self, PLAYGROUND};
use crate::domain::ChannelKind;
use crate::model::{ChannelRow, ChannelsView, DeliveryHealth, EmailForm};
use crate::store::channel_accounts::{self, AccountRow};
use crate::store::{mailbox, outbox, Db, Result, StoreError};

fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(StoreError::Invalid(msg.into()))
}

/// The channel accounts with their state, and the form asked for: an email account to edit
/// (`edit`), a new provider account (`add`, a provider id) or a provider account to edit
/// (`edit_provider`). Webhook URLs start with `public_url`.
pub async fn page(
    db: &Db,
    public_url: &str,
    edit: Option<i64>,
    add: Option<&str>,
    edit_provider: Option<i64>,
) -> Result<ChannelsView> {
    let mut page = ChannelsView::default();
    if let Some(p) = add {
        let Some(spec) = providers::by_id(p) else {
            return invalid(format!("There is no provider called {p:?}."));
        };
        page.provider = Some(provider_accounts::form_view(public_url, spec, None));
    }
    for a in channel_accounts::list(db).await? {
        let email = a.provider == rules::PROVIDER;
        let m = if email {
            mailbox::status(db, a.id).await?
        } else {
            None
        };
        if email && edit == Some(a.id) {
            let pw = a.email_secrets();
            page.imap_password_saved = !pw.imap_password.is_empty();
            page.smtp_password_saved = !pw.smtp_password.is_empty();
            page.edit = Some(email_form(&a));
        }
        let spec = providers::by_id(&a.provider);
        if let Some(spec) = spec.filter(|_| edit_provider == Some(a.id)) {
            page.provider = Some(provider_accounts::form_view(public_url, spec, Some(&a)));
        }
        let m = m.unwrap_or_default();
        let delivery = delivery_health(db, a.id).await?;
        page.rows.push(ChannelRow {
            delivery,
            webhook_url: spec
                .filter(|s| s.channel != ChannelKind::Chat)
                .map(|s| s.webhook_url(public_url, a.id)),
            id: a.id,
            channel: a.channel,
            provider: a.provider,
            name: a.name,
            address: a.address,
            enabled: a.enabled,
            state: a.state,
            state_detail: a.state_detail,
            phase: (!m.phase.is_empty()).then_some(m.phase),
            total: m.total,
            done: m.done,
            detail: m.detail,
            last_success_at: m.last_success_at,
        });
    }
    if edit.is_some() && page.edit.is_none() {
        return invalid("There is no email account to edit with that id.");
    }
    let editing_provider = page.provider.as_ref().is_some_and(|p| p.id.is_some());
    if edit_provider.is_some() && !editing_provider {
        return invalid("There is no messaging account to edit with that id.");
    }
    Ok(page)
}

/// How channel account `account_id`'s outgoing messages are doing.
pub async fn delivery_health(db: &Db, account_id: i64) -> Result<DeliveryHealth> {
    let h = outbox::account_health(db, account_id).await?;
    Ok(DeliveryHealth {
        retrying: h.retrying,
        last_error: h.last_error,
        next_attempt_at: h.next_attempt_at,
        failed: h.failed,
    })
}

/// A saved email account as its edit form shows it (password fields empty).
fn email_form(a: &AccountRow) -> EmailForm {
    let s = a.email_settings();
    EmailForm {
        id: a.id.to_string(),
        name: a.name.clone(),
        address: a.address.clone(),
        from_name: s.from_name,
        imap_host: s.imap_host,
        imap_port: s.imap_port.to_string(),
        imap_tls: s.imap_tls.as_str().into(),
        imap_user: s.imap_user,
        imap_folder: s.imap_folder,
        import: if s.import_since.is_some() {
            "since"
        } else {
            "all"
        }
        .into(),
        import_since: s.import_since.unwrap_or_default(),
        smtp_host: s.smtp_host,
        smtp_port: s.smtp_port.to_string(),
        smtp_tls: s.smtp_tls.as_str().into(),
        smtp_user: s.smtp_user,
        ..Default::default()
    }
}

/// Reads the form's numbers and choices ([`save_email`] checks the rest): the account id
/// (None for a new account), its settings and the passwords typed.
pub fn parse_email_form(f: &EmailForm) -> Result<(Option<i64>, EmailSettings, EmailSecrets)> {
    let id = match f.id.trim() {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| StoreError::Invalid("Unknown account.".into()))?,
        ),
    };
    let words = StoreError::Invalid;
    let import_since = rules::parse_import(&f.import, &f.import_since).map_err(words)?;
    let settings = EmailSettings {
        from_name: f.from_name.trim().to_string(),
        imap_host: f.imap_host.trim().to_string(),
        imap_port: rules::parse_port("IMAP", &f.imap_port).map_err(words)?,
        imap_tls: rules::parse_tls("IMAP", &f.imap_tls).map_err(words)?,
        imap_user: f.imap_user.trim().to_string(),
        imap_folder: f.imap_folder.trim().to_string(),
        import_since,
        smtp_host: f.smtp_host.trim().to_string(),
        smtp_port: rules::parse_port("SMTP", &f.smtp_port).map_err(words)?,
        smtp_tls: rules::parse_tls("SMTP", &f.smtp_tls).map_err(words)?,
        smtp_user: f.smtp_user.trim().to_string(),
    };
    let secrets = EmailSecrets {
        imap_password: f.imap_password.clone(),
        smtp_password: f.smtp_password.clone(),
    };
    Ok((id, settings, secrets))
}

/// Creates (`id` = None) or updates an email account after [`rules::check`]. On update,
/// blank passwords keep the stored ones; a new account needs its IMAP password.
pub async fn save_email(
    db: &Db,
    id: Option<i64>,
    name: &str,
    address: &str,
    settings: &EmailSettings,
    secrets: &EmailSecrets,
) -> Result<i64> {
    let address = rules::check(name, address, settings, secrets).map_err(StoreError::Invalid)?;
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
            channel_accounts::create(
                db,
                ChannelKind::Email,
                rules::PROVIDER,
                name,
                &address,
                &settings_json,
                &secrets_json,
            )
            .await
        }
        Some(id) => {
            if channel_accounts::get(db, id).await?.provider != rules::PROVIDER {
                return invalid("That account is not an email account.");
            }
            channel_accounts::update(db, id, name, &address, &settings_json, &secrets_json).await?;
            Ok(id)
        }
    }
}

/// Saves the email account a posted form describes; returns its id.
pub async fn save_email_form(db: &Db, form: &EmailForm) -> Result<i64> {
    let (id, settings, secrets) = parse_email_form(form)?;
    save_email(db, id, &form.name, &form.address, &settings, &secrets).await
}

/// The email account a posted form describes, not stored, for a connection test: blank
/// passwords of an existing account are filled from the saved ones.
pub async fn email_candidate(db: &Db, form: &EmailForm) -> Result<AccountRow> {
    let (id, settings, mut secrets) = parse_email_form(form)?;
    if let Some(id) = id {
        let saved = channel_accounts::get(db, id).await?.email_secrets();
        if secrets.imap_password.is_empty() {
            secrets.imap_password = saved.imap_password;
        }
        if secrets.smtp_password.is_empty() {
            secrets.smtp_password = saved.smtp_password;
        }
    }
    let address = rules::check(&form.name, &form.address, &settings, &secrets)
        .map_err(StoreError::Invalid)?;
    let json = |v: serde_json::Result<serde_json::Value>| {
        v.map(|v| v.to_string())
            .map_err(|e| StoreError::Invalid(e.to_string()))
    };
    Ok(AccountRow {
        id: id.unwrap_or(0),
        channel: ChannelKind::Email,
        provider: rules::PROVIDER.to_string(),
        name: form.name.trim().to_string(),
        address,
        settings: json(serde_json::to_value(&settings))?,
        secrets: json(serde_json::to_value(&secrets))?,
        enabled: true,
        state: "ok".into(),
        state_detail: None,
    })
}

/// Enables or disables an account; the built-in playground accounts stay on.
pub async fn set_enabled(db: &Db, id: i64, enabled: bool) -> Result<()> {
    if channel_accounts::get(db, id).await?.provider == PLAYGROUND {
        return invalid("Playground accounts are built in and stay enabled.");
    }
    channel_accounts::set_enabled(db, id, enabled).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::email_account::TlsMode;

    fn form() -> EmailForm {
        EmailForm {
            name: "Support".into(),
            address: "help@example.com".into(),
            imap_host: " imap.example.com ".into(),
            imap_port: "993".into(),
            imap_tls: "tls".into(),
            imap_user: "u".into(),
            imap_password: "pw".into(),
            imap_folder: "INBOX".into(),
            import: "since".into(),
            import_since: "2026-01-31".into(),
            smtp_host: "smtp.example.com".into(),
            smtp_port: "587".into(),
            smtp_tls: "starttls".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_email_form_is_read_into_settings_and_secrets() {
        let (id, s, pw) = parse_email_form(&form()).unwrap();
        assert_eq!(id, None);
        assert_eq!(s.imap_host, "imap.example.com");
        assert_eq!((s.imap_port, s.smtp_tls), (993, TlsMode::Starttls));
        assert_eq!(s.import_since.as_deref(), Some("2026-01-31"));
        assert_eq!(pw.imap_password, "pw");
        let refused = |f: EmailForm| match parse_email_form(&f) {
            Err(StoreError::Invalid(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            refused(EmailForm {
                id: "x".into(),
                ..form()
            }),
            "Unknown account."
        );
        assert!(refused(EmailForm {
            smtp_port: "0".into(),
            ..form()
        })
        .contains("SMTP port"));
        assert!(refused(EmailForm {
            import_since: String::new(),
            ..form()
        })
        .contains("Choose the date"));
    }
}
