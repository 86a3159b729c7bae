use super::aids::{composer_aids, AidsInput};
use super::canned_picker::{CannedPicker, LIST_ID};
use super::draft::Draft;
use crate::api::conversation::{AddNote, ChatInvite, PreferenceLink, SendReply};
use crate::domain::sms::{self, Encoding};
use crate::domain::{canned, convert, window, ChannelKind};
use crate::model::{ConversationDetail, ReplyOption};
use crate::ui::widgets::Time;
use crate::ui::{err_text, forget_error, CurrentUser};
use leptos::prelude::*;
use std::sync::Arc;

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

/// Reply form with the channel picker, the live counter, the UCS-2 fixes and the preview.
/// "Invite to website chat": adds a signed link that opens the website chat attached to this
/// customer to the draft, to send on whatever channel the reply goes by; without JavaScript
/// the link opens a page with the invitation to copy (`http::chat_invite`). The words say when
/// no chat names a site to open it on.
fn invite_button(
    conversation: i64,
    draft: Draft,
    channel: Arc<dyn Fn() -> Option<ChannelKind> + Send + Sync>,
) -> impl IntoView {
    let invite = ServerAction::<ChatInvite>::new();
    Effect::new(move |_| {
        if let Some(Ok(Some((_, link)))) = invite.value().get() {
            draft.body.update(|b| {
                if !b.trim().is_empty() {
                    b.push_str("\n\n");
                }
                b.push_str(&format!(
                    "You can continue with us in our website chat: {link}"
                ));
            });
            if draft.written_for.get_untracked().is_none() {
                draft.written_for.set(channel());
            }
        }
    });
    let words = move || match invite.value().get() {
        Some(Ok(None)) => Some(
            "No website chat names a site to open on: add one in Admin → Channels.".to_string(),
        ),
        Some(Err(e)) => Some(err_text(&e)),
        _ => None,
    };
    view! {
        // Without JavaScript the link opens a page with the invitation to copy.
        <a
            href=format!("/conversations/{conversation}/chat-invite")
            class="link-button"
            aria-disabled=move || invite.pending().get().then_some("true")
            on:click=move |ev| {
                ev.prevent_default();
                if !invite.pending().get_untracked() {
                    invite.dispatch(ChatInvite { id: conversation });
                }
            }
        >"Invite to website chat"</a>
        {move || words().map(|w| view! { <span class="hint" role="status">{w}</span> })}
    }
}

/// "Let the customer choose": adds the customer's preference center link (for the address the
/// reply goes to) to the draft. Without JavaScript the link opens a page with the line to copy
/// (`http::preference_link`).
fn choose_button(
    conversation: i64,
    draft: Draft,
    identifier: Arc<dyn Fn() -> Option<i64> + Send + Sync>,
) -> impl IntoView {
    let get = ServerAction::<PreferenceLink>::new();
    Effect::new(move |_| {
        if let Some(Ok(link)) = get.value().get() {
            draft.body.update(|b| {
                if !b.trim().is_empty() {
                    b.push_str("\n\n");
                }
                b.push_str(&format!("Choose how we reach you: {link}"));
            });
        }
    });
    let words = move || match get.value().get() {
        Some(Err(e)) => Some(err_text(&e)),
        _ => None,
    };
    let href = {
        let identifier = identifier.clone();
        move || {
            format!(
                "/conversations/{conversation}/preference-link?identifier={}",
                identifier().unwrap_or(0)
            )
        }
    };
    view! {
        <a
            href=href
            class="link-button"
            aria-disabled=move || get.pending().get().then_some("true")
            on:click=move |ev| {
                ev.prevent_default();
                if let Some(identifier_id) = identifier() {
                    if !get.pending().get_untracked() {
                        get.dispatch(PreferenceLink { id: conversation, identifier_id });
                    }
                }
            }
        >"Let the customer choose"</a>
        {move || words().map(|w| view! { <span class="hint" role="status">{w}</span> })}
    }
}

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
            list.iter()
                .find(|(a, _, _)| *a == id)
                .map(|(_, w, next)| (w.clone(), *next))
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
    // The aids (UCS-2 fixes, converted preview) are fetched once the agent has written something.
    // Their signals belong to this component, like the closures that read them.
    let aids_input = AidsInput {
        draft,
        channel: Signal::derive(channel.clone()),
        switched: Signal::derive(switched.clone()),
    };
    let writing = Memo::new(move |_| !body.with(|b| b.trim().is_empty()));
    // Canned responses: `/` and a shortcut as the whole draft offers them; their placeholders
    // are filled with the customer, the agent and the identifier of the chosen option.
    let picker = {
        let (option, customer) = (option.clone(), detail.customer.name.clone());
        let agent = use_context::<CurrentUser>()
            .map(|u| u.0.name)
            .unwrap_or_default();
        CannedPicker::new(
            draft,
            Arc::new(move || canned::Fill {
                customer_name: customer.clone(),
                agent_name: agent.clone(),
                identifier: option()
                    .map(|o| o.identifier_label)
                    .filter(|l| !l.is_empty()),
            }),
        )
    };
    let invite = detail
        .chat_invite
        .then(|| invite_button(detail.id, draft, Arc::new(channel.clone())));
    let choose = {
        let option = option.clone();
        choose_button(
            detail.id,
            draft,
            Arc::new(move || option().map(|o| o.identifier_id)),
        )
    };
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
            {move || failing().map(|(w, next)| view! { <p class="banner warning" role="status" data-banner="provider-failing">{w}" Next attempt: "<Time ms=next/>"."</p> })}
            <label for="reply-body" class="visually-hidden">"Message"</label>
            <textarea
                id="reply-body"
                name="body"
                rows="3"
                placeholder="Write a reply… (type / for a canned response)"
                prop:value=body
                on:input=on_input
                aria-autocomplete="list"
                aria-controls=LIST_ID
                aria-activedescendant={
                    let picker = picker.clone();
                    move || picker.active_id()
                }
                on:keydown={
                    let picker = picker.clone();
                    move |ev| picker.on_keydown(&ev)
                }
            ></textarea>
            {picker.view()}
            {move || writing.get().then(|| {
                let aids = composer_aids(aids_input);
                view! { <Suspense fallback=|| ()>{Suspend::new(aids)}</Suspense> }
            })}
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
                <a class="canned-link" href="/canned">"Canned responses"</a>
                {invite}
                {choose}
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
