//! Canned responses (`/canned`, everyone who replies): the responses the agent sees, each
//! with its edit and delete forms when they may change it (their own; the shared ones for
//! admins), and a form to add one. A separate wasm chunk. Works without JavaScript (each form
//! posts and comes back, errors in words).

use super::{err_text, forget_error, no_access, Authed, CurrentUser};
use crate::api::canned::{list_canned, DeleteCanned, SaveCanned};
use crate::domain::canned::{MAX_BODY_CHARS, MAX_SHORTCUT_CHARS, MAX_TITLE_CHARS, PLACEHOLDERS};
use crate::domain::{Permission, Role};
use crate::model::CannedResponse;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};

pub struct CannedRoute;

#[lazy_route]
impl LazyRoute for CannedRoute {
    fn data() -> Self {
        CannedRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Authed><CannedPage/></Authed> }.into_any()
    }
}

#[component]
fn CannedPage() -> impl IntoView {
    if !expect_context::<CurrentUser>().can(Permission::Reply) {
        return no_access("Canned responses");
    }
    view! {
        <Title text="Canned responses · Convergence"/>
        <main class="canned-page" id="main">
            <h1>"Canned responses"</h1>
            <p class="hint">
                "In a reply, type / and a shortcut (such as /thanks) to insert a response. "
                "Placeholders are filled in for the conversation: "
                <span class="placeholders">{placeholder_list()}</span>
            </p>
            <CannedResponses/>
        </main>
    }
    .into_any()
}

fn placeholder_list() -> String {
    PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{{{p}}}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fields a response is written with, labelled; `prefix` keeps their ids apart.
fn fields(prefix: String, r: Option<&CannedResponse>) -> impl IntoView {
    let (shortcut, title, body) = match r {
        Some(r) => (r.shortcut.clone(), r.title.clone(), r.body.clone()),
        None => Default::default(),
    };
    let ids = ["shortcut", "title", "body", "shortcut-hint", "body-hint"]
        .map(|f| format!("{prefix}-{f}"));
    let [shortcut_id, title_id, body_id, shortcut_hint, body_hint] = ids;
    view! {
        <label for=shortcut_id.clone()>"Shortcut"</label>
        <input id=shortcut_id type="text" name="shortcut" value=shortcut required autocomplete="off"
            spellcheck="false" maxlength=(MAX_SHORTCUT_CHARS + 1).to_string() aria-describedby=shortcut_hint.clone()/>
        <p id=shortcut_hint class="hint">"Letters a to z, digits, - and _; typed after / in a reply."</p>
        <label for=title_id.clone()>"Title"</label>
        <input id=title_id type="text" name="title" value=title required maxlength=MAX_TITLE_CHARS.to_string()/>
        <label for=body_id.clone()>"Text"</label>
        <textarea id=body_id name="body" rows="5" required maxlength=MAX_BODY_CHARS.to_string()
            aria-describedby=body_hint.clone()>{body}</textarea>
        <p id=body_hint class="hint">{format!("At most 5,000 characters. Placeholders: {}.", placeholder_list())}</p>
    }
}

/// The responses the agent sees, with their forms, and the form to add one.
#[component]
pub fn CannedResponses() -> impl IntoView {
    let user = expect_context::<CurrentUser>();
    let admin = user.0.role == Role::Admin;
    let save = ServerAction::<SaveCanned>::new();
    let delete = ServerAction::<DeleteCanned>::new();
    let list = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_canned(),
    );
    // The last form sent was the add form: its outcome is shown there (without JavaScript,
    // above the list).
    let adding = RwSignal::new(false);
    let add_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            if let Some(f) = add_form.get_untracked().filter(|_| adding.get_untracked()) {
                f.reset();
            }
        }
    });
    let forget = forget_error(save);
    let error = move |here: bool| {
        (adding.get() == here)
            .then(|| {
                save.value()
                    .get()
                    .and_then(|r| r.err())
                    .or_else(|| delete.value().get().and_then(|r| r.err()))
            })
            .flatten()
            .map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })
    };
    view! {
        <section aria-labelledby="canned-heading" class="canned">
            <h2 id="canned-heading">"Responses"</h2>
            {move || error(false)}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(items) if items.is_empty() => view! { <p class="empty">"No canned responses yet."</p> }.into_any(),
                        Ok(items) => view! {
                            <ul class="canned-list">
                                {items.into_iter().map(|r| item(r, admin, save, delete, adding)).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section aria-labelledby="canned-add-heading" class="canned">
            <h2 id="canned-add-heading">"Add a response"</h2>
            {move || error(true)}
            <ActionForm action=save node_ref=add_form attr:class="canned-form" on:input=forget on:change=forget
                on:submit=move |_| adding.set(true)>
                {fields("canned-new".into(), None)}
                {admin.then(|| view! {
                    <label class="check" for="canned-new-shared">
                        <input id="canned-new-shared" type="checkbox" name="shared" value="on"/>
                        " Shared with everyone"
                    </label>
                })}
                <button type="submit" class="primary">"Add response"</button>
            </ActionForm>
        </section>
    }
}

/// One response: what it says, and its forms when the agent may change it.
fn item(
    r: CannedResponse,
    admin: bool,
    save: ServerAction<SaveCanned>,
    delete: ServerAction<DeleteCanned>,
    adding: RwSignal<bool>,
) -> impl IntoView {
    let elsewhere = move |_| adding.set(false);
    let editable = r.mine || (r.shared && admin);
    let name = format!("/{}", r.shortcut);
    let forms = editable.then(|| {
        let edit_label = format!("Edit {name}");
        let delete_label = format!("Delete {name}");
        let (id, inputs) = (r.id, fields(format!("canned-{}", r.id), Some(&r)));
        view! {
            <details class="canned-edit">
                <summary aria-label=edit_label>"Edit"</summary>
                <ActionForm action=save attr:class="canned-form" on:submit=elsewhere>
                    <input type="hidden" name="id" value=id/>
                    {inputs}
                    <button type="submit">"Save"</button>
                </ActionForm>
            </details>
            <ActionForm action=delete attr:class="inline" on:submit=elsewhere>
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="danger" aria-label=delete_label>"Delete"</button>
            </ActionForm>
        }
    });
    view! {
        <li data-shortcut=r.shortcut.clone()>
            <div class="canned-head">
                <code class="shortcut">{name}</code>
                " "
                <strong class="title">{r.title.clone()}</strong>
                {r.shared.then(|| view! { " " <span class="badge shared">"Shared"</span> })}
            </div>
            <p class="canned-body">{r.body.clone()}</p>
            {forms}
        </li>
    }
}
