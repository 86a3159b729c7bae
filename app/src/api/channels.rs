//! Channel accounts (admins only): the list with each mailbox's sync state, and email accounts
//! (IMAP + SMTP) to add, edit, test, enable and disable. Passwords go in, never out: no result
//! here carries one. Messaging provider accounts are saved and tested in [`super::providers`];
//! their form's data comes with the list.

use crate::model::{ChannelsView, EmailForm};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod edge {
    use crate::model::{LiveEvent, LiveKind};
    use crate::ssr::errors;
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

    /// A refusal in words is told to the form; anything else is a server error.
    pub fn store(e: StoreError) -> ServerFnError {
        match e {
            StoreError::Invalid(m) | StoreError::Conflict(m) => refuse(m),
            other => errors::store(other),
        }
    }

    /// Records a change to channel account `id` in the audit trail (its name and provider;
    /// never its settings or secrets).
    pub async fn audit(
        st: &crate::ssr::AppState,
        me: &crate::model::UserView,
        id: i64,
        action: crate::domain::audit::AuditAction,
    ) {
        let target = match crate::store::channel_accounts::get(&st.db, id).await {
            Ok(a) => format!("{} ({}, account {id})", a.name, a.provider),
            Err(_) => format!("channel account {id}"),
        };
        crate::ssr::audit::record(&st.db, Some(me), None, action, &target, "").await;
    }

    /// Tells the mailbox supervisors of every process, and other admin pages, that the
    /// channel list changed.
    pub async fn announce(st: &crate::ssr::AppState) {
        st.channels.accounts_changed();
        st.hub
            .publish(LiveEvent {
                kind: LiveKind::Accounts,
                conversation_id: None,
                message_id: None,
                presence: None,
            })
            .await;
    }
}

/// The channel accounts with their state, and the form asked for: an email account to edit
/// (`edit`), a new provider account (`add`, a provider id) or a provider account to edit
/// (`edit_provider`).
#[server(endpoint = "admin/channels", output = crate::api::codec::JsonText)]
pub async fn channels_page(
    edit: Option<i64>,
    add: Option<String>,
    edit_provider: Option<i64>,
) -> Result<ChannelsView, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::auth;
    // The state is taken before the first await. During server rendering the page may be
    // rendered more than once and an earlier render discarded while this runs; its context
    // goes with it, and the browser may hydrate with that render's answer.
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    crate::service::channel_accounts::page(
        &st.db,
        &st.settings.public_url,
        edit,
        add.as_deref(),
        edit_provider,
    )
    .await
    .map_err(edge::store)
}

/// Creates or updates an email account; returns its id. The mailbox workers restart with it.
#[server(endpoint = "admin/channels/email/save", output = crate::api::codec::JsonText)]
pub async fn save_email_account(#[server(flatten)] form: EmailForm) -> Result<i64, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::auth;
    let st = auth::state()?;
    let me = auth::require(Permission::ManageChannels).await?;
    let id = crate::service::channel_accounts::save_email_form(&st.db, &form)
        .await
        .map_err(edge::store)?;
    edge::audit(
        &st,
        &me,
        id,
        crate::domain::audit::AuditAction::AccountSaved,
    )
    .await;
    edge::announce(&st).await;
    Ok(id)
}

/// Connects with the settings in the form (an existing account's saved passwords fill blank
/// password fields) and answers the mail servers' own words: `Ok` when it worked, `Err` not.
#[server(endpoint = "admin/channels/test", output = crate::api::codec::JsonText)]
pub async fn test_connection(
    #[server(flatten)] form: EmailForm,
) -> Result<Result<String, String>, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::auth;
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let row = crate::service::channel_accounts::email_candidate(&st.db, &form)
        .await
        .map_err(edge::store)?;
    // The servers' words are shown as they are, but never with a password in them.
    let secrets = row.email_secrets();
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
    use crate::ssr::auth;
    let st = auth::state()?;
    let me = auth::require(Permission::ManageChannels).await?;
    crate::service::channel_accounts::set_enabled(&st.db, id, enabled)
        .await
        .map_err(edge::store)?;
    let action = if enabled {
        crate::domain::audit::AuditAction::AccountEnabled
    } else {
        crate::domain::audit::AuditAction::AccountDisabled
    };
    edge::audit(&st, &me, id, action).await;
    edge::announce(&st).await;
    Ok(())
}
