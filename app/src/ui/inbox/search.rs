//! The search box above the list, and the results it shows in the list's place. A plain GET
//! form: it works before (and without) JavaScript; `/` focuses it.

use crate::api::search::search;
use crate::domain::text::url_encode;
use crate::domain::Direction;
use crate::model::{Matched, SearchResult};
use crate::ui::err_text;
use crate::ui::widgets::{ChannelIcon, Time};
use leptos::prelude::*;
use leptos_router::components::Form;

/// The search form. `q` is what the URL holds.
#[component]
pub fn SearchBox(q: Signal<String>) -> impl IntoView {
    view! {
        // The router's form: a client-side navigation once hydrated, a plain GET before.
        // Leptos adds the unnamed submit button to the query as "&=": left out.
        <Form
            action="/inbox"
            method="get"
            on_form_data=std::sync::Arc::new(|data: &web_sys::FormData| data.delete(""))
            attr:class="search"
            attr:role="search"
        >
            <label for="search-box" class="visually-hidden">"Search conversations"</label>
            <input
                id="search-box"
                type="search"
                name="q"
                maxlength="2000"
                autocomplete="off"
                placeholder="Search  (press /)"
                prop:value=move || q.get()
                aria-describedby="search-help"
            />
            <button type="submit">"Search"</button>
            <details class="search-help">
                <summary id="search-help">"Search words and filters"</summary>
                <p>
                    "Words, \"exact phrases\", -leave-out, a OR b; a name, an email address or a phone number; "
                    <code>"channel:sms"</code>" "<code>"status:open"</code>" "<code>"assignee:me"</code>" "
                    <code>"label:vip"</code>" "<code>"from:customer"</code>" "<code>"is:note"</code>" "
                    <code>"after:2026-01-31"</code>" "<code>"before:2026-02-01"</code>" "<code>"has:attachment"</code>
                </p>
                <p>"Press ? anywhere in the inbox for keyboard shortcuts, Ctrl+K (⌘K) for the command palette."</p>
            </details>
        </Form>
    }
}

/// The results of the URL's search, in the list's place.
#[component]
pub fn SearchResults(
    q: Signal<String>,
    after: Signal<Option<String>>,
    selected: Memo<Option<i64>>,
) -> impl IntoView {
    let live = expect_context::<crate::ui::live::Live>();
    let page = Resource::new(
        move || (q.get(), after.get(), live.tick.get()),
        |(q, after, _)| search(q, after),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Searching…"</p> }>
            {move || Suspend::new(async move {
                let q_now = q.get_untracked();
                match page.await {
                    Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                    Ok(p) => {
                        let enc = url_encode(&q_now);
                        let summary = if p.items.is_empty() {
                            "No conversations match.".to_string()
                        } else if p.next.is_some() {
                            format!("The newest {} conversations that match:", p.items.len())
                        } else {
                            format!(
                                "{} conversation{} match{}:",
                                p.items.len(),
                                if p.items.len() == 1 { "" } else { "s" },
                                if p.items.len() == 1 { "es" } else { "" }
                            )
                        };
                        let next = p.next.clone().map(|n| format!("/inbox?q={enc}&after={}", url_encode(&n)));
                        let items = p
                            .items
                            .into_iter()
                            .map(|r| view! { <ResultRow r q=enc.clone() selected/> })
                            .collect_view();
                        view! {
                            <div class="search-state" aria-live="polite">
                                {(!p.filters.is_empty()).then(|| view! {
                                    <p class="search-filters">"Filters: "
                                        {p.filters.into_iter().map(|f| view! { <span class="chip">{f}</span> }).collect_view()}
                                    </p>
                                })}
                                {(!p.ignored.is_empty()).then(|| view! {
                                    <p class="search-ignored">"Ignored (not a filter this search knows): "
                                        {p.ignored.into_iter().map(|f| view! { <code>{f}</code>" " }).collect_view()}
                                    </p>
                                })}
                                {p.notices.into_iter().map(|n| view! { <p class="notice">{n}</p> }).collect_view()}
                                <p class="search-count">{summary}" "<a href="/inbox">"Clear search"</a></p>
                                <super::views::SaveViewForm q=q_now.clone()/>
                            </div>
                            <nav aria-label="Search results" class="conversations results">
                                {items}
                                {next.map(|href| view! { <a class="more" href=href>"Older results"</a> })}
                            </nav>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn ResultRow(r: SearchResult, q: String, selected: Memo<Option<i64>>) -> impl IntoView {
    let id = r.conversation.id;
    let href = format!("/inbox/{id}?q={q}");
    let is_selected = move || selected.get() == Some(id);
    let unread = super::unread_until_opened(r.conversation.unread, selected, id);
    let (what, channel) = match &r.matched {
        Matched::Message { channel, direction } => (
            match direction {
                Direction::In => "From the customer",
                Direction::Out => "From an agent",
            },
            *channel,
        ),
        Matched::Note => ("Private note", None),
        Matched::Customer => ("Customer", None),
        Matched::Filters => ("Last message", r.conversation.last_channel),
    };
    let snippet = r
        .snippet
        .into_iter()
        .map(|(text, on)| {
            if on {
                view! { <mark>{text}</mark> }.into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view();
    let labels = r
        .conversation
        .labels
        .into_iter()
        .map(|l| view! { <span class="label-chip" data-colour=l.colour>{l.name}</span> })
        .collect_view();
    view! {
        <a href=href class="conversation result" class:selected=is_selected class:unread=unread>
            <span class="line1">
                {channel.map(|ch| view! { <ChannelIcon channel=ch/> })}
                <span class="customer">{r.conversation.customer_name}</span>
                <Time ms=r.at/>
            </span>
            <span class="matched">{what}</span>
            <span class="snippet">{snippet}</span>
            <span class="labels">{labels}</span>
        </a>
    }
}
