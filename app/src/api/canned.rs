//! Canned responses (saved replies): the list the composer's picker and the responses page
//! show, and keeping them. Everyone who replies keeps their own; admins keep the shared ones.

use crate::model::CannedResponse;
use leptos::prelude::*;

/// The responses the caller sees: the shared ones and their own, by shortcut.
#[server(endpoint = "canned", output = crate::api::codec::JsonText)]
pub async fn list_canned() -> Result<Vec<CannedResponse>, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::Reply).await?;
    crate::service::canned::list(&st.db, u.id)
        .await
        .map_err(errors::store)
}

/// Creates a response (`id` empty) or changes one. `shared` "on" or "true" (the form's
/// checkbox) shares a new response with everyone, which needs an admin; a changed response
/// keeps its scope. Saving a shortcut you already have replaces that response.
#[server(endpoint = "canned/save")]
pub async fn save_canned(
    id: Option<i64>,
    shared: Option<String>,
    shortcut: String,
    title: String,
    body: String,
) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::service::canned::{self, Editor};
    use crate::ssr::auth;
    let st = auth::state()?;
    let u = auth::require(Permission::Reply).await?;
    let shared = matches!(shared.as_deref(), Some("on" | "true" | "1"));
    canned::save(&st.db, Editor::of(&u), id, shared, &shortcut, &title, &body)
        .await
        .map(|_| ())
        .map_err(edge::store)
}

/// Deletes a response the caller may change (their own; a shared one for an admin).
#[server(endpoint = "canned/delete")]
pub async fn delete_canned(id: i64) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::service::canned::{self, Editor};
    use crate::ssr::auth;
    let st = auth::state()?;
    let u = auth::require(Permission::Reply).await?;
    canned::delete(&st.db, Editor::of(&u), id)
        .await
        .map_err(edge::store)
}
