//! The three-pane inbox: conversation list, timeline with composer, customer panel.

mod actions;
mod composer;
pub mod consent;
mod conversation;
mod customer;
mod list;
mod timeline;

use super::Authed;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn InboxPage() -> impl IntoView {
    view! {
        <Authed>
            <Inbox/>
        </Authed>
    }
}

#[component]
fn Inbox() -> impl IntoView {
    let params = use_params_map();
    let selected = Memo::new(move |_| params.read().get("id").and_then(|s| s.parse::<i64>().ok()));
    view! {
        <div class="inbox">
            <list::ConversationList selected/>
            {move || match selected.get() {
                Some(id) => view! { <conversation::ConversationView id/> }.into_any(),
                None => {
                    view! {
                        <section class="conversation-empty">
                            <p>"Choose a conversation on the left."</p>
                        </section>
                        <aside class="customer-pane" aria-label="Customer"></aside>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// The list filters of the current URL, to keep them when moving around.
pub(crate) fn filter_query(status: &str, assignee: &str, channel: &str) -> String {
    let mut q = format!("?status={status}&assignee={assignee}");
    if !channel.is_empty() {
        q.push_str("&channel=");
        q.push_str(channel);
    }
    q
}
