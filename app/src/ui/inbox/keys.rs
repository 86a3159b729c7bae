//! Keyboard shortcuts for triage, their help (`?`) and the command palette (Ctrl/Cmd+K).
//!
//! Every shortcut works on what is on the page: it focuses or presses an element that a
//! mouse user would use (marked `data-shortcut`, or a form field by id), so the server checks
//! stay the only checks. Letter shortcuts never fire while the agent types in a field.

use crate::api::search::search;
use leptos::prelude::*;

/// What a key press does.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Next,
    Previous,
    Reply,
    Note,
    Resolve,
    AssignMe,
    Label,
    Snooze,
    Inbox,
    Search,
    Help,
    Palette,
    Send,
    Leave,
    /// The first key of a two-key shortcut (`g`).
    Prefix,
}

/// The shortcuts as the help shows them.
pub const HELP: &[(&str, &str)] = &[
    ("j / k", "Next / previous conversation in the list"),
    ("Enter", "Open the highlighted conversation"),
    ("r", "Reply"),
    ("n", "Private note"),
    ("e", "Resolve"),
    ("a", "Assign to me"),
    ("l", "Add a label"),
    ("s", "Snooze"),
    ("g then i", "Go to the inbox"),
    ("/", "Search"),
    ("Ctrl/⌘ + Enter", "Send the reply or note being written"),
    ("Esc", "Leave the field, close this help"),
    ("Ctrl/⌘ + K", "Command palette: actions and customers"),
    ("?", "Show this help"),
];

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
/// The action for a key press. `typing`: the focus is in a text field (then only the chords
/// and Esc act); `after_g`: the previous key was `g`.
pub fn action_for(
    key: &str,
    ctrl_or_meta: bool,
    alt: bool,
    typing: bool,
    after_g: bool,
) -> Option<Action> {
    if alt {
        return None;
    }
    if ctrl_or_meta {
        return match key {
            "k" | "K" => Some(Action::Palette),
            "Enter" if typing => Some(Action::Send),
            _ => None,
        };
    }
    if key == "Escape" {
        return Some(Action::Leave);
    }
    if typing {
        return None;
    }
    if after_g {
        return (key == "i").then_some(Action::Inbox);
    }
    Some(match key {
        "j" => Action::Next,
        "k" => Action::Previous,
        "r" => Action::Reply,
        "n" => Action::Note,
        "e" => Action::Resolve,
        "a" => Action::AssignMe,
        "l" => Action::Label,
        "s" => Action::Snooze,
        "g" => Action::Prefix,
        "/" => Action::Search,
        "?" => Action::Help,
        _ => return None,
    })
}

/// A command of the palette: its words and where it goes or what it presses.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Go(&'static str, &'static str),
    Press(&'static str, &'static str),
    Customer(String, i64),
}

impl Command {
    pub fn label(&self) -> String {
        match self {
            Command::Go(l, _) | Command::Press(l, _) => l.to_string(),
            Command::Customer(name, _) => format!("Open {name}"),
        }
    }
}

/// The palette's fixed commands.
pub const COMMANDS: &[Command] = &[
    Command::Go("Go to the inbox", "/inbox"),
    Command::Go("My open conversations", "/inbox?status=open&assignee=mine"),
    Command::Go(
        "Unassigned conversations",
        "/inbox?status=open&assignee=unassigned",
    ),
    Command::Go("Reports", "/reports"),
    Command::Go("Canned responses", "/canned"),
    Command::Go("Playground", "/playground"),
    Command::Go("Administration", "/admin"),
    Command::Press("Resolve this conversation", "resolve"),
    Command::Press("Assign this conversation to me", "assign-me"),
    Command::Press("Add a label", "label"),
    Command::Press("Snooze", "snooze"),
    Command::Press("Search", "search"),
    Command::Press("Show keyboard shortcuts", "help"),
];

/// The fixed commands whose words hold every typed word.
pub fn matching_commands(typed: &str) -> Vec<Command> {
    let words: Vec<String> = typed.split_whitespace().map(str::to_lowercase).collect();
    COMMANDS
        .iter()
        .filter(|c| {
            let l = c.label().to_lowercase();
            words.iter().all(|w| l.contains(w.as_str()))
        })
        .cloned()
        .collect()
}

#[cfg(feature = "hydrate")]
pub(crate) mod dom {
    use super::Action;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::HtmlElement;

    pub fn el(selector: &str) -> Option<HtmlElement> {
        document()
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    }

    pub fn typing() -> bool {
        document().active_element().is_some_and(|e| {
            let tag = e.tag_name().to_ascii_uppercase();
            matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || e.get_attribute("contenteditable")
                    .is_some_and(|v| v != "false")
        })
    }

    pub fn focus(selector: &str) -> bool {
        match el(selector) {
            Some(e) => {
                let _ = e.focus();
                true
            }
            None => false,
        }
    }

    pub fn press(name: &str) -> bool {
        match el(&format!("[data-shortcut=\"{name}\"]")) {
            Some(e) => {
                e.click();
                true
            }
            None => false,
        }
    }

    /// Moves the focus along the list (results or conversations) by `step`.
    pub fn step(step: i32) {
        let Ok(list) = document().query_selector_all(".list-pane nav.conversations a.conversation")
        else {
            return;
        };
        let items: Vec<HtmlElement> = (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
            .filter(|e| e.offset_parent().is_some())
            .collect();
        if items.is_empty() {
            return;
        }
        let active = document().active_element();
        let at = items
            .iter()
            .position(|e| {
                active
                    .as_ref()
                    .is_some_and(|a| a == e.unchecked_ref::<web_sys::Element>())
            })
            .or_else(|| {
                items
                    .iter()
                    .position(|e| e.class_list().contains("selected"))
            });
        let next = match at {
            None => 0,
            Some(i) => (i as i32 + step).clamp(0, items.len() as i32 - 1) as usize,
        };
        let _ = items[next].focus();
    }

    /// Ctrl+Enter in a form field: presses the form's submit button.
    pub fn send() {
        let Some(active) = document().active_element() else {
            return;
        };
        if let Ok(Some(form)) = active.closest("form") {
            if let Ok(Some(b)) = form.query_selector("button[type=submit]") {
                if let Ok(b) = b.dyn_into::<HtmlElement>() {
                    b.click();
                }
            }
        }
    }

    /// Opens the folded "+ Label" form and focuses its picker.
    pub fn open_labels() -> bool {
        if let Some(d) = el("details.label-add") {
            let _ = d.set_attribute("open", "");
        }
        focus("#label-pick")
    }

    pub fn leave() {
        if let Some(a) = document().active_element() {
            if let Ok(a) = a.dyn_into::<HtmlElement>() {
                let _ = a.blur();
            }
        }
    }

    /// Runs an action that acts on the page; false when the page has nothing for it.
    pub fn run(a: Action) -> bool {
        match a {
            Action::Next => {
                step(1);
                true
            }
            Action::Previous => {
                step(-1);
                true
            }
            Action::Reply => focus("#reply-body"),
            Action::Note => focus("#note-body"),
            Action::Resolve => press("resolve"),
            Action::AssignMe => press("assign-me"),
            Action::Label => open_labels(),
            Action::Snooze => focus("#snooze-for"),
            Action::Search => focus("#search-box"),
            Action::Send => {
                send();
                true
            }
            Action::Leave => {
                leave();
                true
            }
            Action::Inbox | Action::Help | Action::Palette | Action::Prefix => false,
        }
    }
}

/// The listener, the help and the palette. Placed once on the inbox page.
#[component]
pub fn Shortcuts() -> impl IntoView {
    let help = RwSignal::new(false);
    let palette = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let navigate = leptos_router::hooks::use_navigate();
        let after_g = StoredValue::new(false);
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let prev_g = after_g.get_value();
            after_g.set_value(false);
            if ev.default_prevented() || ev.is_composing() {
                return;
            }
            let Some(a) = action_for(
                &ev.key(),
                ev.ctrl_key() || ev.meta_key(),
                ev.alt_key(),
                dom::typing(),
                prev_g,
            ) else {
                return;
            };
            match a {
                Action::Prefix => after_g.set_value(true),
                Action::Inbox => {
                    ev.prevent_default();
                    navigate("/inbox", Default::default());
                }
                Action::Help => {
                    ev.prevent_default();
                    help.update(|h| *h = !*h);
                }
                Action::Palette => {
                    ev.prevent_default();
                    help.set(false);
                    palette.update(|p| *p = !*p);
                }
                Action::Leave if help.get_untracked() || palette.get_untracked() => {
                    help.set(false);
                    palette.set(false);
                }
                other => {
                    if dom::run(other) {
                        ev.prevent_default();
                    }
                }
            }
        });
        on_cleanup(move || handle.remove());
    }
    view! {
        <Show when=move || help.get()>
            <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="keys-heading">
                <div class="overlay-box">
                    <h2 id="keys-heading">"Keyboard shortcuts"</h2>
                    <table class="keys">
                        <tbody>
                            {HELP.iter().map(|(k, what)| view! { <tr><th scope="row"><kbd>{*k}</kbd></th><td>{*what}</td></tr> }).collect_view()}
                        </tbody>
                    </table>
                    <p class="hint">"Letter shortcuts do nothing while you type in a field."</p>
                    <HelpClose help/>
                </div>
            </div>
        </Show>
        <Show when=move || palette.get()>
            <Palette open=palette help/>
        </Show>
    }
}

/// The help's Close button, focused when the help opens (so Escape and Tab start there).
#[component]
fn HelpClose(help: RwSignal<bool>) -> impl IntoView {
    let button = NodeRef::<leptos::html::Button>::new();
    // After the frame: the effect runs before the new element is in the document.
    Effect::new(move |_| {
        if let Some(b) = button.get() {
            request_animation_frame(move || {
                let _ = b.focus();
            });
        }
    });
    view! { <button type="button" node_ref=button on:click=move |_| help.set(false)>"Close"</button> }
}

#[component]
fn Palette(open: RwSignal<bool>, help: RwSignal<bool>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(i) = input.get() {
            request_animation_frame(move || {
                let _ = i.focus();
            });
        }
    });
    let active = RwSignal::new(0usize);
    // Customers matching what is typed, fetched as it changes. A plain signal, not a
    // resource: a resource read here would suspend the page's boundary and redraw the input.
    let customers = RwSignal::new(Vec::<Command>::new());
    let asked = StoredValue::new(0u64);
    Effect::new(move |_| {
        let t = typed.get();
        asked.update_value(|n| *n += 1);
        let mine = asked.get_value();
        if t.trim().chars().count() < 2 {
            customers.set(Vec::new());
            return;
        }
        leptos::task::spawn_local(async move {
            let found = match search(t, None).await {
                Ok(p) => p
                    .items
                    .into_iter()
                    .take(8)
                    .map(|r| Command::Customer(r.conversation.customer_name, r.conversation.id))
                    .collect(),
                Err(_) => Vec::new(),
            };
            // Only the answer to the latest words.
            // (The palette may have closed meanwhile: nothing to update then.)
            if asked.try_get_value() == Some(mine) {
                let _ = customers.try_set(found);
            }
        });
    });
    let options = Memo::new(move |_| {
        let mut all = matching_commands(&typed.get());
        all.extend(customers.get());
        all
    });
    let navigate = leptos_router::hooks::use_navigate();
    let run = move |c: Command| {
        open.set(false);
        match c {
            Command::Go(_, href) => navigate(href, Default::default()),
            Command::Customer(_, id) => navigate(&format!("/inbox/{id}"), Default::default()),
            Command::Press(_, "help") => help.set(true),
            Command::Press(_, "search") => {
                #[cfg(feature = "hydrate")]
                dom::focus("#search-box");
            }
            Command::Press(_, "label") => {
                #[cfg(feature = "hydrate")]
                dom::open_labels();
            }
            Command::Press(_, "snooze") => {
                #[cfg(feature = "hydrate")]
                dom::focus("#snooze-for");
            }
            Command::Press(_, name) => {
                #[cfg(feature = "hydrate")]
                dom::press(name);
                let _ = name;
            }
        }
    };
    let run_key = run.clone();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = options.with_untracked(|o| o.len());
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                if n > 0 {
                    active.update(|a| *a = (*a + 1) % n);
                }
            }
            "ArrowUp" => {
                ev.prevent_default();
                if n > 0 {
                    active.update(|a| *a = (*a + n - 1) % n);
                }
            }
            "Enter" => {
                ev.prevent_default();
                if let Some(c) = options.with_untracked(|o| o.get(active.get_untracked()).cloned())
                {
                    run_key(c);
                }
            }
            "Escape" => open.set(false),
            _ => {}
        }
    };
    view! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label="Command palette">
            <div class="overlay-box palette">
                <label for="palette-input" class="visually-hidden">"Command or customer"</label>
                <input
                    id="palette-input"
                    node_ref=input
                    type="text"
                    autocomplete="off"
                    placeholder="Type a command or a customer's name"
                    role="combobox"
                    aria-expanded="true"
                    aria-controls="palette-list"
                    aria-activedescendant=move || format!("palette-{}", active.get())
                    prop:value=move || typed.get()
                    on:input=move |ev| {
                        typed.set(event_target_value(&ev));
                        active.set(0);
                    }
                    on:keydown=on_key
                />
                <ul id="palette-list" role="listbox" aria-label="Commands and customers">
                    {move || {
                        let run = run.clone();
                        options
                            .get()
                            .into_iter()
                            .enumerate()
                            .map(|(i, c)| {
                                let run = run.clone();
                                let label = c.label();
                                view! {
                                    <li
                                        id=format!("palette-{i}")
                                        role="option"
                                        aria-selected=move || (active.get() == i).to_string()
                                        class:active=move || active.get() == i
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            run(c.clone());
                                        }
                                    >
                                        {label}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_act_only_outside_fields() {
        assert_eq!(
            action_for("j", false, false, false, false),
            Some(Action::Next)
        );
        assert_eq!(action_for("j", false, false, true, false), None, "typing");
        assert_eq!(
            action_for("e", false, false, false, false),
            Some(Action::Resolve)
        );
        assert_eq!(
            action_for("/", false, false, false, false),
            Some(Action::Search)
        );
        assert_eq!(action_for("/", false, false, true, false), None);
        assert_eq!(
            action_for("?", false, false, false, false),
            Some(Action::Help)
        );
        assert_eq!(action_for("j", false, true, false, false), None, "alt");
    }

    #[test]
    fn chords_and_escape_act_while_typing() {
        assert_eq!(
            action_for("Enter", true, false, true, false),
            Some(Action::Send)
        );
        assert_eq!(action_for("Enter", true, false, false, false), None);
        assert_eq!(
            action_for("k", true, false, true, false),
            Some(Action::Palette)
        );
        assert_eq!(
            action_for("Escape", false, false, true, false),
            Some(Action::Leave)
        );
    }

    #[test]
    fn g_then_i_goes_to_the_inbox() {
        assert_eq!(
            action_for("g", false, false, false, false),
            Some(Action::Prefix)
        );
        assert_eq!(
            action_for("i", false, false, false, true),
            Some(Action::Inbox)
        );
        assert_eq!(action_for("x", false, false, false, true), None);
        assert_eq!(action_for("i", false, false, false, false), None);
    }

    #[test]
    fn the_palette_filters_by_every_word() {
        let m = matching_commands("assign me");
        assert_eq!(
            m,
            vec![Command::Press(
                "Assign this conversation to me",
                "assign-me"
            )]
        );
        assert_eq!(matching_commands("").len(), COMMANDS.len());
        assert!(matching_commands("zzz").is_empty());
    }
}
