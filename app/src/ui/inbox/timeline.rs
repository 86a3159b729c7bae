use super::timeline_items::{timeline_items, ItemsInput};
use crate::api::conversation::get_timeline;
use crate::model::TimelineItem;
use crate::ui::err_text;
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

    let load_older = Callback::new(move |()| {
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
    });

    // Opening a conversation moves the keyboard focus to it (its timeline, which scrolls).
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = scroller.get() {
            let _ = el.focus();
        }
    });

    view! {
        // Focusable: the keyboard scrolls it (WCAG 2.1.1).
        <section
            class="timeline"
            aria-label="Timeline"
            tabindex="0"
            node_ref=scroller
            on:scroll=move |_| {
                if let Some(el) = scroller.get_untracked() {
                    if el.scroll_top() < 40 {
                        load_older.run(());
                    }
                }
            }
        >
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match latest.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(page) => timeline_items(ItemsInput {
                            id,
                            page,
                            older,
                            cursor,
                            cursor_version,
                            loading,
                            scroller,
                            load_older,
                        })
                        .await,
                    }
                })}
            </Transition>
        </section>
    }
}
