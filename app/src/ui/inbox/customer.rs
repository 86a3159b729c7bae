use super::consent::ConsentSection;
use crate::api::consent::RecordConsent;
use crate::api::conversation::ConfirmIdentifier;
use crate::api::customers::{
    AddIdentifier, DismissSuggestion, EditIdentifier, MergeCustomers, RemoveIdentifier,
    SetPreferredChannel, UnmergeCustomer,
};
use crate::domain::{ChannelKind, IdentifierKind, Permission};
use crate::model::CustomerConsent;
use crate::model::{CustomerRef, CustomerView, IdentifierView, MergeSuggestion, MergeView};
use crate::ui::widgets::{ChannelBadge, Time};
use crate::ui::{err_text, forget_error, CurrentUser};
use leptos::prelude::*;

/// The server actions of the panel. Each posts to its server function, so every form also
/// works without JavaScript; a change is published live, which re-renders the panel.
#[derive(Clone, Copy)]
pub struct Actions {
    add: ServerAction<AddIdentifier>,
    edit: ServerAction<EditIdentifier>,
    remove: ServerAction<RemoveIdentifier>,
    preferred: ServerAction<SetPreferredChannel>,
    merge: ServerAction<MergeCustomers>,
    unmerge: ServerAction<UnmergeCustomer>,
    dismiss: ServerAction<DismissSuggestion>,
}

impl Actions {
    fn new() -> Actions {
        Actions {
            add: ServerAction::new(),
            edit: ServerAction::new(),
            remove: ServerAction::new(),
            preferred: ServerAction::new(),
            merge: ServerAction::new(),
            unmerge: ServerAction::new(),
            dismiss: ServerAction::new(),
        }
    }

    /// The newest failure of any of them, in words.
    fn error(self) -> Option<String> {
        fn e<T: Clone + Send + Sync + 'static>(
            v: Option<Result<T, ServerFnError>>,
        ) -> Option<String> {
            v.and_then(|r| r.err()).map(|e| err_text(&e))
        }
        e(self.add.value().get())
            .or_else(|| e(self.edit.value().get()))
            .or_else(|| e(self.remove.value().get()))
            .or_else(|| e(self.preferred.value().get()))
            .or_else(|| e(self.merge.value().get()))
            .or_else(|| e(self.unmerge.value().get()))
            .or_else(|| e(self.dismiss.value().get()))
    }
}

/// Where the panel keeps its [`Actions`]: created on the first draw, by the panel's code, in
/// the conversation view's owner, which outlives the panel's redraws, so an answer (an error
/// in words) is still there after the live update that redrew the panel.
#[derive(Clone)]
pub struct ActionsSlot {
    owner: Owner,
    actions: StoredValue<Option<Actions>>,
}

impl ActionsSlot {
    /// Called by the conversation view.
    pub fn new() -> ActionsSlot {
        ActionsSlot {
            owner: Owner::current().expect("a reactive owner"),
            actions: StoredValue::new(None),
        }
    }

    pub fn get(&self) -> Actions {
        if let Some(a) = self.actions.get_value() {
            return a;
        }
        let a = self.owner.with(Actions::new);
        self.actions.set_value(Some(a));
        a
    }
}

impl Default for ActionsSlot {
    fn default() -> Self {
        ActionsSlot::new()
    }
}

fn conversation_link(c: &CustomerRef) -> AnyView {
    match c.conversation_id {
        Some(id) => view! { <a href=format!("/inbox/{id}")>{c.name.clone()}</a> }.into_any(),
        None => view! { <span>{c.name.clone()}</span> }.into_any(),
    }
}

#[component]
pub fn CustomerPanel(
    customer: CustomerView,
    /// Present when the viewer may confirm suggested identifiers.
    confirm: Option<ServerAction<ConfirmIdentifier>>,
    actions: Actions,
    consent: CustomerConsent,
    record: ServerAction<RecordConsent>,
) -> impl IntoView {
    let may_manage =
        use_context::<CurrentUser>().is_some_and(|u| u.can(Permission::ManageConversations));
    // A merged customer is changed through the one it was merged into.
    let can_manage = may_manage && customer.merged_into.is_none();
    let id = customer.id;
    let preferred = customer.preferred_channel;
    view! {
        <aside class="customer-pane" id="customer" aria-label="Customer" tabindex="-1">
            // On a phone the panel is a view of its own (CSS :target); rel=external leaves the
            // fragment to the browser, so :target follows it with JavaScript too.
            <a class="pane-back" href="#conversation" rel="external">"← Conversation"</a>
            <h2>{customer.name.clone()}</h2>
            {customer.merged_into.clone().map(|to| view! {
                <p class="merged-notice" role="status">
                    "This customer was merged into " {conversation_link(&to)} "."
                </p>
                {may_manage.then(|| view! {
                    <ActionForm action=actions.unmerge attr:class="inline">
                        <input type="hidden" name="customer" value=id/>
                        <button type="submit">"Undo merge"</button>
                    </ActionForm>
                })}
            })}
            <h3>"Identifiers"</h3>
            <ul class="identifiers">
                {customer
                    .identifiers
                    .into_iter()
                    .map(|i| identifier_item(id, i, confirm, can_manage.then_some(actions)))
                    .collect_view()}
            </ul>
            {can_manage.then(|| add_form(id, actions))}
            {move || actions.error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <ConsentSection consent record/>
            {(!customer.suggestions.is_empty()).then(|| view! {
                <h3>"Possibly the same person"</h3>
                <ul class="merge-suggestions">
                    {customer
                        .suggestions
                        .into_iter()
                        .map(|s| suggestion_item(id, s, can_manage.then_some(actions)))
                        .collect_view()}
                </ul>
            })}
            <h3>"Channels used"</h3>
            <ul class="channels-used">
                {customer.channels_used.into_iter().map(|c| view! { <li><ChannelBadge channel=c/></li> }).collect_view()}
            </ul>
            <h3>"Preferred channel"</h3>
            {match preferred {
                Some(c) => view! { <p class="preferred">"Prefers " <ChannelBadge channel=c/></p> }.into_any(),
                None => view! { <p class="preferred none">"No preferred channel"</p> }.into_any(),
            }}
            {can_manage.then(|| preferred_form(id, preferred, actions))}
            {customer.chosen.clone().map(|c| view! {
                <h3>"Chosen by the customer"</h3>
                <p class="chosen">{c}</p>
            })}
            {(!customer.merges.is_empty()).then(|| view! {
                <h3>"Merged into this customer"</h3>
                <ul class="merges">
                    {customer.merges.into_iter().map(|m| merge_item(m, can_manage.then_some(actions))).collect_view()}
                </ul>
            })}
        </aside>
    }
}

fn identifier_item(
    customer: i64,
    i: IdentifierView,
    confirm: Option<ServerAction<ConfirmIdentifier>>,
    actions: Option<Actions>,
) -> impl IntoView {
    let edit_id = format!("identifier-{}-value", i.id);
    let edit_label = format!("New value for {}", i.value);
    let edit_name = format!(" {}", i.value);
    let remove_name = edit_name.clone();
    let current = i.label.clone();
    view! {
        <li data-kind=i.kind.as_str() class:suggested=!i.verified>
            <span class="kind">{i.kind.label()}</span>
            <span class="value">{i.value}</span>
            {i.consent.map(|c| { let out = !c.starts_with("Opted back"); view! { <span class="consent" class:opted-out=out>{c}</span> } })}
            {(!i.verified).then(|| view! {
                <span class="suggested-note">"Suggested: wrote in this thread"</span>
                {confirm.map(|action| view! {
                    <ActionForm action attr:class="inline">
                        <input type="hidden" name="id" value=i.id/>
                        <button type="submit">"Confirm"</button>
                    </ActionForm>
                })}
            })}
            {actions.map(|a| view! {
                <div class="identifier-actions">
                <details class="identifier-edit">
                    <summary>"Edit"<span class="visually-hidden">{edit_name}</span></summary>
                    <ActionForm action=a.edit attr:class="inline" on:input=forget_error(a.edit) on:change=forget_error(a.edit)>
                        <input type="hidden" name="customer" value=customer/>
                        <input type="hidden" name="id" value=i.id/>
                        <label for=edit_id.clone() class="visually-hidden">{edit_label}</label>
                        <input id=edit_id name="value" value=current required/>
                        <button type="submit">"Save"</button>
                    </ActionForm>
                </details>
                <ActionForm action=a.remove attr:class="inline identifier-remove">
                    <input type="hidden" name="customer" value=customer/>
                    <input type="hidden" name="id" value=i.id/>
                    <button type="submit">"Remove"<span class="visually-hidden">{remove_name}</span></button>
                </ActionForm>
                </div>
            })}
        </li>
    }
}

fn add_form(customer: i64, a: Actions) -> impl IntoView {
    // Once an identifier is added the form is empty again, ready for the next one (only on an
    // answer that comes after this draw, so a live redraw never clears what is being typed).
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::watch(
        move || a.add.value().with(|v| matches!(v, Some(Ok(_)))),
        move |added, _, _| {
            if *added {
                if let Some(f) = form.get_untracked() {
                    f.reset();
                }
            }
        },
        false,
    );
    view! {
        <ActionForm action=a.add node_ref=form attr:class="identifier-add" on:input=forget_error(a.add) on:change=forget_error(a.add)>
            <input type="hidden" name="customer" value=customer/>
            <label for="new-identifier-kind">"Kind"</label>
            <select id="new-identifier-kind" name="kind">
                {IdentifierKind::ALL
                    .into_iter()
                    .map(|k| view! { <option value=k.as_str()>{k.label()}</option> })
                    .collect_view()}
            </select>
            <label for="new-identifier-value">"New identifier"</label>
            <input id="new-identifier-value" name="value" required placeholder="ada@example.com, +1 415 555 0101"/>
            <button type="submit">"Add identifier"</button>
        </ActionForm>
    }
}

fn preferred_form(customer: i64, current: Option<ChannelKind>, a: Actions) -> impl IntoView {
    view! {
        <ActionForm action=a.preferred attr:class="inline preferred-form">
            <input type="hidden" name="customer" value=customer/>
            <label for="preferred-channel" class="visually-hidden">"Preferred channel"</label>
            <select id="preferred-channel" name="channel">
                <option value="" selected=current.is_none()>"No preference"</option>
                {ChannelKind::ALL
                    .into_iter()
                    .map(|c| view! { <option value=c.as_str() selected=current == Some(c)>{c.label()}</option> })
                    .collect_view()}
            </select>
            <button type="submit">"Set preferred channel"</button>
        </ActionForm>
    }
}

fn merge_item(m: MergeView, actions: Option<Actions>) -> impl IntoView {
    let name = m.customer.name.clone();
    view! {
        <li>
            {conversation_link(&m.customer)}
            <span class="merged-by">
                "Merged " {m.actor_name.map(|n| format!("by {n} "))} "on " <Time ms=m.created_at/>
            </span>
            {actions.map(|a| view! {
                <ActionForm action=a.unmerge attr:class="inline">
                    <input type="hidden" name="customer" value=m.customer.id/>
                    <button type="submit">"Undo merge"<span class="visually-hidden">" of " {name}</span></button>
                </ActionForm>
            })}
        </li>
    }
}

fn suggestion_item(customer: i64, s: MergeSuggestion, actions: Option<Actions>) -> impl IntoView {
    let merge_label = format!("Merge {} into this customer", s.customer.name);
    let dismiss_name = format!(" the suggestion about {}", s.customer.name);
    let other = s.customer.id;
    view! {
        <li>
            {conversation_link(&s.customer)}
            <ul class="reasons">
                {s.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
            </ul>
            {actions.map(|a| view! {
                <ActionForm action=a.merge attr:class="inline">
                    <input type="hidden" name="customer" value=customer/>
                    <input type="hidden" name="other" value=other/>
                    <button type="submit">{merge_label}</button>
                </ActionForm>
                <ActionForm action=a.dismiss attr:class="inline">
                    <input type="hidden" name="customer" value=customer/>
                    <input type="hidden" name="other" value=other/>
                    <button type="submit">"Dismiss"<span class="visually-hidden">{dismiss_name}</span></button>
                </ActionForm>
            })}
        </li>
    }
}
