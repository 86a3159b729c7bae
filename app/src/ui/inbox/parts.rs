//! The open conversation's header, composers and customer panel: a wasm chunk of its own, which
//! opening the inbox does not download. The conversation view (in the main bundle) keeps what
//! must outlive a redraw (the draft, the detail resource); the server actions and the presence
//! tracker live here, created once per conversation in the view's owner through a [`PartsSlot`].

use super::actions::{ConversationActions, MoveDialog};
use super::composer::{Composer, NoteForm};
use super::customer::{ActionsSlot, CustomerPanel};
use super::draft::Draft;
use super::presence::{PresenceLine, Tracker};
use crate::api::consent::RecordConsent;
use crate::api::conversation::{
    AddNote, Assign, ConfirmIdentifier, MoveConversation, SendReply, SetStatus,
};
use crate::api::labels::SetLabel;
use crate::domain::Permission;
use crate::model::ConversationDetail;
use crate::ui::CurrentUser;
use leptos::prelude::*;

/// The conversation's server actions. Each posts to its server function, so every form also
/// works without JavaScript.
#[derive(Clone, Copy)]
struct ConvActions {
    set_status: ServerAction<SetStatus>,
    assign: ServerAction<Assign>,
    note: ServerAction<AddNote>,
    reply: ServerAction<SendReply>,
    confirm: ServerAction<ConfirmIdentifier>,
    move_to: ServerAction<MoveConversation>,
    record_consent: ServerAction<RecordConsent>,
    set_label: ServerAction<SetLabel>,
}

/// Where the conversation view keeps the parts' actions: made on the first draw, in the
/// view's owner (which outlives the redraws), so a pending answer or an error in words
/// survives the live update that redraws the parts. `changed` counts the actions that
/// finished: the view re-fetches its detail on it. The presence tracker lives here too.
#[derive(Clone)]
pub struct PartsSlot {
    owner: Owner,
    actions: StoredValue<Option<(ConvActions, Tracker)>>,
    pub changed: RwSignal<usize>,
    customer: ActionsSlot,
}

impl PartsSlot {
    /// Called by the conversation view.
    pub fn new() -> PartsSlot {
        PartsSlot {
            owner: Owner::current().expect("a reactive owner"),
            actions: StoredValue::new(None),
            changed: RwSignal::new(0),
            customer: ActionsSlot::new(),
        }
    }

    /// The actions, and the presence tracker of conversation `id` (started on the first draw).
    fn get(&self, id: i64, draft: Draft) -> (ConvActions, Tracker) {
        if let Some(a) = self.actions.get_value() {
            return a;
        }
        let changed = self.changed;
        let a = self.owner.with(|| {
            let a = ConvActions {
                set_status: ServerAction::new(),
                assign: ServerAction::new(),
                note: ServerAction::new(),
                reply: ServerAction::new(),
                confirm: ServerAction::new(),
                move_to: ServerAction::new(),
                record_consent: ServerAction::new(),
                set_label: ServerAction::new(),
            };
            // Drafts are cleared here, once per result, not in the forms: those are redrawn on
            // every re-fetch, and an effect there would see the old result again and clear a
            // new draft.
            Effect::new(move |_| {
                if let Some(Ok(())) = a.reply.value().get() {
                    draft.reply_sent();
                }
            });
            Effect::new(move |_| {
                if let Some(Ok(())) = a.note.value().get() {
                    draft.note.set(String::new());
                }
            });
            Effect::new(move |_| {
                if let Some(Ok(())) = a.move_to.value().get() {
                    draft.moved();
                }
            });
            // An answered action re-fetches the detail, and keeps the agent's place: focus
            // that fell to the page (the button was disabled while pending, or redrawn) goes to
            // the reply or note box after a send, to the conversation's heading otherwise.
            Effect::new(move |prev: Option<(usize, usize, usize)>| {
                let now = (
                    a.reply.version().get(),
                    a.note.version().get(),
                    a.set_status.version().get()
                        + a.assign.version().get()
                        + a.confirm.version().get()
                        + a.move_to.version().get()
                        + a.record_consent.version().get()
                        + a.set_label.version().get(),
                );
                if let Some(p) = prev.filter(|p| *p != now) {
                    changed.update(|c| *c += 1);
                    if p.2 != now.2 {
                        settle_folded_forms();
                    }
                    keep_focus(if p.0 != now.0 {
                        "#reply-body"
                    } else if p.1 != now.1 {
                        "#note-body"
                    } else {
                        "#conversation h1"
                    });
                }
                now
            });
            mark_folded_submits();
            (a, super::presence::track(id, draft))
        });
        self.actions.set_value(Some(a));
        a
    }
}

impl Default for PartsSlot {
    fn default() -> Self {
        PartsSlot::new()
    }
}

/// What [`conversation_parts`] draws from: the detail and what the view keeps.
pub struct PartsInput {
    pub detail: ConversationDetail,
    pub slot: PartsSlot,
    pub draft: Draft,
    /// "Back" to the list, with the list's filters.
    pub back: Signal<String>,
}

/// The header (name, status, actions, labels), the composers and the customer panel, placed
/// on the page by CSS grid areas.
#[leptos::lazy]
pub fn conversation_parts(input: PartsInput) -> AnyView {
    let PartsInput {
        detail: d,
        slot,
        draft,
        back,
    } = input;
    let (a, presence) = slot.get(d.id, draft);
    hold_focus();
    let user = expect_context::<CurrentUser>();
    let can_reply = user.can(Permission::Reply);
    let can_manage = user.can(Permission::ManageConversations);
    let can_note = user.can(Permission::WriteNotes);
    let can_label = user.can(Permission::LabelConversations);
    let header = d.customer.name.clone();
    let customer_actions = slot.customer.get();
    let panel = view! {
        <CustomerPanel
            customer=d.customer.clone()
            confirm=can_manage.then_some(a.confirm)
            actions=customer_actions
            consent=d.consent.clone()
            record=a.record_consent
        />
    };
    view! {
        <header class="conversation-header" id="conversation">
            // The phone layout's navigation between its views (hidden when wide).
            <nav class="pane-nav" aria-label="Conversation views">
                <a class="pane-back" href=back>"← Conversations"</a>
                <a class="to-customer" href="#customer" rel="external">"Customer details"</a>
            </nav>
            <h1 tabindex="-1">{header}</h1>
            <span class="status" data-status=d.status.as_str()>{d.status.label()}</span>
            {can_manage.then(|| view! { <ConversationActions detail=d.clone() set_status=a.set_status assign=a.assign/> })}
            <super::labels::LabelEditor id=d.id labels=d.labels.clone() all=d.all_labels.clone() action=a.set_label editable=can_label/>
        </header>
        <div class="composers">
            <PresenceLine t=presence/>
            {can_reply.then(|| view! { <MoveDialog detail=d.clone() action=a.move_to draft/> })}
            {can_reply.then(|| view! { <Composer detail=d.clone() action=a.reply draft/> })}
            {can_note.then(|| view! { <NoteForm id=d.id action=a.note draft/> })}
        </div>
        {panel}
    }
    .into_any()
}

/// For two seconds (the re-fetch and redraw after an action), puts focus that fell to the page
/// back: on the field the agent was in if the redraw replaced it or it was disabled (found again
/// by its id), else on `selector`. If the element that had focus is still there and usable, the
/// agent left it (Escape, a click elsewhere): that is their choice, and the watch ends.
#[cfg(feature = "hydrate")]
fn keep_focus(selector: &'static str) {
    use super::keys::dom;
    fn check(selector: &'static str, had: Option<web_sys::Element>, left: u32) {
        let had = match (focused(), had) {
            (Some(now), _) => Some(now),
            (None, Some(e)) if e.is_connected() && !e.has_attribute("disabled") => return,
            (None, had) => {
                let id = had.map(|e| e.id()).filter(|id| !id.is_empty());
                if !id.is_some_and(|id| dom::focus(&format!("#{id}"))) {
                    dom::focus(selector);
                }
                focused()
            }
        };
        if left > 0 {
            set_timeout(
                move || check(selector, had, left - 1),
                std::time::Duration::from_millis(100),
            );
        }
    }
    check(selector, None, 20);
}

#[cfg(not(feature = "hydrate"))]
fn keep_focus(_selector: &'static str) {}

/// The folded sections whose forms settle after their answer: a consent change, a label to
/// add, the move. (The customer panel's identifier edits answer through its own actions.)
#[cfg(feature = "hydrate")]
const FOLDED: &str = "details.consent-record, details.label-add, details.move-conversation";

/// Marks a form in a [`FOLDED`] section when the agent submits it, for
/// [`settle_folded_forms`]. Once per page: a capture listener on the document.
#[cfg(feature = "hydrate")]
fn mark_folded_submits() {
    use wasm_bindgen::{closure::Closure, JsCast};
    thread_local! {
        static LISTENING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if LISTENING.with(|l| l.replace(true)) {
        return;
    }
    let on_submit = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        let form = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        if let Some(form) = form.filter(|f| f.closest(FOLDED).ok().flatten().is_some()) {
            let _ = form.set_attribute("data-submitted", "");
        }
    });
    let _ = document().add_event_listener_with_callback_and_bool(
        "submit",
        on_submit.as_ref().unchecked_ref(),
        true,
    );
    on_submit.forget();
}

#[cfg(not(feature = "hydrate"))]
fn mark_folded_submits() {}

/// After an answer to a form in a [`FOLDED`] section: a stored change folds its section and
/// empties the form, so it is not sent twice by mistake; a refused one stays open with what
/// the agent wrote and the error in words. Runs on the next frame, once the answer is drawn.
#[cfg(feature = "hydrate")]
fn settle_folded_forms() {
    use wasm_bindgen::JsCast;
    request_animation_frame(|| {
        let Ok(forms) = document().query_selector_all("details form[data-submitted]") else {
            return;
        };
        for i in 0..forms.length() {
            let Some(form) = forms
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let _ = form.remove_attribute("data-submitted");
            let Some(details) = form.closest("details").ok().flatten() else {
                continue;
            };
            // The error is in the form, or next to the section (the labels').
            let has = |scope: &web_sys::Element, selector: &str| {
                scope.query_selector(selector).ok().flatten().is_some()
            };
            let refused = has(&form, ".error, [role=alert]")
                || details
                    .parent_element()
                    .is_some_and(|p| has(&p, ":scope > .error, :scope > [role=alert]"));
            if refused {
                continue;
            }
            if let Some(f) = form.dyn_ref::<web_sys::HtmlFormElement>() {
                f.reset();
            }
            let _ = details.remove_attribute("open");
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn settle_folded_forms() {}

/// The element that has focus, unless focus fell to the page (the body).
#[cfg(feature = "hydrate")]
fn focused() -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    let d = document();
    let body = d.body().map(|b| b.unchecked_into::<web_sys::Element>());
    d.active_element().filter(|e| Some(e) != body.as_ref())
}

/// Called while a re-fetched conversation's parts are drawn, before they replace the old ones:
/// a field the agent is in (the reply box while a customer's message arrives) is focused again
/// in the new drawing, with the caret where it was.
#[cfg(feature = "hydrate")]
fn hold_focus() {
    use wasm_bindgen::JsCast;
    let Some(active) = focused() else {
        return;
    };
    let id = active.id();
    if id.is_empty() {
        return;
    }
    let caret = active
        .dyn_ref::<web_sys::HtmlTextAreaElement>()
        .and_then(|t| Some((t.selection_start().ok()??, t.selection_end().ok()??)));
    request_animation_frame(move || {
        if focused().is_some() {
            return;
        }
        let Some(el) = document().get_element_by_id(&id) else {
            return;
        };
        if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
        if let (Some(t), Some((start, end))) = (el.dyn_ref::<web_sys::HtmlTextAreaElement>(), caret)
        {
            let _ = t.set_selection_range(start, end);
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn hold_focus() {}
