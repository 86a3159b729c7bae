//! Search: one box over messages, notes, customers and identifiers, with filters as words.

use crate::model::SearchPage;
use leptos::prelude::*;

/// One page of results for `q` as typed; `after` is the cursor of the page before. Any text
/// is answered: what was not understood comes back in words, never as an error.
#[server(endpoint = "search", output = crate::api::codec::JsonText)]
pub async fn search(q: String, after: Option<String>) -> Result<SearchPage, ServerFnError> {
    use crate::domain::Permission;
    use crate::service::search::{self, Searcher};
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let user = auth::require(Permission::ReadConversations).await?;
    // Bounded before anything reads it: the parser keeps the first 500 characters.
    let q: String = q.chars().take(20_000).collect();
    let zone = crate::api::zone::request_zone();
    let region = crate::service::identifiers::default_region();
    let who = Searcher {
        user_id: user.id,
        zone: &zone.name,
        region: &region,
    };
    search::search(&st.db, &who, &q, after.as_deref())
        .await
        .map_err(errors::store)
}
