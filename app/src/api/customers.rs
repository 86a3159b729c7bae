//! Customer identity: identifiers, preferred channel, merges and merge suggestions. Every
//! change needs `ManageConversations` (admin, support); marketing reads the panel only.
//!
//! Adding or editing an identifier that another customer holds answers 409 naming that
//! customer, and records a merge suggestion, so the panel offers "Merge <name> into this
//! customer" instead of a dead end.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod server {
    use crate::domain::Permission;
    use crate::model::UserView;
    use crate::service::identifiers::{self, Saved};
    use crate::ssr::{auth, errors, AppState};
    use http::StatusCode;
    use leptos::prelude::ServerFnError;

    /// A plain form post (no JavaScript) is answered with a redirect back to its page, whose
    /// URL carries the error for the panel to show. Keep that redirect: the error's own status
    /// would replace it, and the browser would show a bare error body instead of the page.
    pub fn for_forms(e: ServerFnError) -> ServerFnError {
        use leptos::prelude::use_context;
        let form_post = use_context::<http::request::Parts>().is_some_and(|p| {
            p.headers.contains_key(http::header::REFERER)
                && p.headers
                    .get(http::header::ACCEPT)
                    .and_then(|a| a.to_str().ok())
                    .is_some_and(|a| a.contains("text/html"))
        });
        if form_post {
            if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
                r.set_status(StatusCode::FOUND);
            }
        }
        e
    }

    /// The caller, allowed to change customers.
    pub async fn manager() -> Result<UserView, ServerFnError> {
        auth::require(Permission::ManageConversations).await
    }

    /// Tells every browser that these conversations changed.
    pub async fn changed(st: &AppState, conversations: impl IntoIterator<Item = Option<i64>>) {
        for c in conversations.into_iter().flatten() {
            st.hub.conversation_changed(c).await;
        }
    }

    /// Tells every browser that the conversations of these customers changed.
    pub async fn customers_changed(
        st: &AppState,
        customers: impl IntoIterator<Item = i64>,
    ) -> Result<(), ServerFnError> {
        for c in customers {
            let conv = identifiers::conversation_of(&st.db, c)
                .await
                .map_err(errors::store)?;
            changed(st, [conv]).await;
        }
        Ok(())
    }

    /// Refreshes the customer's conversation, and turns "someone else has it" into a 409.
    pub async fn saved(
        st: &AppState,
        customer: i64,
        saved: Result<Saved, crate::store::StoreError>,
    ) -> Result<(), ServerFnError> {
        let saved = saved.map_err(errors::store)?;
        // Either way the panel changes: a new identifier, or a new merge suggestion.
        customers_changed(st, [customer]).await?;
        match saved {
            Saved::Stored { .. } => Ok(()),
            Saved::BelongsTo { owner, value } => Err(errors::fail(
                StatusCode::CONFLICT,
                format!(
                    "{value} already belongs to {name}. To make them one customer, use \"Merge {name} into this customer\" under Possibly the same person.",
                    name = owner.name
                ),
            )),
        }
    }
}

/// Adds an identifier (`kind`: email, phone, whatsapp, messenger, instagram, telegram).
#[server(endpoint = "customer/identifier/add")]
pub async fn add_identifier(
    customer: i64,
    kind: String,
    value: String,
) -> Result<(), ServerFnError> {
    use crate::domain::IdentifierKind;
    use crate::service::identifiers;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    async move {
        let u = server::manager().await?;
        let kind = IdentifierKind::parse(kind.trim())
            .map_err(|_| errors::bad_request("Choose what kind of identifier this is."))?;
        let r = identifiers::add(
            &st.db,
            customer,
            kind,
            &value,
            &identifiers::default_region(),
            u.id,
        )
        .await;
        server::saved(&st, customer, r).await
    }
    .await
    .map_err(server::for_forms)
}

/// Changes an identifier's value; written the same way once normalised, only its label.
#[server(endpoint = "customer/identifier/edit")]
pub async fn edit_identifier(customer: i64, id: i64, value: String) -> Result<(), ServerFnError> {
    use crate::service::identifiers;
    use crate::ssr::auth;
    let st = auth::state()?;
    async move {
        let u = server::manager().await?;
        let r = identifiers::edit(
            &st.db,
            customer,
            id,
            &value,
            &identifiers::default_region(),
            u.id,
        )
        .await;
        server::saved(&st, customer, r).await
    }
    .await
    .map_err(server::for_forms)
}

/// Removes an identifier from the customer (kept with its history when it has one).
#[server(endpoint = "customer/identifier/remove")]
pub async fn remove_identifier(customer: i64, id: i64) -> Result<(), ServerFnError> {
    use crate::service::identifiers;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    async move {
        server::manager().await?;
        identifiers::remove(&st.db, customer, id)
            .await
            .map_err(errors::store)?;
        server::customers_changed(&st, [customer]).await
    }
    .await
    .map_err(server::for_forms)
}

/// Sets the channel the customer prefers; empty clears it.
#[server(endpoint = "customer/preferred-channel")]
pub async fn set_preferred_channel(customer: i64, channel: String) -> Result<(), ServerFnError> {
    use crate::domain::ChannelKind;
    use crate::service::identifiers;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    async move {
        server::manager().await?;
        let channel = match channel.trim() {
            "" => None,
            c => Some(ChannelKind::parse(c).ok_or_else(|| errors::bad_request("unknown channel"))?),
        };
        identifiers::set_preferred_channel(&st.db, customer, channel)
            .await
            .map_err(errors::store)?;
        server::customers_changed(&st, [customer]).await
    }
    .await
    .map_err(server::for_forms)
}

/// Merges customer `other` into `customer` (who keeps their name and conversation).
#[server(endpoint = "customer/merge")]
pub async fn merge_customers(customer: i64, other: i64) -> Result<(), ServerFnError> {
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    async move {
        let u = server::manager().await?;
        let out = crate::service::merge::merge(&st.db, customer, other, u.id)
            .await
            .map_err(errors::store)?;
        server::changed(
            &st,
            [Some(out.survivor_conversation), out.merged_conversation],
        )
        .await;
        Ok(())
    }
    .await
    .map_err(server::for_forms)
}

/// Undoes the merge of `customer` into another customer.
#[server(endpoint = "customer/unmerge")]
pub async fn unmerge_customer(customer: i64) -> Result<(), ServerFnError> {
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    async move {
        let u = server::manager().await?;
        let out = crate::service::merge::unmerge(&st.db, customer, u.id)
            .await
            .map_err(errors::store)?;
        server::changed(
            &st,
            [Some(out.survivor_conversation), out.merged_conversation],
        )
        .await;
        Ok(())
    }
    .await
    .map_err(server::for_forms)
}

/// Says `customer` and `other` are different people: their suggestion goes away for good.
#[server(endpoint = "customer/suggestion/dismiss")]
pub async fn dismiss_suggestion(customer: i64, other: i64) -> Result<(), ServerFnError> {
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    async move {
        let u = server::manager().await?;
        crate::store::suggestions::dismiss(&st.db, customer, other, u.id)
            .await
            .map_err(errors::store)?;
        server::customers_changed(&st, [customer, other]).await
    }
    .await
    .map_err(server::for_forms)
}
