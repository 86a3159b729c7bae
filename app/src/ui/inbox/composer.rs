use crate::api::conversation::{AddNote, SendReply};
use crate::domain::sms::{self, Encoding};
use crate::domain::{convert, sms_fix, window, ChannelKind};
use crate::model::{ConversationDetail, ReplyOption};
use crate::ui::err_text;
use leptos::prelude::*;
use std::sync::Arc;

/// What the agent is writing, kept by the conversation view outside the data it re-fetches,
/// so a live update (a delivery report, a new message) redraws the form without losing it.
#[derive(Clone, Copy)]
pub struct Draft {
    pub body: RwSignal<String>,
    /// The chosen reply option's key, once the agent picked one.
    pub via: RwSignal<Option<String>>,
    pub note: RwSignal<String>,
    /// The channel the reply was being written for when its first character was typed: a
    /// draft sent on another channel is shown converted and must be confirmed.
    pub written_for: RwSignal<Option<ChannelKind>>,
    /// The agent ticked "Send as converted".
    pub converted_ok: RwSignal<bool>,
    /// "Move conversation to…": the chosen target's key, once picked.
    pub move_to: RwSignal<Option<String>>,
    /// The handoff text, once the agent edited it (until then the standard words).
    pub handoff: RwSignal<Option<String>>,
}

impl Draft {
    pub fn new() -> Draft {
        Draft {
            body: RwSignal::new(String::new()),
            via: RwSignal::new(None),
            note: RwSignal::new(String::new()),
            written_for: RwSignal::new(None),
            converted_ok: RwSignal::new(false),
            move_to: RwSignal::new(None),
            handoff: RwSignal::new(None),
        }
    }

    /// After a reply was queued.
    pub fn reply_sent(&self) {
        self.body.set(String::new());
        self.written_for.set(None);
        self.converted_ok.set(false);
    }

    /// After the conversation was moved: replies follow it to the new default.
    pub fn moved(&self) {
        self.via.set(None);
        self.move_to.set(None);
        self.handoff.set(None);
        self.converted_ok.set(false);
    }
}

impl Default for Draft {
    fn default() -> Self {
        Draft::new()
    }
}

/// Characters against the channel's limit and, for SMS, the segments, as the agent types.
fn counter(channel: Option<ChannelKind>, text: &str) -> Option<(String, bool)> {
    let channel = channel?;
    let max = window::max_text_chars(channel)?;
    let n = text.chars().count();
    let mut s = format!("{n} / {max} characters ({} limit)", channel.label());
    if channel == ChannelKind::Sms && n > 0 {
        let info = sms::analyze(text);
        s.push_str(&format!(
            " · {} segment{} ({})",
            info.segments,
            if info.segments == 1 { "" } else { "s" },
            match info.encoding {
                Encoding::Gsm7 => "GSM-7",
                Encoding::Ucs2 => "UCS-2",
            }
        ));
    }
    Some((s, n > max))
}

/// How an option reads in the picker: unavailable ones with their reason.
fn option_text(o: &ReplyOption) -> String {
    match &o.unavailable {
        Some(why) => format!("{} — {why}", o.label),
        None if o.moved_here => format!("{} (conversation moved here)", o.label),
        None => o.label.clone(),
    }
}

/// The characters that forced UCS-2, each with its one-click replacement.
fn ucs2_fixes(draft: Draft, text: &str) -> Option<AnyView> {
    let offenders = sms_fix::offenders(text);
    if offenders.is_empty() {
        return None;
    }
    let body = draft.body;
    let several = sms_fix::fixable(&offenders) > 1;
    let items = offenders
        .into_iter()
        .map(|o| {
            let shown = o.shown();
            let times = if o.count > 1 { format!(" ×{}", o.count) } else { String::new() };
            let button = o.replacement.map(|r| {
                let c = o.ch;
                let words = if r.is_empty() {
                    format!("Remove {shown}")
                } else {
                    format!("Replace {shown} with {r}")
                };
                view! {
                    <button type="button" class="small" on:click=move |_| body.update(|b| *b = sms_fix::apply(b, c))>
                        {words}
                    </button>
                }
            });
            let none = o.replacement.is_none().then(|| view! { <span class="hint">"no GSM-7 equivalent"</span> });
            view! { <li><code class="char">{shown}</code>{times}" "{button}{none}</li> }
        })
        .collect_view();
    let all = several.then(|| {
        view! {
            <button type="button" class="small" on:click=move |_| body.update(|b| *b = sms::replace_lookalikes(b))>
                "Replace all"
            </button>
        }
    });
    Some(
        view! {
            <div class="ucs2" role="group" aria-label="Characters that force UCS-2">
                <p>"These characters make the SMS use UCS-2 (70 characters per segment instead of 160):"</p>
                <ul>{items}</ul>
                {all}
            </div>
        }
        .into_any(),
    )
}

/// What the customer receives on the chosen channel, converted; marked when the draft was
/// written for another channel.
fn preview(channel: ChannelKind, text: &str, from: Option<ChannelKind>) -> AnyView {
    let c = convert::for_channel(channel, text);
    let heading = match from {
        Some(f) => format!(
            "Converted from {} — what the customer receives on {}",
            f.label(),
            channel.label()
        ),
        None => format!("Preview: what the customer receives on {}", channel.label()),
    };
    let content = match c.html {
        Some(html) => view! { <div class="preview-html" inner_html=html></div> }.into_any(),
        None => view! { <pre class="preview-text">{c.text}</pre> }.into_any(),
    };
    let notes = (!c.notes.is_empty()).then(|| {
        view! { <ul class="notes">{c.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul> }
    });
    view! {
        <section class="preview" class:converted=from.is_some() aria-label="Preview">
            <h3>{heading}</h3>
            {content}
            {notes}
        </section>
    }
    .into_any()
}

/// Reply form with the channel picker, the live counter, the UCS-2 fixes and the preview.
#[component]
pub fn Composer(
    detail: ConversationDetail,
    action: ServerAction<SendReply>,
    draft: Draft,
) -> impl IntoView {
    let body = draft.body;
    let none = detail.reply_options.is_empty();
    let default = draft
        .via
        .get_untracked()
        .filter(|k| detail.reply_options.iter().any(|o| &o.key() == k))
        .or(detail.default_reply.clone());
    // The closures below read only signals the conversation view owns (the draft), never one
    // created here: a live update disposes this component while a send's effects may still run.
    let options = Arc::new(detail.reply_options.clone());
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
    let channel = {
        let option = option.clone();
        move || option().map(|o| o.channel)
    };
    let blocked = {
        let option = option.clone();
        move || option().and_then(|o| o.unavailable)
    };
    let notice = {
        let option = option.clone();
        move || option().and_then(|o| o.notice)
    };
    // The draft was started for another channel than the one it will go out on.
    let switched = {
        let channel = channel.clone();
        move || {
            let from = draft.written_for.get()?;
            let to = channel()?;
            (from != to && !body.with(|b| b.trim().is_empty())).then_some(from)
        }
    };
    let count = {
        let channel = channel.clone();
        move || counter(channel(), &body.get())
    };
    let (blocked_send, count_send, switched_send) =
        (blocked.clone(), count.clone(), switched.clone());
    let file_options: Vec<_> = detail
        .reply_options
        .iter()
        .filter(|o| o.unavailable.is_none())
        .map(|o| (o.key(), o.label.clone()))
        .collect();
    let files_form = (!file_options.is_empty()).then(|| {
        view! {
            <details class="attach">
                <summary>"Send with files…"</summary>
                <form
                    method="post"
                    action=format!("/conversations/{}/reply-with-files", detail.id)
                    enctype="multipart/form-data"
                    class="composer files"
                >
                    <div class="row">
                        <label for="files-via">"Send files via"</label>
                        <select id="files-via" name="via">
                            {file_options
                                .into_iter()
                                .map(|(k, l)| {
                                    let selected = default.as_deref() == Some(k.as_str());
                                    view! { <option value=k selected=selected>{l}</option> }
                                })
                                .collect_view()}
                        </select>
                    </div>
                    <p class="hint">"Email carries the files. On SMS and chat channels each file is sent as a link that expires in 7 days."</p>
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
    let on_input = {
        let channel = channel.clone();
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            if v.trim().is_empty() {
                draft.written_for.set(None);
                draft.converted_ok.set(false);
            } else if draft.written_for.get_untracked().is_none() {
                draft.written_for.set(channel());
            }
            body.set(v);
        }
    };
    let (channel_fix, channel_preview) = (channel.clone(), channel.clone());
    let switched_preview = switched.clone();
    view! {
        {files_form}
        <ActionForm action attr:class="composer">
            <input type="hidden" name="id" value=detail.id/>
            // Set by the hydrated page only: a page without JavaScript shows no live preview.
            <input type="hidden" name="written_for" prop:value=move || draft.written_for.get().map(|c| c.as_str()).unwrap_or("")/>
            <div class="row">
                <label for="reply-via">"Reply via"</label>
                <select
                    id="reply-via"
                    name="via"
                    disabled=none
                    on:change=move |ev| {
                        draft.via.set(Some(event_target_value(&ev)));
                        // A new channel needs a new look at the converted preview.
                        draft.converted_ok.set(false);
                    }
                >
                    {detail
                        .reply_options
                        .iter()
                        .map(|o| {
                            let key = o.key();
                            let selected = default.as_deref() == Some(key.as_str());
                            // No identifier of the kind: nothing to pick.
                            let disabled = o.identifier_id == 0;
                            view! { <option value=key selected=selected disabled=disabled data-channel=o.channel.as_str()>{option_text(o)}</option> }
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
                on:input=on_input
            ></textarea>
            {move || {
                (channel_fix() == Some(ChannelKind::Sms)).then(|| body.with(|b| ucs2_fixes(draft, b))).flatten()
            }}
            {move || {
                let ch = channel_preview()?;
                let from = switched_preview();
                body.with(|b| (!b.trim().is_empty()).then(|| preview(ch, b, from)))
            }}
            {move || switched().map(|from| view! {
                <label class="confirm-converted">
                    <input
                        type="checkbox"
                        name="converted"
                        value="1"
                        prop:checked=move || draft.converted_ok.get()
                        on:change=move |ev| draft.converted_ok.set(event_target_checked(&ev))
                    />
                    {format!(" Send as converted (written for {})", from.label())}
                </label>
            })}
            <div class="row end">
                {move || count().map(|(text, over)| view! { <span class="counter" class:over=over aria-live="polite">{text}</span> })}
                {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                <button
                    type="submit"
                    class="primary"
                    disabled=move || {
                        none || blocked_send().is_some() || count_send().is_some_and(|c| c.1)
                            || (switched_send().is_some() && !draft.converted_ok.get())
                            || action.pending().get()
                    }
                >"Send"</button>
            </div>
        </ActionForm>
    }
}

/// Private note form: notes are shown to staff only.
#[component]
pub fn NoteForm(id: i64, action: ServerAction<AddNote>, draft: Draft) -> impl IntoView {
    let body = draft.note;
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
