//! Canned responses in the composer: while the whole reply is `/` and a shortcut being typed,
//! a listbox under the text offers the matching responses (`domain::canned::matches`).
//! ArrowUp and ArrowDown move, Enter or Tab inserts, Escape closes, a click inserts.
//! Inserting replaces `/word` with the response, its placeholders filled for this
//! conversation, in the draft itself, so the counter, the SMS segments and the converted
//! preview follow. The textarea is the listbox's owner (`aria-controls`,
//! `aria-activedescendant`), so focus never leaves it. Without JavaScript there is no list
//! and the reply is sent as typed.

use super::draft::Draft;
use crate::domain::canned::{self, Fill};
use crate::model::CannedResponse;
use leptos::prelude::*;
use std::sync::Arc;

/// The listbox's id, named by the textarea's `aria-controls`.
pub const LIST_ID: &str = "canned-options";

type Loaded = Result<Vec<CannedResponse>, ServerFnError>;

/// The responses, fetched once per conversation view: kept with the view's draft (which
/// outlives the composer, redrawn on every live update) and fetched again for another view.
#[cfg(not(feature = "ssr"))]
fn responses(draft: Draft) -> Option<ArcLocalResource<Loaded>> {
    use std::cell::RefCell;
    type Kept = (RwSignal<String>, Owner, ArcLocalResource<Loaded>);
    thread_local! {
        static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
    }
    KEPT.with(|k| {
        let mut k = k.borrow_mut();
        if let Some((view, _, list)) = k.as_ref() {
            if *view == draft.body {
                return Some(list.clone());
            }
        }
        // Its own root: the composer that asked first may be gone before the answer comes.
        // (Making a root owner makes it the current one: the composer's is put back.)
        let here = Owner::current();
        let owner = Owner::new_root(None);
        let list = owner.with(|| ArcLocalResource::new(crate::api::canned::list_canned));
        if let Some(here) = here {
            here.set();
        }
        *k = Some((draft.body, owner, list.clone()));
        Some(list)
    })
}

/// On the server nothing is fetched: the list is the hydrated page's.
#[cfg(feature = "ssr")]
fn responses(_draft: Draft) -> Option<ArcLocalResource<Loaded>> {
    None
}

/// The picker's state, owned by the composer; its closures read only the draft and signals
/// made here.
#[derive(Clone)]
pub struct CannedPicker {
    draft: Draft,
    /// The responses offered now (none: the list is closed).
    shown: Memo<Vec<CannedResponse>>,
    /// The highlighted option, for the word it was chosen at.
    active: RwSignal<(String, usize)>,
    /// The draft the agent closed the list at (Escape): closed until the text changes.
    closed_at: RwSignal<Option<String>>,
    fill: Arc<dyn Fn() -> Fill + Send + Sync>,
}

impl CannedPicker {
    /// `fill` says what the placeholders become when a response is inserted.
    pub fn new(draft: Draft, fill: Arc<dyn Fn() -> Fill + Send + Sync>) -> CannedPicker {
        let list = responses(draft);
        let closed_at = RwSignal::new(None::<String>);
        let shown = Memo::new(move |_| {
            let body = draft.body.get();
            let Some(typed) = canned::typed_shortcut(&body) else {
                return Vec::new();
            };
            if closed_at.with(|c| c.as_deref() == Some(body.as_str())) {
                return Vec::new();
            }
            list.as_ref()
                .and_then(|l| {
                    l.map(|loaded| match loaded {
                        Ok(items) => canned::matches(typed, items).into_iter().cloned().collect(),
                        Err(_) => Vec::new(),
                    })
                })
                .unwrap_or_default()
        });
        CannedPicker {
            draft,
            shown,
            active: RwSignal::new((String::new(), 0)),
            closed_at,
            fill,
        }
    }

    /// The highlighted option's index.
    fn active_index(&self) -> usize {
        let n = self.shown.with(Vec::len);
        let (at, i) = self.active.get();
        let word = self.draft.body.get();
        if at == word && i < n {
            i
        } else {
            0
        }
    }

    /// The id of the highlighted option, for `aria-activedescendant` (none when closed).
    pub fn active_id(&self) -> Option<String> {
        let i = self.active_index();
        self.shown.with(|s| s.get(i).map(|r| option_id(r.id)))
    }

    /// ArrowUp, ArrowDown, Enter, Tab and Escape while the list is open; anything else is
    /// the textarea's.
    pub fn on_keydown(&self, ev: &leptos::ev::KeyboardEvent) {
        let n = self.shown.with_untracked(Vec::len);
        if n == 0 || ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.is_composing() {
            return;
        }
        let i = untrack(|| self.active_index());
        let word = self.draft.body.get_untracked();
        match ev.key().as_str() {
            "ArrowDown" => self.active.set((word, (i + 1) % n)),
            "ArrowUp" => self.active.set((word, (i + n - 1) % n)),
            "Enter" | "Tab" if !ev.shift_key() => {
                if let Some(r) = self.shown.with_untracked(|s| s.get(i).cloned()) {
                    self.insert(&r);
                }
            }
            "Escape" => self.closed_at.set(Some(word)),
            _ => return,
        }
        ev.prevent_default();
        ev.stop_propagation();
    }

    /// Replaces the typed `/word` with `r`, filled.
    fn insert(&self, r: &CannedResponse) {
        let text = canned::fill(&r.body, &(self.fill)());
        self.closed_at.set(None);
        self.draft.body.set(text);
    }

    /// The listbox under the textarea, and what a screen reader hears when it opens.
    pub fn view(&self) -> impl IntoView {
        let shown = self.shown;
        let open = move || shown.with(|s| !s.is_empty());
        let me = self.clone();
        view! {
            <ul id=LIST_ID class="canned-options" role="listbox" aria-label="Canned responses" hidden=move || !open()>
                {move || {
                    let current = me.active_index();
                    shown
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| {
                            let (me, chosen) = (me.clone(), r.clone());
                            view! {
                                <li
                                    id=option_id(r.id)
                                    role="option"
                                    class="canned-option"
                                    class:active=i == current
                                    aria-selected=if i == current { "true" } else { "false" }
                                    // The textarea keeps the focus (and the caret).
                                    on:mousedown=|ev| ev.prevent_default()
                                    on:click=move |_| me.insert(&chosen)
                                >
                                    <code class="shortcut">{format!("/{}", r.shortcut)}</code>
                                    " "
                                    <span class="title">{r.title}</span>
                                    {r.shared.then(|| view! { " " <span class="badge shared">"Shared"</span> })}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <p class="visually-hidden" role="status">
                {move || match shown.with(Vec::len) {
                    0 => None,
                    n => Some(format!(
                        "{n} canned response{}: Up and Down to choose, Enter to insert, Escape to close.",
                        if n == 1 { "" } else { "s" }
                    )),
                }}
            </p>
        }
    }
}

fn option_id(id: i64) -> String {
    format!("canned-option-{id}")
}
