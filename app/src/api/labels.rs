//! Labels: the list (everyone who reads conversations), putting them on conversations and
//! taking them off, and keeping the list (admins).

use crate::model::Label;
use leptos::prelude::*;

/// Every label, by name.
#[server(endpoint = "labels", output = crate::api::codec::JsonText)]
pub async fn list_labels() -> Result<Vec<Label>, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ReadConversations).await?;
    crate::store::labels::all(&st.db)
        .await
        .map_err(errors::store)
}

/// Puts label `label_id` on conversation `id` (`on` "true") or takes it off.
#[server(endpoint = "conversation/label")]
pub async fn set_label(id: i64, label_id: i64, on: bool) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::LabelConversations).await?;
    let changed = crate::service::labels::set(&st.db, id, label_id, on, u.id)
        .await
        .map_err(errors::store)?;
    if changed {
        st.hub.conversation_changed(id).await;
    }
    Ok(())
}

/// Adds (`op` "add") or removes label `label_id` on the conversations ticked in the list
/// (`ids[<conversation id>]=on`, at most 200), each with its timeline event.
#[server(endpoint = "conversations/label")]
pub async fn label_many(
    ids: Option<std::collections::BTreeMap<String, String>>,
    label_id: i64,
    op: String,
) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::ssr::auth;
    let st = auth::state()?;
    let u = auth::require(Permission::LabelConversations).await?;
    let on = match op.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(edge::refuse("Choose to add or to remove the label.")),
    };
    let ids: Vec<i64> = ids
        .unwrap_or_default()
        .keys()
        .filter_map(|k| k.parse().ok())
        .collect();
    if ids.is_empty() {
        return Err(edge::refuse("Tick the conversations to label first."));
    }
    if ids.len() > 200 {
        return Err(edge::refuse("Label at most 200 conversations at once."));
    }
    for id in ids {
        let changed = crate::service::labels::set(&st.db, id, label_id, on, u.id)
            .await
            .map_err(edge::store)?;
        if changed {
            st.hub.conversation_changed(id).await;
        }
    }
    Ok(())
}

/// Creates a label (`id` empty) or renames and recolours one.
#[server(endpoint = "admin/labels/save")]
pub async fn save_label(
    id: Option<i64>,
    name: String,
    colour: String,
) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::service::labels;
    use crate::ssr::auth;
    let st = auth::state()?;
    auth::require(Permission::ManageLabels).await?;
    match id {
        Some(id) => labels::update(&st.db, id, &name, &colour).await,
        None => labels::create(&st.db, &name, &colour).await.map(|_| ()),
    }
    .map_err(edge::store)
}

/// Deletes a label, taking it off every conversation.
#[server(endpoint = "admin/labels/delete")]
pub async fn delete_label(id: i64) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::ssr::auth;
    let st = auth::state()?;
    auth::require(Permission::ManageLabels).await?;
    crate::service::labels::delete(&st.db, id)
        .await
        .map_err(edge::store)
}
