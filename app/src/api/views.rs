//! Saved views and the list's counts.

use crate::model::InboxCounts;
use leptos::prelude::*;

/// Unread conversations per status tab, and the user's saved views with their counts.
#[server(endpoint = "inbox/counts", output = crate::api::codec::JsonText)]
pub async fn get_inbox_counts() -> Result<InboxCounts, ServerFnError> {
    use crate::domain::Permission;
    use crate::service::search::Searcher;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let user = auth::require(Permission::ReadConversations).await?;
    let zone = crate::api::zone::request_zone();
    let region = crate::service::identifiers::default_region();
    let who = Searcher {
        user_id: user.id,
        zone: &zone.name,
        region: &region,
    };
    crate::service::views::counts(&st.db, &who, user.role)
        .await
        .map_err(errors::store)
}

/// Saves the search `query` as a view called `name` (for everyone with `shared`, admins
/// only). A name the list already holds replaces that view's search.
#[server(endpoint = "views/save")]
pub async fn save_view(
    name: String,
    query: String,
    shared: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::ssr::auth;
    let st = auth::state()?;
    let user = auth::require(Permission::ReadConversations).await?;
    let shared = shared.is_some_and(|s| s == "on" || s == "true" || s == "1");
    crate::service::views::save(&st.db, (user.id, user.role), &name, &query, shared)
        .await
        .map(|_| ())
        .map_err(edge::store)
}

/// Deletes a saved view (one's own; a shared one needs an admin).
#[server(endpoint = "views/delete")]
pub async fn delete_view(id: i64) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::ssr::auth;
    let st = auth::state()?;
    let user = auth::require(Permission::ReadConversations).await?;
    crate::service::views::delete(&st.db, (user.id, user.role), id)
        .await
        .map_err(edge::store)
}
