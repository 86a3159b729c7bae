use crate::model::ConversationPage;
use leptos::prelude::*;

/// One page of the conversation list. `status`, `assignee` and `channel` are the URL forms
/// (`open`, `mine`, `sms`); unknown values fall back to the defaults.
#[server(endpoint = "conversations/list", output = crate::api::codec::JsonText)]
pub async fn list_conversations(
    status: String,
    assignee: String,
    channel: String,
    label: Option<i64>,
    after: Option<String>,
) -> Result<ConversationPage, ServerFnError> {
    use crate::domain::{cursor::ListCursor, ChannelKind, Permission, Status};
    use crate::model::{AssigneeFilter, ListFilter};
    use crate::ssr::{auth, errors};
    use crate::store::conversations;

    let st = auth::state()?;

    let user = auth::require(Permission::ReadConversations).await?;
    let filter = ListFilter {
        status: Status::parse(&status).unwrap_or(Status::Open),
        assignee: AssigneeFilter::parse(&assignee).unwrap_or(AssigneeFilter::All),
        channel: ChannelKind::parse(&channel),
        label,
    };
    let after = match after.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(ListCursor::decode(s).ok_or_else(|| errors::bad_request("bad cursor"))?),
        None => None,
    };
    let mut page = conversations::list(&st.db, user.id, &filter, after, conversations::LIST_PAGE)
        .await
        .map_err(errors::store)?;
    crate::service::labels::fill(&st.db, &mut page.items)
        .await
        .map_err(errors::store)?;
    Ok(page)
}
