//! Messaging provider accounts in the admin page: the "Add an account" links, one generic form
//! drawn from [`crate::domain::providers`] for every provider, and read-only values with a Copy
//! button (webhook URL, verify token). Works without JavaScript: the form posts to the save
//! server function, which redirects to the account's form; the values can be selected by hand.

use super::form::{forget_failures, form_buttons, form_results, FormState};
use crate::api::providers::{SaveProviderAccount, TestProviderConnection};
use crate::domain::providers::{self, FieldKind, FieldSpec};
use crate::model::{ProviderForm, ProviderFormView};
use leptos::either::EitherOf3;
use leptos::html::{Form, Input};
use leptos::prelude::*;

/// What the provider form shares with the channel section around it.
#[derive(Clone, Copy)]
pub struct ProviderActions {
    pub save: ServerAction<SaveProviderAccount>,
    pub test: ServerAction<TestProviderConnection>,
    pub form_el: NodeRef<Form>,
    pub state: FormState,
    /// True until the page runs its JavaScript: Copy buttons are hidden until then.
    pub no_js: Memo<bool>,
}

/// The provider form the page's URL asks for: (`add`, `edit_provider`).
pub type Target = (Option<String>, Option<i64>);

impl ProviderActions {
    /// The actions for the form of `target`, and the number of successful saves. Inputs keep
    /// what was typed when the form is drawn again, so another account in the form or a save
    /// resets it; another account also clears the results, except the "Saved." of the account
    /// a save redirected to.
    pub fn new(target: Memo<Target>) -> (ProviderActions, Memo<usize>) {
        let (js, set_js) = signal(false);
        // Effects run only in the browser: the page's JavaScript is running.
        Effect::new(move |_| set_js.set(true));
        let no_js = Memo::new(move |_| !js.get());
        let (save, test) = (ServerAction::new(), ServerAction::new());
        let a = ProviderActions {
            save,
            test,
            form_el: NodeRef::new(),
            state: FormState {
                saving: save.pending(),
                testing: test.pending(),
                tested: test.value().into(),
                saved: save.value().into(),
            },
            no_js,
        };
        let saved = Memo::new(move |n: Option<&usize>| match a.state.saved.get() {
            Some(Ok(_)) => a.save.version().get_untracked(),
            _ => n.copied().unwrap_or(0),
        });
        Effect::new(move |prev: Option<(Target, usize)>| {
            let now = (target.get(), saved.get());
            if prev.as_ref().is_some_and(|p| *p != now) {
                if let Some(f) = a.form_el.get_untracked() {
                    f.reset();
                }
            }
            if prev.as_ref().is_some_and(|p| p.0 != now.0) {
                a.test.value().set(None);
                let edited = now.0 .1;
                let just_saved =
                    matches!(a.state.saved.get_untracked(), Some(Ok(id)) if edited == Some(id));
                if !just_saved {
                    a.save.value().set(None);
                }
            }
            now
        });
        (a, saved)
    }
}

/// A link to the form of each kind of account.
pub fn add_links() -> impl IntoView {
    view! {
        <nav class="add-account" aria-label="Add an account">
            <span>"Add an account:"</span>
            <a href="/admin#email-form">"Email (IMAP/SMTP)"</a>
            {providers::ALL
                .iter()
                .map(|p| view! { <a href=format!("/admin?add={}#provider-form", p.id)>{p.label}</a> })
                .collect_view()}
        </nav>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `navigator.clipboard.writeText`; throws where the page has no clipboard access.
    #[wasm_bindgen(catch, js_namespace = ["navigator", "clipboard"], js_name = writeText)]
    fn write_text(text: &str) -> Result<web_sys::js_sys::Promise, wasm_bindgen::JsValue>;
}

const COPY_FAILED: &str = "Copy failed: select the text and copy it.";

/// Copies `text` and says in `done` whether it worked.
fn copy(text: &str, done: RwSignal<&'static str>) {
    use wasm_bindgen::prelude::{Closure, JsValue};
    let Ok(promise) = write_text(text) else {
        done.set(COPY_FAILED);
        return;
    };
    let ok = Closure::once(move |_: JsValue| done.set("Copied."));
    let failed = Closure::once(move |_: JsValue| done.set(COPY_FAILED));
    let _ = promise.then2(&ok, &failed);
    // Each runs at most once, after this returns; a click's worth of memory.
    ok.forget();
    failed.forget();
}

/// A read-only value named `label` with a Copy button (hidden until JavaScript runs; without
/// it the value is selected by hand). `id` lets a visible `<label>` point at it.
pub fn copy_box(
    id: Option<String>,
    label: &'static str,
    value: String,
    no_js: Memo<bool>,
) -> impl IntoView {
    let done = RwSignal::new("");
    let input = NodeRef::<Input>::new();
    let text = value.clone();
    let on_copy = move |_| {
        if let Some(i) = input.get_untracked() {
            i.select();
        }
        copy(&text, done);
    };
    view! {
            <span class="copy-box">
                <input id=id type="text" readonly value=value aria-label=label node_ref=input/>
                <button type="button" hidden=no_js aria-label=format!("Copy {label}") on:click=on_copy>"Copy"</button>
                <span class="copied" role="status">
    {done}
                </span>
            </span>
        }
}

/// A refusal of the form, if the last save or test was refused, with the field it is about.
type Refusal = Signal<Option<(Option<&'static str>, String)>>;

/// The refusal's words when they are about the field `key`, shown next to it.
fn field_error(refusal: Refusal, key: &'static str, id: &str) -> impl IntoView {
    let words = move || {
        refusal
            .try_get()
            .flatten()
            .filter(|(k, _)| *k == Some(key))
            .map(|(_, w)| w)
    };
    view! { <small id=format!("{id}-error") class="field-error">{words}</small> }
}

/// One labelled control for `f` (id `pv-<key>`), its help text and any refusal about it bound
/// by aria-describedby. A value of a set form carries the `pattern` the browser checks before
/// posting, saying what it must look like next to the field.
fn field(f: &'static FieldSpec, value: String, saved: bool, refusal: Refusal) -> impl IntoView {
    let id = format!("pv-{}", f.key);
    let help_id = format!("{id}-help");
    let described = format!("{help_id} {id}-error");
    let key = f.key;
    let invalid = move || {
        refusal
            .try_get()
            .flatten()
            .is_some_and(|(k, _)| k == Some(key))
            .then_some("true")
    };
    let (pattern, shape) = f.pattern().unzip();
    let title = shape.map(|s| format!("{}: {s}.", f.label));
    let secret = f.kind == FieldKind::Secret;
    // Generated values and saved secrets may be left blank.
    let required = f.required && !f.generated() && !(secret && saved);
    let note = if secret && saved {
        "Saved — leave blank to keep. "
    } else if f.generated() {
        "Leave blank to generate one. "
    } else {
        ""
    };
    let error = field_error(refusal, key, &id);
    let control = match f.kind {
        FieldKind::Multiline => {
            // The text (for the page without JavaScript) and the property (a redrawn form shows
            // the saved value, not what the textarea held before).
            let text = value.clone();
            EitherOf3::A(view! {
                <textarea id=id.clone() name=f.key rows="3" required=required aria-describedby=described aria-invalid=invalid prop:value=value>{text}</textarea>
            })
        }
        FieldKind::Choice(words) => {
            let chosen = if words.contains(&value.as_str()) {
                value
            } else {
                f.default.to_string()
            };
            let options = words
                .iter()
                .map(|w| view! { <option value=*w selected=chosen == *w>{*w}</option> })
                .collect_view();
            EitherOf3::B(view! {
                <select id=id.clone() name=f.key aria-describedby=described aria-invalid=invalid>{options}</select>
            })
        }
        kind => {
            let ty = match kind {
                FieldKind::Secret => "password",
                FieldKind::Url => "url",
                FieldKind::Phone => "tel",
                _ => "text",
            };
            EitherOf3::C(view! {
                <input
                    id=id.clone()
                    name=f.key
                    type=ty
                    value=(!secret).then_some(value)
                    required=required
                    maxlength=(kind == FieldKind::Region).then_some("2")
                    pattern=pattern
                    title=title
                    autocomplete=if secret { "new-password" } else { "off" }
                    placeholder=(secret && saved).then_some("Saved — leave blank to keep")
                    aria-describedby=described
                    aria-invalid=invalid
                />
            })
        }
    };
    view! {
        <label for=id class:required=required>{f.label}</label>
        <span class="control">
            {control}
            <small id=help_id class="hint">{note}{f.help}</small>
            {error}
        </span>
    }
}

/// The form of a provider account: a new one (`p.id` None) or a saved one, whose webhook URL
/// is shown ready to copy with the place it goes in the provider's console.
pub fn provider_form(p: ProviderFormView, a: ProviderActions) -> Option<impl IntoView> {
    let spec = providers::by_id(&p.provider)?;
    let ProviderActions {
        save,
        test,
        form_el,
        state,
        no_js,
    } = a;
    let editing = p.id.is_some();
    let chat = spec.channel == crate::domain::ChannelKind::Chat;
    let title = format!(
        "{} account: {}",
        if editing { "Edit" } else { "Add" },
        spec.label
    );
    // With JavaScript both buttons run in place; without, the form posts to the save server
    // function, or with the test button to the test one, and each redirects back here.
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        use wasm_bindgen::JsCast;
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        ev.prevent_default();
        let Ok(d) = web_sys::FormData::new_with_form(&el) else {
            return;
        };
        let get = |k: &str| d.get(k).as_string().unwrap_or_default();
        let form = ProviderForm {
            id: get("id"),
            provider: spec.id.into(),
            name: get("name"),
            values: spec
                .fields
                .iter()
                .map(|f| (f.key.to_string(), get(f.key)))
                .collect(),
        };
        if ev.submitter().is_some_and(|b| b.id() == "pv-test") {
            test.dispatch(TestProviderConnection { form });
        } else {
            save.dispatch(SaveProviderAccount { form });
        }
    };
    // The last refusal of a save (else of a test), placed at the field its words are about.
    let refusal: Refusal = Signal::derive(move || {
        let failed = |r: Option<Result<_, ServerFnError>>| r.and_then(|r| r.err());
        let e = failed(state.saved.try_get().flatten()).or_else(|| {
            match state.tested.try_get().flatten() {
                Some(Err(e)) => Some(e),
                _ => None,
            }
        })?;
        let words = crate::ui::err_text(&e);
        Some((spec.field_of_error(&words), words))
    });
    let (saved, mut values) = (p.saved, p.values);
    let fields = spec
        .fields
        .iter()
        .map(|f| {
            let v = values.remove(f.key).unwrap_or_default();
            field(f, v, saved.iter().any(|k| k == f.key), refusal)
        })
        .collect_view();
    let name_invalid = move || {
        refusal
            .try_get()
            .flatten()
            .is_some_and(|(k, _)| k == Some("name"))
            .then_some("true")
    };
    // (id, label, value, note): the same row for each, so one view type in the bundle.
    let copies: Vec<(&str, &'static str, String, &str)> = [
        ("pv-webhook", "Webhook URL", p.webhook_url, ""),
        (
            "pv-status",
            "Status callback URL",
            p.status_url,
            "Sent with each message; nothing to paste.",
        ),
        ("pv-verify", "Verify token", p.verify_token, ""),
        (
            "pv-snippet",
            "Embed code",
            p.snippet,
            "Loads the chat from this server; it opens only on the allowed websites.",
        ),
    ]
    .into_iter()
    .filter_map(|(id, label, v, note)| Some((id, label, v?, note)))
    .collect();
    let rows = copies
        .into_iter()
        .map(|(id, label, value, note)| {
            view! {
                <label for=id>{label}</label>
                <span class="control">
                    {copy_box(Some(id.to_string()), label, value, no_js)}
                    <small class="hint">{note}</small>
                </span>
            }
        })
        .collect_view();
    Some(view! {
        <h3 id="provider-form">{title}</h3>
        <form action="/api/admin/channels/provider/save" method="post" class="provider-form" aria-labelledby="provider-form" node_ref=form_el on:submit=on_submit
            on:input=forget_failures(test, save) on:change=forget_failures(test, save)>
            <input type="hidden" name="provider" value=spec.id/>
            {p.id.map(|id| view! { <input type="hidden" name="id" value=id/> })}
            <p class="hint">"Fields marked * are required."</p>
            <div class="grid-form">
                <label for="pv-name" class="required">"Name"</label>
                <span class="control">
                    <input id="pv-name" name="name" value=p.name required aria-describedby="pv-name-error" aria-invalid=name_invalid/>
                    {field_error(refusal, "name", "pv-name")}
                </span>
                {fields}
            </div>
            <fieldset class="webhook">
                <legend>{if chat { "Embed code" } else { "Webhook" }}</legend>
                <p class="hint">{(!chat).then_some("In the provider's console: ")} {spec.console_hint}</p>
                {(!editing).then(|| view! { <p class="hint">{if chat { "The embed code appears here once the chat is saved." } else { "The webhook URL appears here once the account is saved." }}</p> })}
                <div class="grid-form">{rows}</div>
            </fieldset>
            {form_buttons(state, "pv-test", "/api/admin/channels/provider/test", true)}
            {form_results(state)}
        </form>
    })
}
