//! The conversation's labels: chips with a remove button, and a picker to add one. Plain
//! forms, so they work without JavaScript; `l` opens the picker.

use crate::api::labels::SetLabel;
use crate::model::Label;
use crate::ui::err_text;
use leptos::prelude::*;

#[component]
pub fn LabelEditor(
    id: i64,
    labels: Vec<Label>,
    all: Vec<Label>,
    action: ServerAction<SetLabel>,
    editable: bool,
) -> impl IntoView {
    let addable: Vec<Label> = all
        .into_iter()
        .filter(|l| !labels.iter().any(|x| x.id == l.id))
        .collect();
    let chips = labels
        .into_iter()
        .map(|l| {
            let name = l.name.clone();
            view! {
                <li class="label-chip" data-colour=l.colour.clone()>
                    {l.name.clone()}
                    {editable.then(|| view! {
                        <ActionForm action attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="label_id" value=l.id/>
                            <input type="hidden" name="on" value="false"/>
                            <button type="submit" class="chip-remove" aria-label=format!("Remove label {name}")>"×"</button>
                        </ActionForm>
                    })}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="conversation-labels">
            <ul class="labels" aria-label="Labels">{chips}</ul>
            {(editable && !addable.is_empty()).then(|| view! {
                // Folded, so the header stays short on a phone; `l` opens it.
                <details class="label-add">
                    <summary>"+ Label"</summary>
                    <ActionForm action attr:class="inline">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="on" value="true"/>
                        <label for="label-pick" class="visually-hidden">"Label to add"</label>
                        <select id="label-pick" name="label_id">
                            {addable.into_iter().map(|l| view! { <option value=l.id>{l.name}</option> }).collect_view()}
                        </select>
                        <button type="submit">"Add label"</button>
                    </ActionForm>
                </details>
            })}
            {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
        </div>
    }
}
