use crate::model::{ConversationPage, UserView};
use leptos::prelude::*;

/// One page of the conversation list. `status`, `assignee` and `channel` are the URL forms
/// (`open`, `mine`, `sms`); unknown values fall back to the defaults.
#[server(endpoint = "conversations/list")]
pub async fn list_conversations(
    status: String,
    assignee: String,
    channel: String,
    after: Option<String>,
) -> Result<ConversationPage, ServerFnError> {
    use crate::domain::{cursor::ListCursor, ChannelKind, Permission, Status};
    use crate::model::{AssigneeFilter, ListFilter};
    use crate::ssr::{auth, errors};
    use crate::store::conversations;

    let user = auth::require(Permission::ReadConversations).await?;
    let st = auth::state()?;
    let filter = ListFilter {
        status: Status::parse(&status).unwrap_or(Status::Open),
        assignee: AssigneeFilter::parse(&assignee).unwrap_or(AssigneeFilter::All),
        channel: ChannelKind::parse(&channel),
    };
    let after = match after.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(ListCursor::decode(s).ok_or_else(|| errors::bad_request("bad cursor"))?),
        None => None,
    };
    conversations::list(&st.db, user.id, &filter, after, conversations::LIST_PAGE)
        .await
        .map_err(errors::store)
}

/// Staff who can be assigned conversations.
#[server(endpoint = "agents")]
pub async fn list_agents() -> Result<Vec<UserView>, ServerFnError> {
    use crate::domain::{Permission, Role};
    use crate::ssr::{auth, errors};
    auth::require(Permission::ReadConversations).await?;
    let st = auth::state()?;
    Ok(crate::store::users::list(&st.db)
        .await
        .map_err(errors::store)?
        .into_iter()
        .filter(|(u, disabled)| !disabled && u.role != Role::Marketing)
        .map(|(u, _)| u)
        .collect())
}
