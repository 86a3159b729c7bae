//! Labels (admins): the list with rename, recolour and delete, and a form to add one. Works
//! without JavaScript (each form posts and comes back).

use crate::api::labels::{list_labels, DeleteLabel, SaveLabel};
use crate::domain::labels::PALETTE;
use crate::ui::err_text;
use leptos::prelude::*;

fn colour_select(id: String, current: &str) -> impl IntoView {
    let current = current.to_string();
    view! {
        <select id=id name="colour">
            {PALETTE
                .iter()
                .map(|(c, label)| view! { <option value=*c selected=*c == current>{*label}</option> })
                .collect_view()}
        </select>
    }
}

#[component]
pub fn Labels() -> impl IntoView {
    let save = ServerAction::<SaveLabel>::new();
    let delete = ServerAction::<DeleteLabel>::new();
    let list = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_labels(),
    );
    let add_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            if let Some(f) = add_form.get_untracked() {
                f.reset();
            }
        }
    });
    view! {
        <section aria-labelledby="labels-heading" id="labels">
            <h2 id="labels-heading">"Labels"</h2>
            <p class="hint">"Agents put labels on conversations, filter the list by them and search with label:name."</p>
            {move || {
                save.value()
                    .get()
                    .and_then(|r| r.err())
                    .or_else(|| delete.value().get().and_then(|r| r.err()))
                    .map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })
            }}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(items) if items.is_empty() => view! { <p class="empty">"No labels yet."</p> }.into_any(),
                        Ok(items) => view! {
                            <ul class="label-admin">
                                {items.into_iter().map(|l| {
                                    let name_id = format!("label-name-{}", l.id);
                                    let colour_id = format!("label-colour-{}", l.id);
                                    let name_label = format!("Name of {}", l.name);
                                    let colour_label = format!("Colour of {}", l.name);
                                    let delete_label = format!("Delete label {}", l.name);
                                    view! {
                                        <li>
                                            <span class="label-chip" data-colour=l.colour.clone()>{l.name.clone()}</span>
                                            <ActionForm action=save attr:class="inline">
                                                <input type="hidden" name="id" value=l.id/>
                                                <label for=name_id.clone() class="visually-hidden">{name_label}</label>
                                                <input id=name_id type="text" name="name" value=l.name.clone() required maxlength="40"/>
                                                <label for=colour_id.clone() class="visually-hidden">{colour_label}</label>
                                                {colour_select(colour_id, &l.colour)}
                                                <button type="submit">"Save"</button>
                                            </ActionForm>
                                            <ActionForm action=delete attr:class="inline">
                                                <input type="hidden" name="id" value=l.id/>
                                                <button type="submit" class="danger" aria-label=delete_label>"Delete"</button>
                                            </ActionForm>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=save node_ref=add_form attr:class="inline">
                <label for="new-label-name">"New label"</label>
                <input id="new-label-name" type="text" name="name" required maxlength="40"/>
                <label for="new-label-colour">"Colour"</label>
                {colour_select("new-label-colour".into(), "blue")}
                <button type="submit">"Add label"</button>
            </ActionForm>
        </section>
    }
}
