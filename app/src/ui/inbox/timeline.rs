use crate::api::conversation::get_timeline;
use crate::domain::Direction;
use crate::model::TimelineItem;
use crate::ui::err_text;
use crate::ui::widgets::{ChannelBadge, Delivery, Time};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The merged, paged timeline. The newest page re-fetches on `version`; older pages are
/// loaded on scroll (or through the "Load older" link without JavaScript).
#[component]
pub fn Timeline(id: i64, version: Signal<usize>) -> impl IntoView {
    let query = use_query_map();
    let before = Memo::new(move |_| query.read().get("before"));
    let latest = Resource::new(
        move || (id, before.get(), version.get()),
        |(id, b, _)| get_timeline(id, b),
    );
    let older = RwSignal::new(Vec::<TimelineItem>::new());
    // Cursor of the oldest page shown: set from the latest page when it renders, then from
    // each older page loaded. Read only in event handlers, so it is a plain stored value.
    let cursor = StoredValue::new(None::<String>);
    // Bumped when `cursor` changes, so the "Load older" link re-renders.
    let cursor_version = RwSignal::new(0usize);
    let loading = RwSignal::new(false);
    let scroller = NodeRef::<leptos::html::Section>::new();

    let load_older = move || {
        if loading.get_untracked() {
            return;
        }
        let Some(c) = cursor.get_value() else { return };
        loading.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(p) = get_timeline(id, Some(c)).await {
                older.update(|o| {
                    let mut items = p.items;
                    items.append(o);
                    *o = items;
                });
                cursor.set_value(p.older);
                cursor_version.update(|v| *v += 1);
            }
            loading.set(false);
        });
    };

    view! {
        <section
            class="timeline"
            aria-label="Timeline"
            node_ref=scroller
            on:scroll=move |_| {
                if let Some(el) = scroller.get_untracked() {
                    if el.scroll_top() < 40 {
                        load_older();
                    }
                }
            }
        >
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match latest.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(p) => {
                            if older.with_untracked(|o| o.is_empty()) {
                                cursor.set_value(p.older.clone());
                            }
                            scroll_to_end(scroller);
                            let shown: std::collections::HashSet<_> =
                                older.with_untracked(|o| o.iter().map(|i| i.key()).collect());
                            let newest = p
                                .items
                                .into_iter()
                                .filter(|i| !shown.contains(&i.key()))
                                .map(item_view)
                                .collect_view();
                            view! {
                                {move || {
                                    cursor_version.track();
                                    cursor
                                        .get_value()
                                        .map(|c| {
                                            view! {
                                                <a
                                                    class="load-older"
                                                    href=format!("/inbox/{id}?before={c}")
                                                    on:click=move |ev| {
                                                        ev.prevent_default();
                                                        load_older();
                                                    }
                                                >
                                                    {move || if loading.get() { "Loading…" } else { "Load older messages" }}
                                                </a>
                                            }
                                        })
                                }}
                                {move || older.get().into_iter().map(item_view).collect_view()}
                                {newest}
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// Scrolls the timeline to its newest item after the browser has laid it out.
fn scroll_to_end(scroller: NodeRef<leptos::html::Section>) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = scroller;
}

fn item_view(item: TimelineItem) -> AnyView {
    match item {
        TimelineItem::Message(m) => {
            let out = m.direction == Direction::Out;
            let who = if out {
                m.author_name.clone().unwrap_or_else(|| "Automatic".into())
            } else {
                m.identifier.clone().unwrap_or_default()
            };
            let to = out.then(|| m.identifier.clone()).flatten();
            view! {
                <article
                    class=if out { "message out" } else { "message in" }
                    data-direction=m.direction.as_str()
                    data-channel=m.channel.as_str()
                    data-id=m.id
                >
                    <header>
                        <ChannelBadge channel=m.channel/>
                        <span class="who">{who}</span>
                        {to.map(|t| view! { <span class="to">"to " {t}</span> })}
                        <Time ms=m.created_at/>
                        {out.then(|| view! { <Delivery state=m.delivery_state reason=m.failure_reason.clone()/> })}
                    </header>
                    {m.subject.map(|s| view! { <p class="subject">{s}</p> })}
                    <div class="body">{m.body_text}</div>
                </article>
            }
            .into_any()
        }
        TimelineItem::Event(e) if e.kind == "note" => view! {
            <article class="note" data-id=e.id>
                <header>
                    <span class="note-label">"Private note"</span>
                    <span class="who">{e.actor_name.unwrap_or_default()}</span>
                    <Time ms=e.created_at/>
                </header>
                <div class="body">{e.body.unwrap_or_default()}</div>
            </article>
        }
        .into_any(),
        TimelineItem::Event(e) => view! {
            <div class="event" data-kind=e.kind>
                <span>{e.summary}</span>
                " · "
                <Time ms=e.created_at/>
            </div>
        }
        .into_any(),
    }
}
