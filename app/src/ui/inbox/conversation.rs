use super::draft::Draft;
use super::parts::{conversation_parts, PartsInput, PartsSlot};
use super::timeline::Timeline;
use crate::api::conversation::{get_conversation, mark_read};
use crate::ui::err_text;
use crate::ui::live::Live;
use leptos::prelude::*;

/// The middle and right panes for one conversation: header, timeline, composers, customer.
///
/// Each resource is awaited in exactly one Suspense boundary: Leptos 0.8 can stall an SSR
/// response when one resource is read under several boundaries (leptos-rs/leptos#4851). The
/// header, composers and customer panel therefore come from one `Suspend` (drawn by the lazy
/// [`conversation_parts`]) and are placed on the page by CSS grid areas; the timeline has its
/// own resource and boundary.
#[component]
pub fn ConversationView(id: i64) -> impl IntoView {
    let live = expect_context::<Live>();
    let draft = Draft::new();
    let slot = PartsSlot::new();
    let changed = slot.changed;

    // Re-fetch when this conversation changes here or anywhere else.
    let remote = RwSignal::new(0usize);
    Effect::new(move |_| {
        if let Some(ev) = live.last.get() {
            if ev.conversation_id.is_none_or(|c| c == id) {
                remote.update(|v| *v += 1);
            }
        }
    });
    let version = Signal::derive(move || changed.get() + remote.get());
    let detail = Resource::new(move || (id, version.get()), |(id, _)| get_conversation(id));

    // Opening a conversation marks it read (in the browser, not on GET), and so does what
    // arrives while it is open in a tab the agent can see.
    Effect::new(move |prev: Option<()>| {
        remote.track();
        if prev.is_none() || visible() {
            leptos::task::spawn_local(async move {
                let _ = mark_read(id).await;
            });
        }
    });

    // "Back" to the list keeps the list's filters.
    let query = leptos_router::hooks::use_query_map();
    let back = Signal::derive(move || format!("/inbox{}", super::list_query(&query.read())));
    let tab = use_context::<super::TabTitle>();
    let leaving = tab.clone();
    on_cleanup(move || {
        if let Some(t) = leaving {
            t.close(id);
        }
    });

    view! {
        <Timeline id version/>
        <Transition fallback=|| view! { <header class="conversation-header"><p class="loading">"Loading…"</p></header> }>
            {move || {
                let slot = slot.clone();
                let tab = tab.clone();
                Suspend::new(async move {
                match detail.await {
                    Err(e) => view! {
                        <header class="conversation-header" id="conversation">
                            <nav class="pane-nav" aria-label="Conversation views">
                                <a class="pane-back" href=back>"← Conversations"</a>
                            </nav>
                            <p class="error" role="alert">{err_text(&e)}</p>
                        </header>
                    }
                    .into_any(),
                    Ok(d) => {
                        if let Some(t) = &tab {
                            t.open.set(Some((d.id, d.customer.name.clone())));
                        }
                        conversation_parts(PartsInput { detail: d, slot, draft, back }).await
                    }
                }
            })}}
        </Transition>
    }
}

/// Whether the page is in a tab the agent can see.
#[cfg(feature = "hydrate")]
fn visible() -> bool {
    !document().hidden()
}

#[cfg(not(feature = "hydrate"))]
fn visible() -> bool {
    false
}
