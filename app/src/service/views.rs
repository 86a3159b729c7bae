//! Saved views: named searches, personal or shared (admins share), each with the number of
//! conversations it shows and how many of them are unread; and the unread count of each
//! status tab. Counts stop at `COUNT_CAP` so the sidebar stays cheap whatever the data.

use super::search::{self, Searcher};
use crate::domain::{Role, Status};
use crate::model::{InboxCounts, SavedView, COUNT_CAP};
use crate::store::{conversations, views, Db, Result, StoreError};

/// Longest view name, in characters.
pub const MAX_NAME_CHARS: usize = 60;

fn clean(name: &str, query: &str) -> Result<(String, String)> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(StoreError::Invalid("A view needs a name.".into()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Invalid(format!(
            "A view name has at most {MAX_NAME_CHARS} characters."
        )));
    }
    let query = query.trim().to_string();
    if crate::domain::search::parse(&query).is_empty() {
        return Err(StoreError::Invalid(
            "A view needs a search: words or filters such as status:open label:vip.".into(),
        ));
    }
    if query.chars().count() > crate::domain::search::MAX_QUERY_CHARS {
        return Err(StoreError::Invalid(format!(
            "A view's search has at most {} characters.",
            crate::domain::search::MAX_QUERY_CHARS
        )));
    }
    Ok((name, query))
}

/// Saves a view (`shared` needs an admin). A name the same list already holds replaces
/// that view's search.
pub async fn save(
    db: &Db,
    user: (i64, Role),
    name: &str,
    query: &str,
    shared: bool,
) -> Result<i64> {
    let (name, query) = clean(name, query)?;
    if shared && user.1 != Role::Admin {
        return Err(StoreError::Invalid(
            "Only an admin can share a view with everyone.".into(),
        ));
    }
    let owner = (!shared).then_some(user.0);
    match views::named(db, owner, &name).await? {
        Some(id) => {
            views::update(db, id, &name, &query).await?;
            Ok(id)
        }
        None => views::create(db, owner, &name, &query).await,
    }
}

/// Deletes a view: one's own, or a shared one by an admin. Another user's view is not found.
pub async fn delete(db: &Db, user: (i64, Role), id: i64) -> Result<()> {
    let v = views::get(db, id).await?;
    match v.owner_id {
        Some(owner) if owner != user.0 => return Err(StoreError::NotFound),
        None if user.1 != Role::Admin => {
            return Err(StoreError::Invalid(
                "Only an admin can delete a shared view.".into(),
            ))
        }
        _ => {}
    }
    views::delete(db, id).await
}

/// The status tabs' unread counts and the user's views with theirs.
pub async fn counts(db: &Db, who: &Searcher<'_>, role: Role) -> Result<InboxCounts> {
    let mut out = InboxCounts::default();
    for s in Status::ALL {
        let n = conversations::unread_count(db, who.user_id, s, i64::from(COUNT_CAP) + 1).await?;
        out.unread.push((s, n as u32));
    }
    for v in views::visible(db, who.user_id).await? {
        let page = search::search(db, who, &v.query, None).await?;
        let shown = page.items.len() as u32 + u32::from(page.next.is_some());
        let unread = page.items.iter().filter(|r| r.conversation.unread).count() as u32;
        out.views.push(SavedView {
            id: v.id,
            editable: v.owner_id == Some(who.user_id) || role == Role::Admin,
            shared: v.owner_id.is_none(),
            name: v.name,
            query: v.query,
            count: shown.min(COUNT_CAP + 1),
            unread,
        });
    }
    Ok(out)
}
