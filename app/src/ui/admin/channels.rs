//! The channel accounts section of the admin page: every account with its state and, for
//! mailboxes, the sync's progress (live), for messaging accounts the webhook URL, and the forms
//! that add or edit an email account or (`?add=<provider>`, `?edit_provider=<id>`, see
//! [`super::providers`]) a messaging provider account.
//! Works without JavaScript: the forms post to the server functions, which redirect back.
//!
//! Kept small for the wasm budget: one server function for the list and the form's data, the
//! form read field by field, a few shared helpers.

use super::form::{alert, forget_failures, form_buttons, form_results, FormState};
use super::providers::{add_links, copy_box, provider_form, ProviderActions};
use crate::api::channels::{channels_page, SaveEmailAccount, SetChannelEnabled, TestConnection};
use crate::api::delivery::RetryAccountFailed;
use crate::model::{ChannelRow, EmailForm};
use crate::ui::live::Live;
use crate::ui::widgets::{ChannelBadge, Time};
use leptos::html::Form;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Channels() -> impl IntoView {
    let live = expect_context::<Live>();
    let save = ServerAction::<SaveEmailAccount>::new();
    let test = ServerAction::<TestConnection>::new();
    let enable = ServerAction::<SetChannelEnabled>::new();
    let retry_all = ServerAction::<RetryAccountFailed>::new();
    let email_state = FormState {
        saving: save.pending(),
        testing: test.pending(),
        tested: test.value().into(),
        saved: save.value().into(),
    };
    let query = use_query_map();
    let editing = Memo::new(move |_| query.read().get("edit").and_then(|v| v.parse::<i64>().ok()));
    let form_el = NodeRef::<Form>::new();
    // The provider form asked for: `?add=<provider>` or `?edit_provider=<id>`.
    let target = Memo::new(move |_| {
        let q = query.read();
        let edit = q.get("edit_provider").and_then(|v| v.parse::<i64>().ok());
        (q.get("add"), edit)
    });
    let (pv, pv_saved) = ProviderActions::new(target);
    let no_js = pv.no_js;
    // Channel events (connection state, sync progress) and stream reconnects after one.
    let channel_events = live.channels;
    let saved = Memo::new(move |n: Option<&usize>| match save.value().get() {
        Some(Ok(_)) => save.version().get_untracked(),
        _ => n.copied().unwrap_or(0),
    });
    // Inputs keep what was typed when the form is drawn again; a reset shows the new values.
    // A different account in the form also clears results that were about the previous one.
    Effect::new(move |prev: Option<(Option<i64>, usize)>| {
        let now = (editing.get(), saved.get());
        if prev.is_some_and(|p| p != now) {
            if let Some(f) = form_el.get_untracked() {
                f.reset();
            }
        }
        if prev.is_some_and(|p| p.0 != now.0) {
            test.value().set(None);
            save.value().set(None);
        }
        now
    });
    // One answer for the list (which follows the live events) and the form's data.
    let page = Resource::new(
        move || {
            (
                editing.get(),
                target.get(),
                enable.version().get(),
                retry_all.version().get(),
                saved.get(),
                pv_saved.get(),
                channel_events.get(),
            )
        },
        |(edit, (add, edit_provider), ..)| channels_page(edit, add, edit_provider),
    );

    view! {
        <section aria-label="Channel accounts" id="channels">
            <h2>"Channel accounts"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => alert(e).into_any(),
                        Ok(p) => view! {
                            <table class="channels">
                                <thead><tr><th>"Name"</th><th>"Channel"</th><th>"Address"</th><th>"State"</th><th>"Mailbox"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>{p.rows.into_iter().map(|r| account_row(r, enable, retry_all, no_js)).collect_view()}</tbody>
                            </table>
                            {move || enable.value().get().and_then(|r| r.err()).map(alert)}
                            {move || retry_all.value().get().map(|r| match r {
                                Ok(n) => view! { <p class="notice" role="status">{format!("{n} failed message{} queued again.", if n == 1 { "" } else { "s" })}</p> }.into_any(),
                                Err(e) => alert(e).into_any(),
                            })}
                            {add_links()}
                            {p.provider.and_then(|f| provider_form(f, pv))}
                            {email_form(p.edit, p.imap_password_saved, p.smtp_password_saved, save, test, email_state, form_el)}
                        }
                        .into_any(),
                    }
                })}
            </Transition>
            {form_results(email_state)}
        </section>
    }
}

fn account_row(
    r: ChannelRow,
    enable: ServerAction<SetChannelEnabled>,
    retry_all: ServerAction<RetryAccountFailed>,
    no_js: Memo<bool>,
) -> impl IntoView {
    let (id, enabled) = (r.id, r.enabled);
    let health = r.delivery.clone();
    let delivery = (health.failing() || health.failed > 0).then(|| {
        let failing = health.failing().then(|| {
            let n = health.retrying;
            view! {
                <div class="banner warning" role="status" data-banner="provider-failing">
                    <strong>"The provider is failing: "</strong>
                    {format!("{n} message{} waiting to be retried", if n == 1 { "" } else { "s" })}
                    {health.next_attempt_at.map(|at| view! { ", next attempt at " <Time ms=at/> })}
                    {health.last_error.clone().map(|e| view! { <span class="detail">{format!(" (last error: {e})")}</span> })}
                </div>
            }
        });
        let failed = (health.failed > 0).then(|| {
            let n = health.failed;
            view! {
                <ActionForm action=retry_all attr:class="inline">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" data-action="retry-failed">{format!("Retry {n} failed message{}", if n == 1 { "" } else { "s" })}</button>
                </ActionForm>
            }
        });
        view! { {failing}{failed} }
    });
    // The mailbox column shows the sync's own words; do not repeat them here.
    let state = match r.state_detail.filter(|d| Some(d) != r.detail.as_ref()) {
        _ if !enabled => "Disabled".to_string(),
        Some(d) => format!("{}: {d}", r.state),
        None if r.state == "ok" => "Enabled".to_string(),
        None => r.state,
    };
    let email = r.provider == "email";
    let provider = r.webhook_url.is_some();
    // A mailbox's cell has the same elements whatever its state; only their text and `hidden`
    // change. The server may render a page more than once while the sync moves on, and the
    // browser must still be able to take over whichever HTML was sent.
    let mailbox = email.then(|| {
        let phase = r.phase.unwrap_or_else(|| "starting".into());
        let importing = phase == "importing";
        let (failed, succeeded) = (r.detail.is_some(), r.last_success_at.is_some());
        view! {
            <span class="phase" data-phase=phase.clone()>{phase.clone()}</span>
            <span class="progress" hidden=!importing>
                {format!("syncing {} of {}", r.done, r.total)}
                <progress max=r.total.max(1) value=r.done aria-label="Import progress"></progress>
            </span>
            <span class="detail" hidden=!failed>{r.detail.unwrap_or_else(|| "no error".into())}</span>
            <span class="hint" hidden=!succeeded>"Last success " <Time ms=r.last_success_at.unwrap_or(0)/></span>
        }
    });
    view! {
        <tr data-enabled=enabled.to_string()>
            <td>{r.name}</td>
            <td><ChannelBadge channel=r.channel/></td>
            <td>
                {r.address}
                {r.webhook_url.map(|u| view! { <div class="webhook-cell">{copy_box(None, "Webhook URL", u, no_js)}</div> })}
            </td>
            <td>{state}{delivery}</td>
            <td class="mailbox">{mailbox}</td>
            <td class="row-actions">
                {email.then(|| view! { <a href=format!("/admin?edit={id}#email-form")>"Edit"</a> })}
                {provider.then(|| view! { <a href=format!("/admin?edit_provider={id}#provider-form")>"Edit"</a> })}
                {(r.provider != "playground").then(|| view! {
                    <ActionForm action=enable attr:class="inline">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="enabled" value=(!enabled).to_string()/>
                        <button type="submit">{if enabled { "Disable" } else { "Enable" }}</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

/// A labelled form control named `key` (id `em-key`): an input of `kind`, or a select when
/// `options` are given. `flag` is `required`, or for a password input (always empty) whether a
/// password is saved.
fn field(
    label: &'static str,
    key: &'static str,
    kind: &'static str,
    value: String,
    flag: bool,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    let id = format!("em-{key}");
    let control = if !options.is_empty() {
        // The current choice comes first instead of carrying `selected`: redrawing the list
        // (live events) re-applies attributes, and a `selected` would undo what was picked.
        let current = options.iter().filter(|o| o.0 == value);
        let others = options.iter().filter(|o| o.0 != value);
        view! {
            <select id=id.clone() name=key>
                {current.chain(others).map(|&(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
            </select>
        }
        .into_any()
    } else if kind == "password" {
        view! {
            <input
                id=id.clone()
                name=key
                type="password"
                autocomplete="new-password"
                placeholder=flag.then_some("Password saved; blank keeps it")
                title=flag.then_some("A password is saved; leave this blank to keep it")
            />
        }
        .into_any()
    } else {
        let port = kind == "number";
        view! {
            <input id=id.clone() name=key type=kind value=value required=flag min=port.then_some("1") max=port.then_some("65535")/>
        }
        .into_any()
    };
    view! { <label for=id>{label}</label> {control} }
}

const NONE: &[(&str, &str)] = &[];
const TLS: &[(&str, &str)] = &[
    ("tls", "TLS"),
    ("starttls", "STARTTLS"),
    ("none", "None (local servers only)"),
];
const IMPORT: &[(&str, &str)] = &[("all", "All mail"), ("since", "Mail since a date")];

fn email_form(
    edit: Option<EmailForm>,
    imap_saved: bool,
    smtp_saved: bool,
    save: ServerAction<SaveEmailAccount>,
    test: ServerAction<TestConnection>,
    state: FormState,
    form_el: NodeRef<Form>,
) -> impl IntoView {
    let editing = edit.is_some();
    let f = edit.unwrap_or_else(|| EmailForm {
        imap_port: "993".into(),
        imap_tls: "tls".into(),
        imap_folder: "INBOX".into(),
        import: "all".into(),
        smtp_port: "587".into(),
        smtp_tls: "starttls".into(),
        ..Default::default()
    });
    // With JavaScript both buttons run in place; without, the form posts to the save server
    // function, or with the test button to the test one, and each redirects back here.
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        use wasm_bindgen::JsCast;
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        ev.prevent_default();
        // Read field by field: a generic form decoder would cost the bundle more.
        let Ok(d) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let get = |k: &str| d.get(k).as_string().unwrap_or_default();
        let form = EmailForm {
            id: get("id"),
            name: get("name"),
            address: get("address"),
            from_name: get("from_name"),
            imap_host: get("imap_host"),
            imap_port: get("imap_port"),
            imap_tls: get("imap_tls"),
            imap_user: get("imap_user"),
            imap_password: get("imap_password"),
            imap_folder: get("imap_folder"),
            import: get("import"),
            import_since: get("import_since"),
            smtp_host: get("smtp_host"),
            smtp_port: get("smtp_port"),
            smtp_tls: get("smtp_tls"),
            smtp_user: get("smtp_user"),
            smtp_password: get("smtp_password"),
        };
        if ev.submitter().is_some_and(|b| b.id() == "em-test") {
            test.dispatch(TestConnection { form });
        } else {
            save.dispatch(SaveEmailAccount { form });
        }
    };
    view! {
        <h3 id="email-form">{if editing { "Edit email account" } else { "Add email account" }}</h3>
        <form action="/api/admin/channels/email/save" method="post" class="email-form" node_ref=form_el on:submit=on_submit
            on:input=forget_failures(test, save) on:change=forget_failures(test, save)>
            {editing.then(|| view! { <input type="hidden" name="id" value=f.id/> })}
            <div class="grid-form">
                {field("Name", "name", "text", f.name, true, NONE)}
                {field("From address", "address", "email", f.address, true, NONE)}
                {field("From name", "from_name", "text", f.from_name, false, NONE)}
            </div>
            <div class="servers">
                <fieldset class="grid-form">
                    <legend>"Incoming mail (IMAP)"</legend>
                    {field("IMAP host", "imap_host", "text", f.imap_host, true, NONE)}
                    {field("IMAP port", "imap_port", "number", f.imap_port, true, NONE)}
                    {field("IMAP security", "imap_tls", "", f.imap_tls, false, TLS)}
                    {field("IMAP user", "imap_user", "text", f.imap_user, true, NONE)}
                    {field("IMAP password", "imap_password", "password", String::new(), imap_saved, NONE)}
                    {field("Folder", "imap_folder", "text", f.imap_folder, true, NONE)}
                    {field("First import", "import", "", f.import, false, IMPORT)}
                    {field("Import since", "import_since", "date", f.import_since, false, NONE)}
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Outgoing mail (SMTP)"</legend>
                    {field("SMTP host", "smtp_host", "text", f.smtp_host, true, NONE)}
                    {field("SMTP port", "smtp_port", "number", f.smtp_port, true, NONE)}
                    {field("SMTP security", "smtp_tls", "", f.smtp_tls, false, TLS)}
                    {field("SMTP user", "smtp_user", "text", f.smtp_user, false, NONE)}
                    {field("SMTP password", "smtp_password", "password", String::new(), smtp_saved, NONE)}
                </fieldset>
            </div>
            {form_buttons(state, "em-test", "/api/admin/channels/test", editing)}
        </form>
    }
}
