use crate::api::conversation::{AddNote, SendReply};
use crate::domain::sms::{self, Encoding};
use crate::domain::{convert, sms_fix, window, ChannelKind};
use crate::model::{ConversationDetail, ReplyOption};
use crate::ui::{err_text, forget_error, fresh_key};
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
    /// The handoff text, once the agent edited it for the chosen target (until then the
    /// standard words). Cleared when the target changes: the text must name the target.
    pub handoff: RwSignal<Option<String>>,
    /// The Move panel is open; closed after a move.
    pub move_open: RwSignal<bool>,
    /// The reply's idempotency key, sent with it; a new one once it was stored.
    pub key: RwSignal<String>,
    /// The same for the "Send with files" form.
    pub files_key: RwSignal<String>,
    /// The agent ticked "reply to an unverified identifier".
    pub unverified_ok: RwSignal<bool>,
    /// The chosen option is an unverified identifier: after the reply the picker goes back
    /// to the default, never staying on it.
    pub via_unverified: RwSignal<bool>,
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
            move_open: RwSignal::new(false),
            key: RwSignal::new(fresh_key()),
            files_key: RwSignal::new(fresh_key()),
            unverified_ok: RwSignal::new(false),
            via_unverified: RwSignal::new(false),
        }
    }

    /// After a reply was queued: the next draft is another message, with a new key.
    pub fn reply_sent(&self) {
        self.body.set(String::new());
        self.written_for.set(None);
        self.converted_ok.set(false);
        self.unverified_ok.set(false);
        if self.via_unverified.get_untracked() {
            self.via.set(None);
            self.via_unverified.set(false);
        }
        self.key.set(fresh_key());
    }

    /// After the conversation was moved: replies follow it to the new default, and the Move
    /// panel closes and starts again from nothing.
    pub fn moved(&self) {
        self.via.set(None);
        self.move_to.set(None);
        self.handoff.set(None);
        self.move_open.set(false);
        self.converted_ok.set(false);
        self.unverified_ok.set(false);
    }
}

impl Default for Draft {
    fn default() -> Self {
        Draft::new()
    }
}

/// Characters against the channel's limit and, for SMS, the segments, as the agent types:
/// counted on the converted text, as the preview shows it and the server checks it.
fn counter(channel: Option<ChannelKind>, text: &str) -> Option<(String, bool)> {
    let channel = channel?;
    let converted = convert::for_channel(channel, text);
    let window::TextLength { chars: n, max } = converted.length?;
    let mut s = format!("{n} / {max} characters ({} limit)", channel.label());
    if channel == ChannelKind::Sms && n > 0 {
        let info = sms::analyze(&converted.text);
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

/// The confirmation a reply to an unverified identifier needs (the server refuses one
/// without it). Shown whenever the picker holds one, so it works without JavaScript.
fn unverified_confirm(draft: Draft, labels: &[String], id: &'static str) -> Option<AnyView> {
    if labels.is_empty() {
        return None;
    }
    Some(
        view! {
            <label class="confirm-unverified" for=id>
                <input
                    type="checkbox"
                    id=id
                    name="confirm_unverified"
                    value="1"
                    prop:checked=move || draft.unverified_ok.get()
                    on:change=move |ev| draft.unverified_ok.set(event_target_checked(&ev))
                />
                {format!(
                    " Reply to {} although it is unverified (it joined by quoting one of our emails; it may not be the customer)",
                    labels.join(", ")
                )}
            </label>
        }
        .into_any(),
    )
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
            <h2>{heading}</h2>
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
    let unverified_labels: Vec<String> = {
        let mut l: Vec<String> = detail
            .reply_options
            .iter()
            .filter(|o| o.unverified)
            .map(|o| o.identifier_label.clone())
            .collect();
        l.sort();
        l.dedup();
        l
    };
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
    let failing = {
        let (option, list) = (option.clone(), Arc::new(detail.failing_accounts.clone()));
        move || {
            let id = option()?.account_id;
            list.iter().find(|(a, _)| *a == id).map(|(_, w)| w.clone())
        }
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
    let unverified = {
        let option = option.clone();
        move || option().is_some_and(|o| o.unverified)
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
                    <input type="hidden" name="draft_key" value=draft.files_key.get_untracked()/>
                    <p class="hint">"Email carries the files. On SMS and chat channels each file is sent as a link that expires in 7 days."</p>
                    {unverified_confirm(draft, &unverified_labels, "files-confirm-unverified")}
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
        <ActionForm action attr:class="composer" on:input=forget_error(action) on:change=forget_error(action)>
            <input type="hidden" name="id" value=detail.id/>
            // One key per draft: the server stores one message per key, whatever the clicks.
            <input type="hidden" name="draft_key" value=move || draft.key.get()/>
            // Set by the hydrated page only: a page without JavaScript shows no live preview.
            <input type="hidden" name="written_for" prop:value=move || draft.written_for.get().map(|c| c.as_str()).unwrap_or("")/>
            <div class="row">
                <label for="reply-via">"Reply via"</label>
                <select
                    id="reply-via"
                    name="via"
                    disabled=none
                    on:change={
                        let options = options.clone();
                        move |ev| {
                        let key = event_target_value(&ev);
                        draft.via_unverified.set(options.iter().any(|o| o.key() == key && o.unverified));
                        draft.via.set(Some(key));
                        // A new channel needs a new look at the converted preview.
                        draft.converted_ok.set(false);
                        draft.unverified_ok.set(false);
                    }}
                >
                    // No default (an unverified identifier never is one): the agent chooses.
                    {(default.is_none() && !none).then(|| view! { <option value="" selected>"Choose a channel…"</option> })}
                    {detail
                        .reply_options
                        .iter()
                        .map(|o| {
                            let key = o.key();
                            let selected = default.as_deref() == Some(key.as_str());
                            // No identifier of the kind: nothing to pick.
                            let disabled = o.identifier_id == 0;
                            view! {
                                <option value=key selected=selected disabled=disabled data-channel=o.channel.as_str() data-unverified=o.unverified.then_some("1")>
                                    {option_text(o)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            {none.then(|| view! { <p class="hint">"This customer has no identifier a channel account can reach."</p> })}
            {move || blocked().map(|why| view! { <p class="notice blocked" role="status">{why}</p> })}
            {unverified_confirm(draft, &unverified_labels, "reply-confirm-unverified")}
            {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            {move || failing().map(|w| view! { <p class="banner warning" role="status" data-banner="provider-failing">{w}</p> })}
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
                            || (unverified() && !draft.unverified_ok.get())
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
        <ActionForm action attr:class="note-form" on:input=forget_error(action) on:change=forget_error(action)>
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
