//! What the admin forms share: a result shown next to what caused it, and the Save / Test
//! connection buttons and their results (one copy of these views in the bundle for the email
//! and the provider forms).

use crate::ui::err_text;
use leptos::prelude::*;

/// A result next to what caused it: a status, or an alert when something failed.
pub(super) fn message(ok: bool, text: String) -> impl IntoView {
    view! { <p class=if ok { "ok" } else { "error" } role=if ok { "status" } else { "alert" }>{text}</p> }
}

pub(super) fn alert(e: ServerFnError) -> impl IntoView {
    message(false, err_text(&e))
}

type Tested = Option<Result<Result<String, String>, ServerFnError>>;
type Saved = Option<Result<i64, ServerFnError>>;

/// What a form's buttons and results read of its save and test actions. Made once, in the
/// component: `pending()` and `value()` create signals owned by the caller, and ones made
/// while drawing the list would be disposed with it when live events redraw it.
#[derive(Clone, Copy)]
pub(super) struct FormState {
    pub saving: Memo<bool>,
    pub testing: Memo<bool>,
    pub tested: Signal<Tested>,
    pub saved: Signal<Saved>,
}

/// Once a field of the form changes, a failed connection test's or save's words are about
/// other input: they go (the form's `on:input` and `on:change`).
pub(super) fn forget_failures<T, S>(
    test: ServerAction<T>,
    save: ServerAction<S>,
) -> impl Fn(leptos::ev::Event) + Copy
where
    T: leptos::server_fn::ServerFn<Output = Result<String, String>> + Clone + Send + Sync + 'static,
    T::Error: Send + Sync + 'static,
    S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    move |_| {
        if test
            .value()
            .with_untracked(|v| matches!(v, Some(Err(_)) | Some(Ok(Err(_)))))
        {
            test.clear();
        }
        if save.value().with_untracked(|v| matches!(v, Some(Err(_)))) {
            save.clear();
        }
    }
}

/// What a form's connection test and save answered. Shared by the email and provider forms
/// (one copy of this view in the bundle).
pub(super) fn form_results(f: FormState) -> impl IntoView {
    let FormState { tested, saved, .. } = f;
    view! {
        <div class="form-result">
            {move || tested.get().map(|r| match r {
                Ok(Ok(words)) => message(true, format!("Connection works: {words}")),
                Ok(Err(words)) => message(false, format!("Connection failed: {words}")),
                Err(e) => message(false, err_text(&e)),
            })}
            {move || saved.get().map(|r| match r {
                Ok(_) => message(true, "Saved.".into()),
                Err(e) => message(false, err_text(&e)),
            })}
        </div>
    }
}

/// A form's Save and Test connection buttons (the test posts to `test_url`, and with
/// JavaScript is told apart by `test_id`), and a Cancel link back to the list.
pub(super) fn form_buttons(
    f: FormState,
    test_id: &'static str,
    test_url: &'static str,
    cancel: bool,
) -> impl IntoView {
    let FormState {
        saving, testing, ..
    } = f;
    view! {
        <div class="row">
            <button type="submit" class="primary" disabled=saving>"Save"</button>
            <button type="submit" id=test_id formaction=test_url disabled=testing>
                {move || if testing.get() { "Testing…" } else { "Test connection" }}
            </button>
            {cancel.then(|| view! { <a href="/admin#channels">"Cancel"</a> })}
        </div>
    }
}
