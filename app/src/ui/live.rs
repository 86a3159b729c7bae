//! Live updates in the browser: one EventSource per signed-in page, feeding signals that
//! resources re-fetch on.

use crate::model::LiveEvent;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Live {
    /// Bumped on every event (and after a reconnect); lists re-fetch on it.
    pub tick: RwSignal<u64>,
    /// The latest event, for views that only care about one conversation.
    pub last: RwSignal<Option<LiveEvent>>,
    /// Bumped on channel-account events (connection state, sync progress) and after a
    /// reconnect. Kept apart so a mailbox's progress never redraws the inbox or an open
    /// conversation (which would wipe a reply being typed).
    pub channels: RwSignal<u64>,
    /// The latest presence event (who views or writes where). Kept apart too: it changes
    /// nothing on the page but the presence line.
    pub presence: RwSignal<Option<LiveEvent>>,
}

pub fn provide_live() {
    provide_context(Live {
        tick: RwSignal::new(0),
        last: RwSignal::new(None),
        channels: RwSignal::new(0),
        presence: RwSignal::new(None),
    });
}

/// Opens the event stream when mounted in the browser (does nothing during SSR).
#[component]
pub fn LiveConnector() -> impl IntoView {
    let live = expect_context::<Live>();
    Effect::new(move |_| connect(live));
}

#[cfg(feature = "hydrate")]
fn connect(live: Live) {
    use std::cell::RefCell;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    thread_local! {
        static SOURCE: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
    }
    SOURCE.with(|s| {
        if let Some(old) = s.borrow_mut().take() {
            old.close();
        }
        let Ok(es) = web_sys::EventSource::new("/api/events") else {
            return;
        };
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(text) = e.data().as_string() {
                    if let Ok(ev) = serde_json::from_str::<LiveEvent>(&text) {
                        if matches!(
                            ev.kind,
                            crate::model::LiveKind::Channel | crate::model::LiveKind::Accounts
                        ) {
                            live.channels.update(|t| *t += 1);
                        } else if ev.kind == crate::model::LiveKind::Presence {
                            live.presence.set(Some(ev));
                        } else {
                            live.last.set(Some(ev));
                            live.tick.update(|t| *t += 1);
                        }
                    }
                }
            });
        es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        // After a dropped connection the browser reconnects by itself; re-fetch what we may
        // have missed.
        let opened = std::rc::Rc::new(std::cell::Cell::new(false));
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if opened.replace(true) {
                live.tick.update(|t| *t += 1);
                live.channels.update(|t| *t += 1);
            }
        });
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        *s.borrow_mut() = Some(es);
    });
}

#[cfg(not(feature = "hydrate"))]
fn connect(_live: Live) {}
