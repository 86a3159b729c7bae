//! The three-pane inbox: conversation list, timeline with composer, customer panel.

mod actions;
mod aids;
mod composer;
pub mod consent;
mod conversation;
pub(crate) mod customer;
mod draft;
mod list;
mod timeline;

use super::Authed;
use leptos::prelude::*;
use leptos_meta::Title;
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
    // The tab title: "(3) Rita Alvarez · Convergence"; set by the list and the open conversation.
    let tab = TabTitle::default();
    provide_context(tab);
    // Read with `try_`: leaving the inbox (signing out to the lazy /login route) changes the
    // route's params while this page's signals are being disposed, and the title is computed
    // once more then; a plain `get` would panic and stop the app.
    let title = move || {
        let open = selected.try_get().flatten();
        let unread = tab
            .unread
            .try_with(|u| u.iter().filter(|&&id| Some(id) != open).count())
            .unwrap_or(0);
        let name = open.and(tab.open.try_get().flatten());
        let mut t = String::new();
        if unread > 0 {
            t.push_str(&format!("({unread}) "));
        }
        if let Some(n) = name {
            t.push_str(&n);
            t.push_str(" · ");
        } else {
            t.push_str("Inbox · ");
        }
        t.push_str("Convergence");
        t
    };
    view! {
        <Title text=title/>
        // On a phone the list and the conversation are separate views (style/main.css).
        <main class="inbox" id="main" class:has-conversation=move || selected.get().is_some()>
            <list::ConversationList selected/>
            {move || match selected.get() {
                Some(id) => view! { <conversation::ConversationView id/> }.into_any(),
                None => {
                    view! {
                        <section class="conversation-empty" aria-labelledby="inbox-heading">
                            <h1 id="inbox-heading" class="visually-hidden">"Inbox"</h1>
                            <p>"Choose a conversation on the left."</p>
                        </section>
                    }
                        .into_any()
                }
            }}
        </main>
    }
}

/// What the tab title shows: unread conversations in the list, the open conversation's customer.
#[derive(Clone, Copy, Default)]
pub(crate) struct TabTitle {
    /// The unread conversations of the list page shown (the open one is read by opening it).
    pub unread: RwSignal<Vec<i64>>,
    pub open: RwSignal<Option<String>>,
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
