//! Messaging provider accounts (admins only): save one and test its connection. The form's
//! data comes with the channel list ([`super::channels::channels_page`]); everything is drawn
//! from [`crate::domain::providers`]. Secrets go in, never out: no answer carries one.

use crate::model::ProviderForm;
use leptos::prelude::*;

/// Creates or updates a provider account and answers its id. A plain form post is redirected
/// to the account's form, which shows the webhook URL to paste into the provider's console.
#[server(endpoint = "admin/channels/provider/save", output = crate::api::codec::JsonText)]
pub async fn save_provider_account(
    #[server(flatten)] form: ProviderForm,
) -> Result<i64, ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::service::provider_accounts;
    use crate::ssr::auth;
    let st = auth::state()?;
    let me = auth::require(Permission::ManageChannels).await?;
    let (id, spec) = provider_accounts::parse_form(&form).map_err(edge::store)?;
    let id = provider_accounts::save_provider(&st.db, id, spec, &form.name, &form.values)
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
    leptos_axum::redirect(&format!("/admin?edit_provider={id}#provider-form"));
    Ok(id)
}

/// Calls the provider with the form's settings (an existing account's saved secrets fill blank
/// secret fields) and answers its words: `Ok` when it worked, `Err` not. Nothing is saved.
#[server(endpoint = "admin/channels/provider/test", output = crate::api::codec::JsonText)]
pub async fn test_provider_connection(
    #[server(flatten)] form: ProviderForm,
) -> Result<Result<String, String>, ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::service::provider_accounts;
    use crate::ssr::auth;
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let (id, spec) = provider_accounts::parse_form(&form).map_err(edge::store)?;
    // A connection can be tried before the account has a name.
    let name = match form.name.trim() {
        "" => spec.label,
        n => n,
    };
    let row = provider_accounts::candidate(&st.db, id, spec, name, &form.values)
        .await
        .map_err(edge::store)?;
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
