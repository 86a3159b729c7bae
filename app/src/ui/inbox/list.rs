use super::filter_query;
use super::search::{SearchBox, SearchResults};
use crate::api::inbox::list_conversations;
use crate::api::labels::list_labels;
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
            q.get("label")
                .filter(|s| s.parse::<i64>().is_ok())
                .unwrap_or_default(),
            q.get("after"),
        )
    });
    let search_q = Signal::derive(move || query.read().get("q").unwrap_or_default());
    let searching = Memo::new(move |_| !search_q.get().trim().is_empty());
    let search_after = Signal::derive(move || query.read().get("after"));
    let page = Resource::new(
        move || (filters.get(), live.tick.get(), searching.get()),
        |((status, assignee, channel, label, after), _, searching)| async move {
            if searching {
                // The results take the list's place; the list is not read meanwhile.
                return Ok(crate::model::ConversationPage {
                    items: Vec::new(),
                    next: None,
                });
            }
            list_conversations(status, assignee, channel, label.parse().ok(), after).await
        },
    );
    let labels = Resource::new(|| (), |_| list_labels());
    let can_label = use_context::<CurrentUser>()
        .is_some_and(|u| u.can(crate::domain::Permission::LabelConversations));
    let bulk = ServerAction::<crate::api::labels::LabelMany>::new();
    let views = super::views::ViewsCtx::provide();

    let status_tabs = move || {
        let (s, a, c, l, _) = filters.get();
        Status::ALL
            .into_iter()
            .map(|st| {
                let href = format!("/inbox{}", filter_query(st.as_str(), &a, &c, &l));
                let current = s == st.as_str();
                let unread = move || {
                    views
                        .counts
                        .get()
                        .and_then(|r| r.ok())
                        .and_then(|c| super::views::unread_of(&c, st))
                        .map(|n| {
                            // Out of the link's name ("Open"); said as its description.
                            let text = super::views::count_text(n);
                            let title = format!("{text} unread");
                            view! {
                                <span class="count" aria-hidden="true" title=title>
                                    {text}
                                </span>
                            }
                        })
                };
                view! {
                    <a href=href class:active=current aria-current=current.then_some("page")>
                        {st.label()}
                        <Transition fallback=|| ()>{unread}</Transition>
                    </a>
                }
            })
            .collect_view()
    };
    let assignee_tabs = move || {
        let (s, a, c, l, _) = filters.get();
        [("mine", "Mine"), ("unassigned", "Unassigned"), ("all", "All")]
            .into_iter()
            .map(|(key, label)| {
                let href = format!("/inbox{}", filter_query(&s, key, &c, &l));
                let current = a == key;
                view! { <a href=href class:active=current aria-current=current.then_some("page")>{label}</a> }
            })
            .collect_view()
    };
    let channel_tabs = move || {
        let (s, a, c, l, _) = filters.get();
        let all = view! {
            <a href=format!("/inbox{}", filter_query(&s, &a, "", &l)) class:active=c.is_empty()>"All channels"</a>
        };
        let each = ChannelKind::ALL
            .into_iter()
            .map(|ch| {
                let current = c == ch.as_str();
                view! {
                    <a href=format!("/inbox{}", filter_query(&s, &a, ch.as_str(), &l)) class:active=current>
                        {ch.label()}
                    </a>
                }
            })
            .collect_view();
        (all, each)
    };
    let label_tabs = move || {
        let (s, a, c, l, _) = filters.get();
        Suspend::new(async move {
            let list = labels.await.unwrap_or_default();
            if list.is_empty() {
                return ().into_any();
            }
            let all = view! {
                <a href=format!("/inbox{}", filter_query(&s, &a, &c, "")) class:active=l.is_empty()>"All labels"</a>
            };
            let each = list
                .into_iter()
                .map(|label| {
                    let id = label.id.to_string();
                    let current = l == id;
                    view! {
                        <a
                            href=format!("/inbox{}", filter_query(&s, &a, &c, &id))
                            class:active=current
                            aria-current=current.then_some("page")
                            class="label-link"
                            data-colour=label.colour
                        >
                            {label.name}
                        </a>
                    }
                })
                .collect_view();
            view! { <nav aria-label="Label filter" class="chips small">{all}{each}</nav> }
                .into_any()
        })
    };

    view! {
        <section class="list-pane" aria-labelledby="list-heading">
            <h2 id="list-heading" class="visually-hidden">"Conversations"</h2>
            <SearchBox q=search_q/>
            <super::views::ViewsNav current=search_q/>
            <Show when=move || searching.get()>
                <SearchResults q=search_q after=search_after selected/>
            </Show>
            <div class="list-body" hidden=move || searching.get()>
            <nav aria-label="Status" class="tabs">{status_tabs}</nav>
            <nav aria-label="Assignee" class="chips">{assignee_tabs}</nav>
            <nav aria-label="Channel filter" class="chips small">{channel_tabs}</nav>
            <Transition fallback=|| ()>{label_tabs}</Transition>
            {can_label.then(|| view! { <BulkLabels labels action=bulk/> })}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <nav aria-label="Conversations" class="conversations">
                    {move || {
                        let tab = tab.clone();
                        Suspend::new(async move {
                            let (s, a, c, l, _) = filters.get_untracked();
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
                                    let q = filter_query(&s, &a, &c, &l);
                                    let next = p.next.clone().map(|n| format!("/inbox{q}&after={n}"));
                                    let items = p
                                        .items
                                        .into_iter()
                                        .map(|conv| {
                                            let id = conv.id;
                                            let href = format!("/inbox/{id}{q}");
                                            let is_selected = move || selected.get() == Some(id);
                                            let unread = super::unread_until_opened(conv.unread, selected, id);
                                            let writer = preview_writer(&conv, me);
                                            let unverified = conv.last_unverified_sender.is_some();
                                            let pick = format!("Select {}", conv.customer_name);
                                            view! {
                                                <div class="row-wrap">
                                                {can_label.then(|| view! {
                                                    <input type="checkbox" class="select" form="bulk-labels" name=format!("ids[{id}]") value="on" aria-label=pick/>
                                                })}
                                                <a
                                                    href=href
                                                    class="conversation"
                                                    class:unread=unread
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
                                                    {(!conv.labels.is_empty()).then(|| view! {
                                                        <span class="labels">
                                                            {conv.labels.into_iter().map(|l| view! {
                                                                <span class="label-chip" data-colour=l.colour>{l.name}</span>
                                                            }).collect_view()}
                                                        </span>
                                                    })}
                                                </a>
                                                </div>
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
            </div>
        </section>
    }
}

/// Labels for the conversations ticked in the list (shown once one is ticked; the
/// checkboxes belong to this form by their `form` attribute).
#[component]
fn BulkLabels(
    labels: Resource<Result<Vec<crate::model::Label>, ServerFnError>>,
    action: ServerAction<crate::api::labels::LabelMany>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = labels.await.unwrap_or_default();
                if list.is_empty() {
                    return ().into_any();
                }
                view! {
                    <ActionForm action attr:id="bulk-labels" attr:class="bulk" attr:aria-label="Label the selected conversations">
                        <label for="bulk-op" class="visually-hidden">"Add or remove"</label>
                        <select id="bulk-op" name="op">
                            <option value="add">"Add label"</option>
                            <option value="remove">"Remove label"</option>
                        </select>
                        <label for="bulk-label" class="visually-hidden">"Label"</label>
                        <select id="bulk-label" name="label_id">
                            {list.into_iter().map(|l| view! { <option value=l.id>{l.name}</option> }).collect_view()}
                        </select>
                        <button type="submit">"Apply to selected"</button>
                    </ActionForm>
                }
                .into_any()
            })}
        </Transition>
        {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
    }
}
