//! The timeline's items (messages, notes, events, delivery lines and actions): a wasm chunk
//! of its own, which opening the inbox does not download. The timeline component (main
//! bundle) keeps the resource, the older pages and the scroll position.

use crate::api::delivery::{CancelMessage, RetryMessage};
use crate::domain::Direction;
use crate::model::{MessageView, OutboxState, TimelineItem, TimelinePage};
use crate::ui::err_text;
use crate::ui::widgets::{ChannelBadge, Delivery, Time};
use leptos::prelude::*;

/// What [`timeline_items`] draws from: the newest page and the timeline's state.
pub struct ItemsInput {
    pub id: i64,
    pub page: TimelinePage,
    pub older: RwSignal<Vec<TimelineItem>>,
    pub cursor: StoredValue<Option<String>>,
    pub cursor_version: RwSignal<usize>,
    pub loading: RwSignal<bool>,
    pub scroller: NodeRef<leptos::html::Section>,
    pub load_older: Callback<()>,
}

/// The "Load older" link, the older pages loaded and the newest page.
#[leptos::lazy]
pub fn timeline_items(input: ItemsInput) -> AnyView {
    let ItemsInput {
        id,
        page: p,
        older,
        cursor,
        cursor_version,
        loading,
        scroller,
        load_older,
    } = input;
    if older.with_untracked(|o| o.is_empty()) {
        cursor.set_value(p.older.clone());
    }
    scroll_to_end(scroller);
    let shown: std::collections::HashSet<_> =
        older.with_untracked(|o| o.iter().map(|i| i.key()).collect());
    let newest = p
        .items
        .into_iter()
        .filter(|i| !shown.contains(&i.key()))
        .map(item_view)
        .collect_view();
    view! {
        {move || {
            cursor_version.track();
            cursor
                .get_value()
                .map(|c| {
                    view! {
                        <a
                            class="load-older"
                            href=format!("/inbox/{id}?before={c}")
                            on:click=move |ev| {
                                ev.prevent_default();
                                load_older.run(());
                            }
                        >
                            {move || if loading.get() { "Loading…" } else { "Load older messages" }}
                        </a>
                    }
                })
        }}
        {move || older.get().into_iter().map(item_view).collect_view()}
        {newest}
    }
    .into_any()
}

/// Scrolls the timeline to its newest item after the browser has laid it out.
fn scroll_to_end(scroller: NodeRef<leptos::html::Section>) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = scroller;
}

/// An HTML email in a sandboxed frame (its own CSP, no scripts, remote images off until
/// asked for); plain text with the quoted history folded away.
fn message_body(id: i64, has_html: bool, text: String) -> AnyView {
    if has_html {
        let name = format!("msg-{id}");
        return view! {
            <div class="email-html">
                <iframe
                    class="email-frame"
                    title="Email content"
                    name=name.clone()
                    src=format!("/messages/{id}/body")
                    sandbox="allow-popups allow-popups-to-escape-sandbox allow-same-origin"
                    referrerpolicy="no-referrer"
                    on:load=fit_frame
                ></iframe>
                <a class="load-images" href=format!("/messages/{id}/body?images=1") target=name>
                    "Load images"
                </a>
            </div>
        }
        .into_any();
    }
    let (main, quoted) = crate::domain::quote::split_quoted(&text);
    let (main, quoted) = (main.to_string(), quoted.to_string());
    view! {
        <div class="body">{main}</div>
        {(!quoted.is_empty()).then(|| view! {
            <details class="quoted">
                <summary>"Show quoted text"</summary>
                <div class="body">{quoted}</div>
            </details>
        })}
    }
    .into_any()
}

/// Grows a message frame to its content (same origin, so the page can measure it).
fn fit_frame(ev: leptos::ev::Event) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let frame = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlIFrameElement>().ok());
        if let Some(f) = frame {
            // The body's height: the root element is never shorter than the frame itself.
            if let Some(h) = f
                .content_document()
                .and_then(|d| d.body())
                .map(|b| b.scroll_height() + 16)
            {
                let _ = f.set_attribute("style", &format!("height:{}px", h.clamp(60, 1600) + 4));
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

fn attachment_list(files: Vec<crate::model::AttachmentView>) -> Option<AnyView> {
    (!files.is_empty()).then(|| {
        view! {
            <ul class="attachments" aria-label="Attachments">
                {files
                    .into_iter()
                    .map(|a| view! {
                        <li>
                            <a href=format!("/attachments/{}", a.id) download=a.filename.clone()>{a.filename.clone()}</a>
                            <span class="size">{crate::domain::text::file_size(a.size_bytes)}</span>
                        </li>
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    })
}

/// An outbound message's delivery in words: its state, or "retrying, next attempt at …",
/// "delivery unknown", "cancelled", with the reason.
fn delivery_line(m: &MessageView) -> AnyView {
    let reason = m.failure_reason.clone();
    let words = |state: &'static str, text: &'static str| {
        view! {
            <span class="delivery" data-state=state title=reason.clone().unwrap_or_default()>{text}</span>
            {reason.clone().map(|r| view! { <span class="delivery-reason">{r}</span> })}
        }
        .into_any()
    };
    match &m.outbox {
        Some(OutboxState::Retrying { next_attempt_at }) => {
            let at = *next_attempt_at;
            view! {
                <span class="delivery" data-state="retrying" title=reason.clone().unwrap_or_default()>
                    "retrying, next attempt at " <Time ms=at/>
                </span>
                {reason.clone().map(|r| view! { <span class="delivery-reason">{r}</span> })}
            }
            .into_any()
        }
        Some(OutboxState::Unknown) => words("unknown", "delivery unknown"),
        Some(OutboxState::Cancelled) => words("cancelled", "cancelled"),
        _ => view! { <Delivery state=m.delivery_state reason=reason.clone()/> }.into_any(),
    }
}

/// Retry / Send again / Cancel for a message whose delivery failed, is unknown or is being
/// retried: plain forms, so they work without JavaScript.
fn delivery_actions(m: &MessageView) -> Option<AnyView> {
    let (again, cancel) = match &m.outbox {
        Some(OutboxState::Failed) => (Some("Retry"), true),
        Some(OutboxState::Unknown) => (Some("Send again"), true),
        Some(OutboxState::Retrying { .. }) => (None, true),
        _ => return None,
    };
    let id = m.id;
    let retry = ServerAction::<RetryMessage>::new();
    let cancel_action = ServerAction::<CancelMessage>::new();
    let label = format!("Delivery of message {id}");
    Some(
        view! {
            <div class="delivery-actions" role="group" aria-label=label>
                {again.map(|text| view! {
                    <ActionForm action=retry attr:class="inline">
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" data-action="retry">{text}</button>
                    </ActionForm>
                })}
                {cancel.then(|| view! {
                    <ActionForm action=cancel_action attr:class="inline">
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" data-action="cancel">"Cancel"</button>
                    </ActionForm>
                })}
                {move || retry.value().get().and_then(|r| r.err()).or_else(|| cancel_action.value().get().and_then(|r| r.err()))
                    .map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
            </div>
        }
        .into_any(),
    )
}

fn item_view(item: TimelineItem) -> AnyView {
    match item {
        TimelineItem::Message(m) => {
            let out = m.direction == Direction::Out;
            let who = if out {
                match (&m.author_name, &m.campaign) {
                    (Some(a), _) => a.clone(),
                    (None, Some(c)) => format!("Campaign \u{201c}{}\u{201d}", c.name),
                    (None, None) => "Automatic".into(),
                }
            } else {
                m.identifier.clone().unwrap_or_default()
            };
            let to = out.then(|| m.identifier.clone()).flatten();
            view! {
                <article
                    class=if out { "message out" } else { "message in" }
                    data-direction=m.direction.as_str()
                    data-channel=m.channel.as_str()
                    data-id=m.id
                >
                    <header>
                        <ChannelBadge channel=m.channel/>
                        <span class="who">{who}</span>
                        {to.map(|t| view! { <span class="to">"to " {t}</span> })}
                        {m.campaign.clone().filter(|c| c.answer).map(|c| view! {
                            <span class="campaign-answer">{format!("Answers campaign \u{201c}{}\u{201d}", c.name)}</span>
                        })}
                        <Time ms=m.created_at/>
                        {out.then(|| delivery_line(&m))}
                    </header>
                    {out.then(|| delivery_actions(&m))}
                    {m.subject.map(|s| view! { <p class="subject">{s}</p> })}
                    {m.automatic.then(|| view! { <p class="auto-note">"Automatic message: it does not reopen the conversation."</p> })}
                    {message_body(m.id, m.has_html, m.body_text)}
                    {attachment_list(m.attachments)}
                </article>
            }
            .into_any()
        }
        TimelineItem::Event(e) if e.kind == "note" => view! {
            <article class="note" data-id=e.id>
                <header>
                    <span class="note-label">"Private note"</span>
                    <span class="who">{e.actor_name.unwrap_or_default()}</span>
                    <Time ms=e.created_at/>
                </header>
                <div class="body">{e.body.unwrap_or_default()}</div>
            </article>
        }
        .into_any(),
        TimelineItem::Event(e) => view! {
            <div class="event" data-kind=e.kind>
                <span>{e.summary}{e.until.map(|ms| view! { " until " <Time ms/> })}</span>
                " · "
                <Time ms=e.created_at/>
            </div>
        }
        .into_any(),
    }
}
