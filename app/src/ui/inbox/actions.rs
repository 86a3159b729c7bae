//! The conversation's controls: status, snooze, assignment, and moving it to another channel.

use super::draft::Draft;
use crate::api::conversation::{Assign, MoveConversation, SetStatus};
use crate::domain::{reply_choice, Status};
use crate::model::ConversationDetail;
use crate::ui::{err_text, forget_error};
use leptos::prelude::*;
use std::sync::Arc;

/// Status, snooze and assignment controls.
#[component]
pub fn ConversationActions(
    detail: ConversationDetail,
    set_status: ServerAction<SetStatus>,
    assign: ServerAction<Assign>,
) -> impl IntoView {
    let id = detail.id;
    let me = use_context::<crate::ui::CurrentUser>().map(|u| u.0.id);
    let assign_me =
        me.filter(|m| detail.assignee_id != Some(*m) && detail.agents.iter().any(|a| a.id == *m));
    let status_button = move |to: Status, label: &'static str| {
        let shortcut = (to == Status::Resolved).then_some("resolve");
        view! {
            <ActionForm action=set_status attr:class="inline">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="status" value=to.as_str()/>
                <button type="submit" data-shortcut=shortcut>{label}</button>
            </ActionForm>
        }
    };
    let current = detail.status;
    let assignee = detail.assignee_id;
    view! {
        <div class="actions">
            {(current != Status::Resolved).then(|| status_button(Status::Resolved, "Resolve"))}
            {(current != Status::Pending).then(|| status_button(Status::Pending, "Mark pending"))}
            {(current != Status::Open).then(|| status_button(Status::Open, "Reopen"))}
            <ActionForm action=set_status attr:class="inline">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="status" value="snoozed"/>
                <label for="snooze-for" class="visually-hidden">"Snooze for"</label>
                <select id="snooze-for" name="snooze_minutes">
                    <option value="60">"1 hour"</option>
                    <option value="240">"4 hours"</option>
                    <option value="1440">"1 day"</option>
                    <option value="10080">"1 week"</option>
                </select>
                <button type="submit">"Snooze"</button>
            </ActionForm>
            <ActionForm action=assign attr:class="inline">
                <input type="hidden" name="id" value=id/>
                <label for="assignee" class="visually-hidden">"Assignee"</label>
                <select id="assignee" name="assignee">
                    <option value="" selected=assignee.is_none()>"Unassigned"</option>
                    {detail
                        .agents
                        .iter()
                        .map(|u| view! { <option value=u.id selected=assignee == Some(u.id)>{u.name.clone()}</option> })
                        .collect_view()}
                </select>
                <button type="submit">"Assign"</button>
            </ActionForm>
            {assign_me.map(|m| view! {
                <ActionForm action=assign attr:class="inline">
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="assignee" value=m/>
                    <button type="submit" data-shortcut="assign-me">"Assign to me"</button>
                </ActionForm>
            })}
            {move || {
                set_status
                    .value()
                    .get()
                    .and_then(|r| r.err())
                    .or_else(|| assign.value().get().and_then(|r| r.err()))
                    .map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })
            }}
        </div>
    }
}

/// "Move conversation to…": choose where replies go from now on, with an optional handoff
/// message on the old channel (the standard words, or the agent's). Works without JavaScript:
/// a blank handoff text means the standard words for the chosen channel.
///
/// Only other channels than the one the conversation is on are offered, never an unverified
/// identifier. The handoff text always follows the chosen target (an edit is dropped when the
/// target changes) and the hydrated form says which target it was written for
/// (`handoff_for`), so the server refuses a text meant for another one. After a move the panel
/// closes and starts again from the new channel.
#[component]
pub fn MoveDialog(
    detail: ConversationDetail,
    action: ServerAction<MoveConversation>,
    draft: Draft,
) -> impl IntoView {
    let id = detail.id;
    let current = detail
        .default_reply
        .as_deref()
        .and_then(|k| detail.reply_options.iter().find(|o| o.key() == k))
        .cloned();
    let current_key = current.as_ref().map(|o| o.key());
    // The channel the conversation is on now (while replies can go there).
    let on_channel = current
        .as_ref()
        .filter(|c| c.unavailable.is_none())
        .map(|c| c.channel);
    // (key, label, standard handoff text) of every option the conversation can move to.
    let targets: Arc<Vec<(String, String, String)>> = Arc::new(
        detail
            .reply_options
            .iter()
            .filter(|o| {
                o.unavailable.is_none()
                    && o.identifier_id != 0
                    && Some(o.key()) != current_key
                    && reply_choice::move_offered(on_channel, o.channel, !o.unverified)
            })
            .map(|o| {
                (
                    o.key(),
                    o.label.clone(),
                    reply_choice::handoff_text(o.channel, &o.identifier_label),
                )
            })
            .collect(),
    );
    let open = draft.move_open;
    let on_toggle = move |ev: leptos::ev::Event| {
        let now = event_target::<web_sys::Element>(&ev).has_attribute("open");
        if open.get_untracked() != now {
            open.set(now);
        }
    };
    if targets.is_empty() {
        return view! {
            <details class="move-conversation" prop:open=move || open.get() on:toggle=on_toggle>
                <summary>"Move conversation to…"</summary>
                <p class="hint">"There is no other channel this customer can be reached on now."</p>
            </details>
        }
        .into_any();
    }
    // The chosen target: the draft's, while it is still offered; else the first.
    let chosen = {
        let targets = targets.clone();
        move || {
            let key = draft.move_to.get();
            targets
                .iter()
                .find(|t| Some(&t.0) == key.as_ref())
                .or(targets.first())
                .cloned()
        }
    };
    let (chosen_key, chosen_for) = (chosen.clone(), chosen.clone());
    let standard = {
        let chosen = chosen.clone();
        move || chosen().map(|t| t.2).unwrap_or_default()
    };
    let placeholder = standard.clone();
    let handoff = match &current {
        Some(c) if c.unavailable.is_none() => view! {
            <label class="check">
                <input type="checkbox" name="handoff" value="1" checked/>
                {format!(" Tell the customer on {}", c.label)}
            </label>
            // Set by the hydrated page only: which target the handoff text below was written for.
            <input type="hidden" name="handoff_for" prop:value=move || chosen_for().map(|t| t.0).unwrap_or_default()/>
            <label for="handoff-text">"Handoff message"</label>
            <textarea
                id="handoff-text"
                name="handoff_text"
                rows="2"
                placeholder=placeholder
                prop:value=move || draft.handoff.get().unwrap_or_else(&standard)
                on:input=move |ev| draft.handoff.set(Some(event_target_value(&ev)))
            ></textarea>
            <p class="hint">"Left empty, the standard message for the new channel is sent."</p>
        }
        .into_any(),
        Some(c) => view! {
            <p class="hint">{format!("No handoff message: {} cannot be used now.", c.label)}</p>
        }
        .into_any(),
        None => ().into_any(),
    };
    view! {
        <details class="move-conversation" prop:open=move || open.get() on:toggle=on_toggle>
            <summary>"Move conversation to…"</summary>
            <ActionForm action attr:class="move-form" on:input=forget_error(action) on:change=forget_error(action)>
                <input type="hidden" name="id" value=id/>
                <div class="row">
                    <label for="move-to">"Move to"</label>
                    <select
                        id="move-to"
                        name="to"
                        prop:value=move || chosen_key().map(|t| t.0).unwrap_or_default()
                        on:change=move |ev| {
                            draft.move_to.set(Some(event_target_value(&ev)));
                            // The text must name the new target: an edit for the old one goes.
                            draft.handoff.set(None);
                        }
                    >
                        {targets
                            .iter()
                            .map(|(k, l, _)| {
                                let selected = draft.move_to.get_untracked().as_deref() == Some(k.as_str());
                                view! { <option value=k.clone() selected=selected>{l.clone()}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <p class="hint">"Replies go there by default until the customer writes on another channel."</p>
                {handoff}
                <div class="row end">
                    {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                    <button type="submit" disabled=move || action.pending().get()>"Move conversation"</button>
                </div>
            </ActionForm>
        </details>
    }
    .into_any()
}
