//! The three-pane inbox: conversation list, timeline with composer, customer panel.

mod actions;
mod aids;
mod canned_picker;
mod composer;
pub mod consent;
mod conversation;
pub(crate) mod customer;
mod draft;
mod keys;
mod labels;
mod list;
pub(crate) mod parts;
mod presence;
mod search;
mod timeline;
pub(crate) mod timeline_items;
mod views;

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
    provide_context(tab.clone());
    let title = move || tab.text();
    view! {
        <Title text=title/>
        // On a phone the list and the conversation are separate views (style/main.css).
        <keys::Shortcuts/>
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

/// What the tab title shows: unread conversations in the list, the open conversation.
///
/// Arc-backed signals, read by the title without any arena-allocated signal or memo: the
/// server reads the title once more after the page has rendered, outside the reactive arena,
/// where reading an arena signal panics (under load that dropped about one page load in 500).
/// The same holds in the browser while the page's signals are being disposed.
#[derive(Clone)]
pub(crate) struct TabTitle {
    /// The unread conversations of the list page shown (the open one is read by opening it).
    pub unread: ArcRwSignal<Vec<i64>>,
    /// The open conversation: its id and its customer's name.
    pub open: ArcRwSignal<Option<(i64, String)>>,
}

impl Default for TabTitle {
    fn default() -> Self {
        TabTitle {
            unread: ArcRwSignal::new(Vec::new()),
            open: ArcRwSignal::new(None),
        }
    }
}

impl TabTitle {
    /// The title for what the signals hold now.
    pub fn text(&self) -> String {
        let open = self.open.try_get().flatten();
        let open_id = open.as_ref().map(|(id, _)| *id);
        let unread = self
            .unread
            .try_with(|u| u.iter().filter(|&&id| Some(id) != open_id).count())
            .unwrap_or(0);
        title_text(unread, open.as_ref().map(|(_, name)| name.as_str()))
    }

    /// Forgets conversation `id` if it is the open one (a newer one may already be open).
    pub fn close(&self, id: i64) {
        self.open.try_update(|o| {
            if o.as_ref().is_some_and(|(open, _)| *open == id) {
                *o = None;
            }
        });
    }
}

/// "(3) Rita Alvarez · Convergence", "Inbox · Convergence".
pub(crate) fn title_text(unread: usize, name: Option<&str>) -> String {
    let mut t = String::new();
    if unread > 0 {
        t.push_str(&format!("({unread}) "));
    }
    t.push_str(name.unwrap_or("Inbox"));
    t.push_str(" · Convergence");
    t
}

/// The list filters of the current URL, to keep them when moving around.
pub(crate) fn filter_query(status: &str, assignee: &str, channel: &str, label: &str) -> String {
    let mut q = format!("?status={status}&assignee={assignee}");
    if !channel.is_empty() {
        q.push_str("&channel=");
        q.push_str(channel);
    }
    if !label.is_empty() {
        q.push_str("&label=");
        q.push_str(label);
    }
    q
}

/// Whether row `id` of a list or of search results shows as unread: what the server said,
/// until the row is opened while the list stands (the server marks it read then), and still
/// after the agent leaves it.
pub(crate) fn unread_until_opened(
    unread: bool,
    selected: Memo<Option<i64>>,
    id: i64,
) -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let opened = Memo::new(move |was: Option<&bool>| {
        was.copied().unwrap_or(false) || selected.get() == Some(id)
    });
    move || unread && !opened.get()
}

/// The list's part of the current URL: the search when there is one, else the filters.
pub(crate) fn list_query(q: &leptos_router::params::ParamsMap) -> String {
    let get = |k: &str, d: &str| q.get(k).unwrap_or_else(|| d.to_string());
    match q.get("q").filter(|s| !s.trim().is_empty()) {
        Some(search) => format!("?q={}", crate::domain::text::url_encode(&search)),
        None => filter_query(
            &get("status", "open"),
            &get("assignee", "all"),
            &get("channel", ""),
            &get("label", ""),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_counts_unread_other_than_the_open_conversation() {
        assert_eq!(title_text(0, None), "Inbox · Convergence");
        assert_eq!(
            title_text(3, Some("Rita Alvarez")),
            "(3) Rita Alvarez · Convergence"
        );
        let tab = TabTitle::default();
        tab.unread.set(vec![1, 2, 3]);
        tab.open.set(Some((2, "Rita".into())));
        assert_eq!(tab.text(), "(2) Rita · Convergence");
        tab.close(5);
        assert_eq!(
            tab.text(),
            "(2) Rita · Convergence",
            "another conversation's cleanup"
        );
        tab.close(2);
        assert_eq!(tab.text(), "(3) Inbox · Convergence");
    }
}
