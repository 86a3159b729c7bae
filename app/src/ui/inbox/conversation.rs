use super::actions::ConversationActions;
use super::composer::{Composer, NoteForm};
use super::customer::CustomerPanel;
use super::timeline::Timeline;
use crate::api::conversation::{
    get_conversation, mark_read, AddNote, Assign, SendReply, SetStatus,
};
use crate::api::inbox::list_agents;
use crate::domain::Permission;
use crate::ui::live::Live;
use crate::ui::{err_text, CurrentUser};
use leptos::prelude::*;

/// The middle and right panes for one conversation.
#[component]
pub fn ConversationView(id: i64) -> impl IntoView {
    let live = expect_context::<Live>();
    let user = expect_context::<CurrentUser>();
    let set_status = ServerAction::<SetStatus>::new();
    let assign = ServerAction::<Assign>::new();
    let note = ServerAction::<AddNote>::new();
    let reply = ServerAction::<SendReply>::new();

    // Re-fetch when this conversation changes here or anywhere else.
    let remote = RwSignal::new(0usize);
    Effect::new(move |_| {
        if let Some(ev) = live.last.get() {
            if ev.conversation_id.is_none_or(|c| c == id) {
                remote.update(|v| *v += 1);
            }
        }
    });
    let version = Signal::derive(move || {
        set_status.version().get()
            + assign.version().get()
            + note.version().get()
            + reply.version().get()
            + remote.get()
    });
    let detail = Resource::new(move || (id, version.get()), |(id, _)| get_conversation(id));
    let agents = Resource::new(|| (), |_| list_agents());

    // Opening a conversation marks it read (in the browser, not on GET).
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let _ = mark_read(id).await;
        });
    });

    let can_reply = user.can(Permission::Reply);
    let can_manage = user.can(Permission::ManageConversations);
    let can_note = user.can(Permission::WriteNotes);

    view! {
        <section class="conversation-pane">
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let agents = agents.await.unwrap_or_default();
                    match detail.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(d) => {
                            view! {
                                <header class="conversation-header">
                                    <h1>{d.customer.name.clone()}</h1>
                                    <span class="status" data-status=d.status.as_str()>{d.status.label()}</span>
                                    {can_manage.then(|| view! { <ConversationActions detail=d.clone() agents set_status assign/> })}
                                </header>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
            <Timeline id version/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match detail.await {
                        Err(_) => ().into_any(),
                        Ok(d) => {
                            view! {
                                <div class="composers">
                                    {can_reply.then(|| view! { <Composer detail=d.clone() action=reply/> })}
                                    {can_note.then(|| view! { <NoteForm id=d.id action=note/> })}
                                </div>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
        <Transition fallback=|| view! { <aside class="customer-pane" aria-label="Customer"></aside> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <CustomerPanel customer=d.customer/> }.into_any(),
                    Err(_) => view! { <aside class="customer-pane" aria-label="Customer"></aside> }.into_any(),
                }
            })}
        </Transition>
    }
}
