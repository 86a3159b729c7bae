use crate::api::conversation::{AddNote, SendReply};
use crate::domain::{window, ChannelKind};
use crate::model::ConversationDetail;
use crate::ui::err_text;
use leptos::prelude::*;

/// What the agent is writing, kept by the conversation view outside the data it re-fetches,
/// so a live update (a delivery report, a new message) redraws the form without losing it.
#[derive(Clone, Copy)]
pub struct Draft {
    pub body: RwSignal<String>,
    /// The chosen reply option's key, once the agent picked one.
    pub via: RwSignal<Option<String>>,
    pub note: RwSignal<String>,
}

impl Draft {
    pub fn new() -> Draft {
        Draft {
            body: RwSignal::new(String::new()),
            via: RwSignal::new(None),
            note: RwSignal::new(String::new()),
        }
    }
}

impl Default for Draft {
    fn default() -> Self {
        Draft::new()
    }
}

/// Characters, the channel's limit and, for SMS, the segments, as the agent types.
fn counter(channel: Option<ChannelKind>, text: &str) -> Option<(String, bool)> {
    let channel = channel?;
    let max = window::max_text_chars(channel)?;
    let n = text.chars().count();
    let mut s = format!("{n} / {max}");
    if channel == ChannelKind::Sms && n > 0 {
        let info = crate::domain::sms::analyze(text);
        s.push_str(&format!(
            " · {} segment{} ({})",
            info.segments,
            if info.segments == 1 { "" } else { "s" },
            match info.encoding {
                crate::domain::sms::Encoding::Gsm7 => "GSM-7",
                _ => "UCS-2",
            }
        ));
    }
    Some((s, n > max))
}

/// Reply form with the channel picker.
#[component]
pub fn Composer(
    detail: ConversationDetail,
    action: ServerAction<SendReply>,
    draft: Draft,
) -> impl IntoView {
    let body = draft.body;
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            body.set(String::new());
        }
    });
    let none = detail.reply_options.is_empty();
    let default = draft
        .via
        .get_untracked()
        .filter(|k| detail.reply_options.iter().any(|o| &o.key() == k))
        .or(detail.default_reply.clone());
    // The closures below read only signals the conversation view owns (the draft), never one
    // created here: a live update disposes this component while a send's effects may still run.
    let options = std::sync::Arc::new(detail.reply_options.clone());
    let option = {
        let (options, fallback) = (options.clone(), detail.default_reply.clone());
        move || {
            let key = draft
                .via
                .get()
                .filter(|k| options.iter().any(|o| &o.key() == k))
                .or_else(|| fallback.clone());
            options.iter().find(|o| Some(o.key()) == key).cloned()
        }
    };
    let blocked = {
        let option = option.clone();
        move || option().and_then(|o| o.unavailable)
    };
    let notice = {
        let option = option.clone();
        move || option().and_then(|o| o.notice)
    };
    let count = move || counter(option().map(|o| o.channel), &body.get());
    let (blocked_send, count_send) = (blocked.clone(), count.clone());
    let email_options: Vec<_> = detail
        .reply_options
        .iter()
        .filter(|o| o.channel == crate::domain::ChannelKind::Email)
        .map(|o| (o.key(), o.label.clone()))
        .collect();
    let files_form = (!email_options.is_empty()).then(|| {
        view! {
            <details class="attach">
                <summary>"Send by email with files…"</summary>
                <form
                    method="post"
                    action=format!("/conversations/{}/reply-with-files", detail.id)
                    enctype="multipart/form-data"
                    class="composer files"
                >
                    <div class="row">
                        <label for="files-via">"Send files via"</label>
                        <select id="files-via" name="via">
                            {email_options
                                .into_iter()
                                .map(|(k, l)| view! { <option value=k>{l}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <label for="files-body">"Message with files"</label>
                    <textarea id="files-body" name="body" rows="2"></textarea>
                    <div class="row end">
                        <label for="files-input" class="visually-hidden">"Files"</label>
                        <input id="files-input" type="file" name="files" multiple/>
                        <button type="submit">"Send with files"</button>
                    </div>
                </form>
            </details>
        }
    });
    view! {
        {files_form}
        <ActionForm action attr:class="composer">
            <input type="hidden" name="id" value=detail.id/>
            <div class="row">
                <label for="reply-via">"Reply via"</label>
                <select
                    id="reply-via"
                    name="via"
                    disabled=none
                    on:change=move |ev| draft.via.set(Some(event_target_value(&ev)))
                >
                    {detail
                        .reply_options
                        .iter()
                        .map(|o| {
                            let key = o.key();
                            let selected = default.as_deref() == Some(key.as_str());
                            let label = match &o.unavailable {
                                Some(_) => format!("{} — unavailable", o.label),
                                None => o.label.clone(),
                            };
                            view! { <option value=key selected=selected data-channel=o.channel.as_str()>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            {none.then(|| view! { <p class="hint">"This customer has no identifier a channel account can reach."</p> })}
            {move || blocked().map(|why| view! { <p class="notice blocked" role="status">{why}</p> })}
            {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <label for="reply-body" class="visually-hidden">"Message"</label>
            <textarea
                id="reply-body"
                name="body"
                rows="3"
                placeholder="Write a reply…"
                prop:value=body
                on:input=move |ev| body.set(event_target_value(&ev))
            ></textarea>
            <div class="row end">
                {move || count().map(|(text, over)| view! { <span class="counter" class:over=over aria-live="polite">{text}</span> })}
                {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                <button type="submit" class="primary" disabled=move || none || blocked_send().is_some() || count_send().is_some_and(|c| c.1) || action.pending().get()>"Send"</button>
            </div>
        </ActionForm>
    }
}

/// Private note form: notes are shown to staff only.
#[component]
pub fn NoteForm(id: i64, action: ServerAction<AddNote>, draft: Draft) -> impl IntoView {
    let body = draft.note;
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            body.set(String::new());
        }
    });
    view! {
        <ActionForm action attr:class="note-form">
            <input type="hidden" name="id" value=id/>
            <label for="note-body" class="visually-hidden">"Private note"</label>
            <textarea
                id="note-body"
                name="body"
                rows="2"
                placeholder="Private note (only staff see it)"
                prop:value=body
                on:input=move |ev| body.set(event_target_value(&ev))
            ></textarea>
            <div class="row end">
                {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                <button type="submit">"Add note"</button>
            </div>
        </ActionForm>
    }
}
