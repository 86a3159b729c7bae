//! The playground: a person plays the customer on any channel. Messages enter through the same
//! raw-store-then-ingest path as a real provider's webhook; replies to playground identifiers
//! show up here.

use super::live::Live;
use super::widgets::{Delivery, Time};
use super::{err_text, Authed, CurrentUser};
use crate::api::playground::{playground_thread, PlaygroundSend};
use crate::domain::{ChannelKind, Direction, Permission};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

/// The `/playground` route, a separate wasm chunk loaded when it is opened.
pub struct PlaygroundRoute;

#[lazy_route]
impl LazyRoute for PlaygroundRoute {
    fn data() -> Self {
        PlaygroundRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <PlaygroundPage/> }.into_any()
    }
}

#[component]
pub fn PlaygroundPage() -> impl IntoView {
    view! {
        <Authed>
            <Playground/>
        </Authed>
    }
}

fn hint(channel: &str) -> &'static str {
    match ChannelKind::parse(channel) {
        Some(ChannelKind::Email) => "e.g. jane@example.com",
        Some(ChannelKind::Sms) | Some(ChannelKind::Whatsapp) => "e.g. +1 415 555 0123",
        _ => "e.g. 1234567890 (the provider's user id)",
    }
}

#[component]
fn Playground() -> impl IntoView {
    if !expect_context::<CurrentUser>().can(Permission::UsePlayground) {
        return super::no_access("Playground");
    }
    let q = use_query_map().get_untracked();
    let channel = RwSignal::new(
        q.get("channel")
            .filter(|c| ChannelKind::parse(c).is_some())
            .unwrap_or_else(|| "sms".into()),
    );
    let identifier = RwSignal::new(q.get("identifier").unwrap_or_default());
    let name = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let send = ServerAction::<PlaygroundSend>::new();
    let live = expect_context::<Live>();
    Effect::new(move |_| {
        if let Some(Ok(())) = send.value().get() {
            body.set(String::new());
        }
    });
    let thread = Resource::new(
        move || {
            (
                channel.get(),
                identifier.get(),
                send.version().get(),
                live.tick.get(),
            )
        },
        |(c, i, _, _)| async move {
            if i.trim().is_empty() {
                Ok(vec![])
            } else {
                playground_thread(c, i).await
            }
        },
    );

    view! {
        <main class="playground" id="main">
            <section class="pg-form">
                <h1>"Playground"</h1>
                <p class="hint">
                    "Write as a customer on any channel. The message arrives in the inbox exactly as it would from the real provider; replies to this customer on a playground channel appear on the right."
                </p>
                <ActionForm action=send>
                    <label for="pg-channel">"Channel"</label>
                    <select id="pg-channel" name="channel" on:change=move |ev| channel.set(event_target_value(&ev))>
                        {ChannelKind::ALL
                            .into_iter()
                            .filter(|c| *c != ChannelKind::Chat)
                            .map(|c| {
                                view! {
                                    <option value=c.as_str() selected=move || channel.get() == c.as_str()>
                                        {c.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <label for="pg-identifier">"Customer identifier"</label>
                    <input
                        id="pg-identifier"
                        name="identifier"
                        required
                        placeholder=move || hint(&channel.get())
                        value=identifier.get_untracked()
                        prop:value=identifier
                        on:input=move |ev| identifier.set(event_target_value(&ev))
                    />
                    <label for="pg-name">"Customer name"</label>
                    <input
                        id="pg-name"
                        name="name"
                        placeholder="Shown when this is a new customer"
                        prop:value=name
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                    <label for="pg-body">"Message"</label>
                    <textarea id="pg-body" name="body" rows="4" prop:value=body on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                    <button type="submit" class="primary" disabled=move || send.pending().get()>"Send as customer"</button>
                    {move || send.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                </ActionForm>
            </section>
            <section class="pg-thread" aria-label="Customer view">
                <h2>"What the customer sees"</h2>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match thread.await {
                            Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                            Ok(msgs) if msgs.is_empty() => {
                                view! { <p class="hint">"No messages with this customer yet."</p> }.into_any()
                            }
                            Ok(msgs) => view! {
                                <ul class="pg-messages">
                                    {msgs
                                        .into_iter()
                                        .map(|m| {
                                            let from_business = m.direction == Direction::Out;
                                            view! {
                                                <li class="pg-message" class:business=from_business data-direction=m.direction.as_str()>
                                                    <div class="body">{m.body_text}</div>
                                                    <div class="meta">
                                                        <Time ms=m.created_at/>
                                                        {from_business.then(|| view! { <Delivery state=m.delivery_state reason=None/> })}
                                                    </div>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            </section>
        </main>
    }
    .into_any()
}
