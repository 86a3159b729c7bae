use super::filter_query;
use crate::api::inbox::list_conversations;
use crate::domain::Direction;
use crate::domain::{ChannelKind, Status};
use crate::model::AssigneeFilter;
use crate::model::ConversationSummary;
use crate::ui::live::Live;
use crate::ui::widgets::{ChannelIcon, Time};
use crate::ui::{err_text, CurrentUser};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Who wrote the preview, before it: "You: " for the signed-in agent's own message, another
/// agent by name, and an unverified sender (who joined by quoting one of our emails) by
/// address, so their words are never shown as the customer's.
pub fn preview_writer(conv: &ConversationSummary, me: i64) -> Option<String> {
    match conv.last_direction? {
        Direction::Out => match (conv.last_author_id, &conv.last_author_name) {
            (Some(a), _) if a == me => Some("You: ".into()),
            (Some(_), Some(name)) => Some(format!("{name}: ")),
            _ => None,
        },
        Direction::In => conv
            .last_unverified_sender
            .as_ref()
            .map(|s| format!("{s} (unverified): ")),
    }
}

#[component]
pub fn ConversationList(selected: Memo<Option<i64>>) -> impl IntoView {
    let query = use_query_map();
    let live = expect_context::<Live>();
    let tab = use_context::<super::TabTitle>();
    let me = use_context::<CurrentUser>().map(|u| u.0.id).unwrap_or(0);
    let filters = Memo::new(move |_| {
        let q = query.read();
        (
            q.get("status")
                .filter(|s| Status::parse(s).is_some())
                .unwrap_or_else(|| "open".into()),
            q.get("assignee")
                .filter(|s| AssigneeFilter::parse(s).is_some())
                .unwrap_or_else(|| "all".into()),
            q.get("channel")
                .filter(|s| ChannelKind::parse(s).is_some())
                .unwrap_or_default(),
            q.get("after"),
        )
    });
    let page = Resource::new(
        move || (filters.get(), live.tick.get()),
        |((status, assignee, channel, after), _)| {
            list_conversations(status, assignee, channel, after)
        },
    );

    let status_tabs = move || {
        let (s, a, c, _) = filters.get();
        Status::ALL
            .into_iter()
            .map(|st| {
                let href = format!("/inbox{}", filter_query(st.as_str(), &a, &c));
                let current = s == st.as_str();
                view! { <a href=href class:active=current aria-current=current.then_some("page")>{st.label()}</a> }
            })
            .collect_view()
    };
    let assignee_tabs = move || {
        let (s, a, c, _) = filters.get();
        [("mine", "Mine"), ("unassigned", "Unassigned"), ("all", "All")]
            .into_iter()
            .map(|(key, label)| {
                let href = format!("/inbox{}", filter_query(&s, key, &c));
                let current = a == key;
                view! { <a href=href class:active=current aria-current=current.then_some("page")>{label}</a> }
            })
            .collect_view()
    };
    let channel_tabs = move || {
        let (s, a, c, _) = filters.get();
        let all = view! {
            <a href=format!("/inbox{}", filter_query(&s, &a, "")) class:active=c.is_empty()>"All channels"</a>
        };
        let each = ChannelKind::ALL
            .into_iter()
            .map(|ch| {
                let current = c == ch.as_str();
                view! {
                    <a href=format!("/inbox{}", filter_query(&s, &a, ch.as_str())) class:active=current>
                        {ch.label()}
                    </a>
                }
            })
            .collect_view();
        (all, each)
    };

    view! {
        <section class="list-pane" aria-labelledby="list-heading">
            <h2 id="list-heading" class="visually-hidden">"Conversations"</h2>
            <nav aria-label="Status" class="tabs">{status_tabs}</nav>
            <nav aria-label="Assignee" class="chips">{assignee_tabs}</nav>
            <nav aria-label="Channel filter" class="chips small">{channel_tabs}</nav>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <nav aria-label="Conversations" class="conversations">
                    {move || {
                        let tab = tab.clone();
                        Suspend::new(async move {
                            let (s, a, c, _) = filters.get_untracked();
                            let page = page.await;
                            if let (Some(t), Ok(p)) = (&tab, &page) {
                                t.unread.set(p.items.iter().filter(|c| c.unread).map(|c| c.id).collect());
                            }
                            match page {
                                Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                                Ok(p) if p.items.is_empty() => {
                                    view! { <p class="empty-list">"No conversations here."</p> }.into_any()
                                }
                                Ok(p) => {
                                    let q = filter_query(&s, &a, &c);
                                    let next = p.next.clone().map(|n| format!("/inbox{q}&after={n}"));
                                    let items = p
                                        .items
                                        .into_iter()
                                        .map(|conv| {
                                            let id = conv.id;
                                            let href = format!("/inbox/{id}{q}");
                                            let is_selected = move || selected.get() == Some(id);
                                            let unread = conv.unread;
                                            let writer = preview_writer(&conv, me);
                                            let unverified = conv.last_unverified_sender.is_some();
                                            view! {
                                                <a
                                                    href=href
                                                    class="conversation"
                                                    class:unread=move || unread && !is_selected()
                                                    class:selected=is_selected
                                                    data-channel=conv.last_channel.map(|c| c.as_str())
                                                >
                                                    <span class="line1">
                                                        {conv.last_channel.map(|ch| view! { <ChannelIcon channel=ch/> })}
                                                        <span class="customer">{conv.customer_name}</span>
                                                        <Time ms=conv.last_activity_at/>
                                                    </span>
                                                    <span class="preview" class:unverified=unverified>
                                                        {writer.map(|w| view! { <span class="writer">{w}</span> })}
                                                        {conv.preview}
                                                    </span>
                                                    {conv.assignee_name.map(|n| view! { <span class="assignee">{n}</span> })}
                                                </a>
                                            }
                                        })
                                        .collect_view();
                                    view! {
                                        {items}
                                        {next.map(|href| view! { <a class="more" href=href>"Older conversations"</a> })}
                                    }
                                        .into_any()
                                }
                            }
                        })
                    }}
                </nav>
            </Transition>
        </section>
    }
}
