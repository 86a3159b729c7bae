use crate::api::conversation::{AddNote, SendReply};
use crate::model::ConversationDetail;
use crate::ui::err_text;
use leptos::prelude::*;

/// Reply form with the channel picker.
#[component]
pub fn Composer(detail: ConversationDetail, action: ServerAction<SendReply>) -> impl IntoView {
    let body = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            body.set(String::new());
        }
    });
    let none = detail.reply_options.is_empty();
    let default = detail.default_reply.clone();
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
                <select id="reply-via" name="via" disabled=none>
                    {detail
                        .reply_options
                        .iter()
                        .map(|o| {
                            let key = o.key();
                            let selected = default.as_deref() == Some(key.as_str());
                            view! { <option value=key selected=selected data-channel=o.channel.as_str()>{o.label.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            {none.then(|| view! { <p class="hint">"This customer has no identifier a channel account can reach."</p> })}
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
                {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                <button type="submit" class="primary" disabled=move || none || action.pending().get()>"Send"</button>
            </div>
        </ActionForm>
    }
}

/// Private note form: notes are shown to staff only.
#[component]
pub fn NoteForm(id: i64, action: ServerAction<AddNote>) -> impl IntoView {
    let body = RwSignal::new(String::new());
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
