//! Channel accounts (admins only): the list with each mailbox's sync state, and email accounts
//! (IMAP + SMTP) to add, edit, test, enable and disable. Passwords go in, never out: no result
//! here carries one. Messaging provider accounts are saved and tested in [`super::providers`];
//! their form's data comes with the list.

use crate::domain::ChannelKind;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of the channel list: the account and, for mailboxes, where the sync stands
/// ([`crate::model::MailboxStatus`], flattened; `phase` is None before the first start).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelRow {
    pub id: i64,
    pub channel: ChannelKind,
    pub provider: String,
    pub name: String,
    pub address: String,
    pub enabled: bool,
    pub state: String,
    pub state_detail: Option<String>,
    pub phase: Option<String>,
    pub total: i64,
    pub done: i64,
    pub detail: Option<String>,
    pub last_success_at: Option<i64>,
    /// A messaging provider account's webhook URL, to paste into the provider's console.
    pub webhook_url: Option<String>,
}

/// The channel section of the admin page in one answer: the list, and the email account
/// being edited as its form shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelsView {
    pub rows: Vec<ChannelRow>,
    /// The edited account's form values ([`EmailForm::into_values`]; password fields always
    /// empty), or none. A list of strings: its decoder is already in the browser bundle.
    pub edit: Vec<String>,
    pub imap_password_saved: bool,
    pub smtp_password_saved: bool,
    /// The provider account form asked for (`add` or `edit_provider`) as
    /// [`super::providers::ProviderFormView::into_values`], or empty.
    pub provider: Vec<String>,
}

/// The email account form as submitted: text, checked on the server. `id` is empty for a new
/// account; `import` is `all` or `since` (then `import_since` is `YYYY-MM-DD`); blank passwords
/// keep the saved ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    pub id: String,
    pub name: String,
    pub address: String,
    pub from_name: String,
    pub imap_host: String,
    pub imap_port: String,
    pub imap_tls: String,
    pub imap_user: String,
    pub imap_password: String,
    pub imap_folder: String,
    pub import: String,
    pub import_since: String,
    pub smtp_host: String,
    pub smtp_port: String,
    pub smtp_tls: String,
    pub smtp_user: String,
    pub smtp_password: String,
}

impl EmailForm {
    /// The form's field names, in the order of [`EmailForm::into_values`].
    pub const KEYS: [&'static str; 17] = [
        "id",
        "name",
        "address",
        "from_name",
        "imap_host",
        "imap_port",
        "imap_tls",
        "imap_user",
        "imap_password",
        "imap_folder",
        "import",
        "import_since",
        "smtp_host",
        "smtp_port",
        "smtp_tls",
        "smtp_user",
        "smtp_password",
    ];

    /// The values in the order of [`EmailForm::KEYS`], for [`ChannelsView::edit`].
    pub fn into_values(self) -> Vec<String> {
        let f = self;
        vec![
            f.id,
            f.name,
            f.address,
            f.from_name,
            f.imap_host,
            f.imap_port,
            f.imap_tls,
            f.imap_user,
            f.imap_password,
            f.imap_folder,
            f.import,
            f.import_since,
            f.smtp_host,
            f.smtp_port,
            f.smtp_tls,
            f.smtp_user,
            f.smtp_password,
        ]
    }

    /// The form from values in the order of [`EmailForm::KEYS`]; None for an empty list.
    pub fn from_values(values: Vec<String>) -> Option<EmailForm> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.into_iter();
        let mut next = || v.next().unwrap_or_default();
        // Struct fields are evaluated in the order written: keep it the order of KEYS.
        Some(EmailForm {
            id: next(),
            name: next(),
            address: next(),
            from_name: next(),
            imap_host: next(),
            imap_port: next(),
            imap_tls: next(),
            imap_user: next(),
            imap_password: next(),
            imap_folder: next(),
            import: next(),
            import_since: next(),
            smtp_host: next(),
            smtp_port: next(),
            smtp_tls: next(),
            smtp_user: next(),
            smtp_password: next(),
        })
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod edge {
    use super::EmailForm;
    use crate::model::{EmailSettings, LiveEvent, LiveKind, TlsMode};
    use crate::ssr::errors;
    use crate::store::channel_accounts::EmailSecrets;
    use crate::store::StoreError;
    use leptos::prelude::*;

    /// A plain form post (no JavaScript) is redirected back to the page with the error in the
    /// URL, where the form shows it; an error status would replace that redirect.
    fn is_form_post() -> bool {
        use_context::<http::request::Parts>().is_some_and(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// Refuses the request with `msg` (400, or the redirect of a form post).
    pub fn refuse(msg: impl Into<String>) -> ServerFnError {
        if is_form_post() {
            ServerFnError::new(msg.into())
        } else {
            errors::bad_request(msg)
        }
    }

    pub fn store(e: StoreError) -> ServerFnError {
        match e {
            StoreError::Invalid(m) | StoreError::Conflict(m) => refuse(m),
            other => errors::store(other),
        }
    }

    fn port(label: &str, v: &str) -> Result<u16, ServerFnError> {
        match v.trim().parse::<u16>() {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(refuse(format!(
                "The {label} port {v:?} is not a port: use a number from 1 to 65535."
            ))),
        }
    }

    fn tls(label: &str, v: &str) -> Result<TlsMode, ServerFnError> {
        TlsMode::parse(v).ok_or_else(|| {
            refuse(format!(
                "The {label} security {v:?} is not one of TLS, STARTTLS or none."
            ))
        })
    }

    /// Parses the form's numbers and choices; the store checks the rest.
    pub fn parse(
        f: &EmailForm,
    ) -> Result<(Option<i64>, EmailSettings, EmailSecrets), ServerFnError> {
        let id = match f.id.trim() {
            "" => None,
            s => Some(s.parse().map_err(|_| refuse("Unknown account."))?),
        };
        let import_since = match f.import.as_str() {
            "" | "all" => None,
            "since" if f.import_since.trim().is_empty() => {
                return Err(refuse("Choose the date to import mail from."))
            }
            "since" => Some(f.import_since.trim().to_string()),
            other => return Err(refuse(format!("Unknown first import choice {other:?}."))),
        };
        let settings = EmailSettings {
            from_name: f.from_name.trim().to_string(),
            imap_host: f.imap_host.trim().to_string(),
            imap_port: port("IMAP", &f.imap_port)?,
            imap_tls: tls("IMAP", &f.imap_tls)?,
            imap_user: f.imap_user.trim().to_string(),
            imap_folder: f.imap_folder.trim().to_string(),
            import_since,
            smtp_host: f.smtp_host.trim().to_string(),
            smtp_port: port("SMTP", &f.smtp_port)?,
            smtp_tls: tls("SMTP", &f.smtp_tls)?,
            smtp_user: f.smtp_user.trim().to_string(),
        };
        let secrets = EmailSecrets {
            imap_password: f.imap_password.clone(),
            smtp_password: f.smtp_password.clone(),
        };
        Ok((id, settings, secrets))
    }

    /// Tells other admin pages that the channel list changed.
    pub async fn announce(st: &crate::ssr::AppState) {
        st.channels.accounts_changed();
        st.hub
            .publish(LiveEvent {
                kind: LiveKind::Channel,
                conversation_id: None,
                message_id: None,
            })
            .await;
    }
}

/// The channel accounts with their state, and the form asked for: an email account to edit
/// (`edit`), a new provider account (`add`, a provider id) or a provider account to edit
/// (`edit_provider`).
#[server(endpoint = "admin/channels")]
pub async fn channels_page(
    edit: Option<i64>,
    add: Option<String>,
    edit_provider: Option<i64>,
) -> Result<ChannelsView, ServerFnError> {
    use crate::domain::{providers, Permission};
    use crate::ssr::{auth, errors};
    use crate::store::{channel_accounts, mailbox};
    // The state is taken before the first await. During server rendering the page may be
    // rendered more than once and an earlier render discarded while this runs; its context
    // goes with it, and the browser may hydrate with that render's answer.
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let public_url = st.settings.public_url.as_str();
    let mut page = ChannelsView::default();
    if let Some(p) = add.as_deref() {
        let spec = providers::by_id(p)
            .ok_or_else(|| edge::refuse(format!("There is no provider called {p:?}.")))?;
        page.provider = super::providers::form_view(public_url, spec, None).into_values();
    }
    for a in channel_accounts::list(&st.db)
        .await
        .map_err(errors::store)?
    {
        let email = a.provider == channel_accounts::EMAIL;
        let m = if email {
            mailbox::status(&st.db, a.id).await.map_err(errors::store)?
        } else {
            None
        };
        if email && edit == Some(a.id) {
            let (s, pw) = (a.email_settings(), a.email_secrets());
            page.imap_password_saved = !pw.imap_password.is_empty();
            page.smtp_password_saved = !pw.smtp_password.is_empty();
            page.edit = EmailForm {
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
            .into_values();
        }
        let spec = providers::by_id(&a.provider);
        if let Some(spec) = spec.filter(|_| edit_provider == Some(a.id)) {
            page.provider = super::providers::form_view(public_url, spec, Some(&a)).into_values();
        }
        let m = m.unwrap_or_default();
        page.rows.push(ChannelRow {
            webhook_url: spec.map(|s| s.webhook_url(public_url, a.id)),
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
    if edit.is_some() && page.edit.is_empty() {
        return Err(edge::refuse(
            "There is no email account to edit with that id.",
        ));
    }
    let editing_provider = page.provider.get(1).is_some_and(|id| !id.is_empty());
    if edit_provider.is_some() && !editing_provider {
        return Err(edge::refuse(
            "There is no messaging account to edit with that id.",
        ));
    }
    Ok(page)
}

/// Creates or updates an email account; returns its id. The mailbox workers restart with it.
#[server(endpoint = "admin/channels/email/save")]
pub async fn save_email_account(#[server(flatten)] form: EmailForm) -> Result<i64, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::auth;
    use crate::store::channel_accounts;
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let (id, settings, secrets) = edge::parse(&form)?;
    let id =
        channel_accounts::save_email(&st.db, id, &form.name, &form.address, &settings, &secrets)
            .await
            .map_err(edge::store)?;
    edge::announce(&st).await;
    Ok(id)
}

/// Connects with the settings in the form (an existing account's saved passwords fill blank
/// password fields) and answers the mail servers' own words: `Ok` when it worked, `Err` not.
#[server(endpoint = "admin/channels/test")]
pub async fn test_connection(
    #[server(flatten)] form: EmailForm,
) -> Result<Result<String, String>, ServerFnError> {
    use crate::domain::{ChannelKind, Permission};
    use crate::ssr::{auth, errors};
    use crate::store::channel_accounts::{self, AccountRow};
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let (id, settings, mut secrets) = edge::parse(&form)?;
    if let Some(id) = id {
        let saved = channel_accounts::get(&st.db, id)
            .await
            .map_err(errors::store)?
            .email_secrets();
        if secrets.imap_password.is_empty() {
            secrets.imap_password = saved.imap_password;
        }
        if secrets.smtp_password.is_empty() {
            secrets.smtp_password = saved.smtp_password;
        }
    }
    let address =
        channel_accounts::check_email_account(&form.name, &form.address, &settings, &secrets)
            .map_err(edge::store)?;
    let json = |v: serde_json::Result<serde_json::Value>| {
        v.map(|v| v.to_string())
            .map_err(|e| edge::refuse(e.to_string()))
    };
    let row = AccountRow {
        id: id.unwrap_or(0),
        channel: ChannelKind::Email,
        provider: channel_accounts::EMAIL.to_string(),
        name: form.name.trim().to_string(),
        address,
        settings: json(serde_json::to_value(&settings))?,
        secrets: json(serde_json::to_value(&secrets))?,
        enabled: true,
        state: "ok".into(),
        state_detail: None,
    };
    // The servers' words are shown as they are, but never with a password in them.
    let scrub = |mut words: String| {
        for pw in [&secrets.imap_password, &secrets.smtp_password] {
            if pw.len() >= 4 {
                words = words.replace(pw.as_str(), "••••");
            }
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

/// Enables or disables a channel account (the built-in playground accounts stay on).
#[server(endpoint = "admin/channels/enable")]
pub async fn set_channel_enabled(id: i64, enabled: bool) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    use crate::store::channel_accounts;
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let row = channel_accounts::get(&st.db, id)
        .await
        .map_err(errors::store)?;
    if row.provider == channel_accounts::PLAYGROUND {
        return Err(edge::refuse(
            "Playground accounts are built in and stay enabled.",
        ));
    }
    channel_accounts::set_enabled(&st.db, id, enabled)
        .await
        .map_err(errors::store)?;
    edge::announce(&st).await;
    Ok(())
}
