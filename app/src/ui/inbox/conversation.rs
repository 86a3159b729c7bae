use super::actions::{ConversationActions, MoveDialog};
use super::composer::{Composer, NoteForm};
use super::customer::{customer_panel, ActionsSlot, PanelParts};
use super::draft::Draft;
use super::timeline::Timeline;
use crate::api::consent::RecordConsent;
use crate::api::conversation::{
    get_conversation, mark_read, AddNote, Assign, ConfirmIdentifier, MoveConversation, SendReply,
    SetStatus,
};
use crate::api::labels::SetLabel;
use crate::domain::Permission;
use crate::ui::live::Live;
use crate::ui::{err_text, CurrentUser};
use leptos::prelude::*;

/// The middle and right panes for one conversation: header, timeline, composers, customer.
///
/// Each resource is awaited in exactly one Suspense boundary: Leptos 0.8 can stall an SSR
/// response when one resource is read under several boundaries (leptos-rs/leptos#4851). The
/// header, composers and customer panel therefore come from one `Suspend` and are placed on
/// the page by CSS grid areas; the timeline has its own resource and boundary.
#[component]
pub fn ConversationView(id: i64) -> impl IntoView {
    let live = expect_context::<Live>();
    let user = expect_context::<CurrentUser>();
    let set_status = ServerAction::<SetStatus>::new();
    let assign = ServerAction::<Assign>::new();
    let note = ServerAction::<AddNote>::new();
    let reply = ServerAction::<SendReply>::new();
    let confirm = ServerAction::<ConfirmIdentifier>::new();
    let move_to = ServerAction::<MoveConversation>::new();
    let customer_actions = ActionsSlot::new();
    let record_consent = ServerAction::<RecordConsent>::new();
    let set_label = ServerAction::<SetLabel>::new();
    let draft = Draft::new();
    let presence = super::presence::track(id, draft);

    // Drafts are cleared here, once per result, not in the forms: those are redrawn on every
    // re-fetch, and an effect there would see the old result again and clear a new draft.
    Effect::new(move |_| {
        if let Some(Ok(())) = reply.value().get() {
            draft.reply_sent();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = note.value().get() {
            draft.note.set(String::new());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = move_to.value().get() {
            draft.moved();
        }
    });

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
            + confirm.version().get()
            + move_to.version().get()
            + record_consent.version().get()
            + set_label.version().get()
            + remote.get()
    });
    let detail = Resource::new(move || (id, version.get()), |(id, _)| get_conversation(id));

    // Opening a conversation marks it read (in the browser, not on GET).
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let _ = mark_read(id).await;
        });
    });

    // "Back" to the list keeps the list's filters.
    let query = leptos_router::hooks::use_query_map();
    let back = move || format!("/inbox{}", super::list_query(&query.read()));
    let tab = use_context::<super::TabTitle>();
    let leaving = tab.clone();
    on_cleanup(move || {
        if let Some(t) = leaving {
            t.close(id);
        }
    });

    let can_reply = user.can(Permission::Reply);
    let can_manage = user.can(Permission::ManageConversations);
    let can_note = user.can(Permission::WriteNotes);
    let can_label = user.can(Permission::LabelConversations);

    view! {
        <Timeline id version/>
        <Transition fallback=|| view! { <header class="conversation-header"><p class="loading">"Loading…"</p></header> }>
            {move || {
                let customer_actions = customer_actions.clone();
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
                        let header = d.customer.name.clone();
                        let panel = customer_panel(PanelParts {
                            customer: d.customer.clone(),
                            confirm: can_manage.then_some(confirm),
                            actions: customer_actions.clone(),
                            consent: d.consent.clone(),
                            record: record_consent,
                        })
                        .await;
                        view! {
                        <header class="conversation-header" id="conversation">
                            // The phone layout's navigation between its views (hidden when wide).
                            <nav class="pane-nav" aria-label="Conversation views">
                                <a class="pane-back" href=back>"← Conversations"</a>
                                <a class="to-customer" href="#customer" rel="external">"Customer details"</a>
                            </nav>
                            <h1>{header}</h1>
                            <span class="status" data-status=d.status.as_str()>{d.status.label()}</span>
                            {can_manage.then(|| view! { <ConversationActions detail=d.clone() set_status assign/> })}
                            <super::labels::LabelEditor id=d.id labels=d.labels.clone() all=d.all_labels.clone() action=set_label editable=can_label/>
                        </header>
                        <div class="composers">
                            <super::presence::PresenceLine t=presence/>
                            {can_reply.then(|| view! { <MoveDialog detail=d.clone() action=move_to draft/> })}
                            {can_reply.then(|| view! { <Composer detail=d.clone() action=reply draft/> })}
                            {can_note.then(|| view! { <NoteForm id=d.id action=note draft/> })}
                        </div>
                        {panel}
                    }
                    .into_any()
                    }
                }
            })}}
        </Transition>
    }
}
