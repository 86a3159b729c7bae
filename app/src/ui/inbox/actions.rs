use crate::api::conversation::{Assign, SetStatus};
use crate::domain::Status;
use crate::model::ConversationDetail;
use crate::ui::err_text;
use leptos::prelude::*;

/// Status, snooze and assignment controls.
#[component]
pub fn ConversationActions(
    detail: ConversationDetail,
    set_status: ServerAction<SetStatus>,
    assign: ServerAction<Assign>,
) -> impl IntoView {
    let id = detail.id;
    let status_button = move |to: Status, label: &'static str| {
        view! {
            <ActionForm action=set_status attr:class="inline">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="status" value=to.as_str()/>
                <button type="submit">{label}</button>
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
