//! Collision: the line that says who else has this conversation open or is writing a reply,
//! and the warning when another agent replied while this one was writing.
//!
//! Each browser announces itself every [`HEARTBEAT_MS`] while the conversation is open, when
//! the agent types (at most every [`TYPING_EVERY_MS`]) and when it closes; the others keep
//! what they heard for [`VIEWING_FOR_MS`] (typing for [`TYPING_FOR_MS`]). A newcomer is
//! answered at once, so both see each other within a second.

use super::draft::Draft;
use crate::model::{Presence, PresenceState};
use leptos::prelude::*;

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const HEARTBEAT_MS: i64 = 10_000;
pub const VIEWING_FOR_MS: i64 = 25_000;
pub const TYPING_FOR_MS: i64 = 7_000;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const TYPING_EVERY_MS: i64 = 3_000;

/// The other agents on a conversation, as last heard.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Roster {
    /// (user id, name, state, when heard).
    pub others: Vec<(i64, String, PresenceState, i64)>,
}

impl Roster {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    /// Takes in what was heard; true when it is someone not on the roster before (who
    /// should hear from us at once).
    pub fn apply(&mut self, me: i64, p: &Presence, now: i64) -> bool {
        if p.user_id == me {
            return false;
        }
        let known = self.others.iter().position(|o| o.0 == p.user_id);
        match p.state {
            PresenceState::Left => {
                if let Some(i) = known {
                    self.others.remove(i);
                }
                false
            }
            // A reply is not a place: they still have it open.
            state => {
                let state = if state == PresenceState::Replied {
                    PresenceState::Viewing
                } else {
                    state
                };
                match known {
                    Some(i) => {
                        self.others[i] = (p.user_id, p.name.clone(), state, now);
                        false
                    }
                    None => {
                        self.others.push((p.user_id, p.name.clone(), state, now));
                        true
                    }
                }
            }
        }
    }

    /// Who is there now, and whether each is typing, by name.
    pub fn now(&self, now: i64) -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> = self
            .others
            .iter()
            .filter(|o| now - o.3 <= VIEWING_FOR_MS)
            // A website chat visitor (user id 0) is only news while writing.
            .filter(|o| o.0 > 0 || (o.2 == PresenceState::Typing && now - o.3 <= TYPING_FOR_MS))
            .map(|o| {
                (
                    o.1.clone(),
                    o.2 == PresenceState::Typing && now - o.3 <= TYPING_FOR_MS,
                )
            })
            .collect();
        out.sort();
        out
    }
}

/// "Alex Agent is writing a reply. Kim is viewing this conversation." (None: nobody else.)
pub fn sentence(people: &[(String, bool)]) -> Option<String> {
    let join = |names: Vec<&str>| match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    let typing: Vec<&str> = people
        .iter()
        .filter(|p| p.1)
        .map(|p| p.0.as_str())
        .collect();
    let viewing: Vec<&str> = people
        .iter()
        .filter(|p| !p.1)
        .map(|p| p.0.as_str())
        .collect();
    let mut parts = Vec::new();
    if !typing.is_empty() {
        let n = typing.len();
        parts.push(format!(
            "{} {} writing a reply.",
            join(typing),
            if n == 1 { "is" } else { "are" }
        ));
    }
    if !viewing.is_empty() {
        let n = viewing.len();
        parts.push(format!(
            "{} {} viewing this conversation.",
            join(viewing),
            if n == 1 { "is" } else { "are" }
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn now_ms() -> i64 {
    crate::api::zone::now_ms()
}

/// What the presence line shows; kept by the conversation view (outside the parts it redraws
/// on every change), read by [`PresenceLine`].
#[derive(Clone, Copy)]
pub struct Tracker {
    roster: RwSignal<Roster>,
    clock: RwSignal<i64>,
    replied: RwSignal<Option<String>>,
}

/// Starts announcing the agent on conversation `id` and listening to the others.
pub fn track(id: i64, draft: Draft) -> Tracker {
    let live = expect_context::<crate::ui::live::Live>();
    let me = use_context::<crate::ui::CurrentUser>()
        .map(|u| u.0.id)
        .unwrap_or(0);
    let roster = RwSignal::new(Roster::default());
    let clock = RwSignal::new(now_ms());
    // Someone else's reply that arrived while the draft was not empty.
    let replied = RwSignal::new(None::<String>);

    #[cfg(feature = "hydrate")]
    {
        use crate::api::presence::announce_presence;
        use std::time::Duration;
        let announce = move |state: &'static str| {
            leptos::task::spawn_local(async move {
                let _ = announce_presence(id, state.to_string()).await;
            });
        };
        announce("viewing");
        let last_sent = StoredValue::new(now_ms());
        if let Ok(h) = set_interval_with_handle(
            move || {
                let now = now_ms();
                clock.set(now);
                if now - last_sent.get_value() >= HEARTBEAT_MS {
                    last_sent.set_value(now);
                    announce("viewing");
                }
            },
            Duration::from_millis(1_000),
        ) {
            on_cleanup(move || {
                h.clear();
                leptos::task::spawn_local(async move {
                    let _ = announce_presence(id, "left".into()).await;
                });
            });
        }
        // Closing the tab or leaving the site runs no cleanup: a beacon says it still.
        let gone = window_event_listener(leptos::ev::pagehide, move |_| {
            if let Ok(params) =
                web_sys::UrlSearchParams::new_with_str(&format!("id={id}&state=left"))
            {
                let _ = window().navigator().send_beacon_with_opt_url_search_params(
                    "/api/conversation/presence",
                    Some(&params),
                );
            }
        });
        on_cleanup(move || gone.remove());
        // Typing: announced when the reply changes, at most every few seconds.
        let last_typed = StoredValue::new(0i64);
        Effect::new(move |prev: Option<String>| {
            let body = draft.body.get();
            if prev.is_some_and(|p| p != body) && !body.trim().is_empty() {
                let now = now_ms();
                if now - last_typed.get_value() >= TYPING_EVERY_MS {
                    last_typed.set_value(now);
                    announce("typing");
                }
            }
            body
        });
        // What others say.
        Effect::new(move |_| {
            let Some(ev) = live.presence.get() else {
                return;
            };
            if ev.conversation_id != Some(id) {
                return;
            }
            let Some(p) = ev.presence else { return };
            if p.user_id != me
                && p.state == PresenceState::Replied
                && !draft.body.get_untracked().trim().is_empty()
            {
                replied.set(Some(p.name.clone()));
            }
            let newcomer = roster
                .try_update(|r| r.apply(me, &p, now_ms()))
                .unwrap_or(false);
            if newcomer {
                last_sent.set_value(now_ms());
                announce("viewing");
            }
        });
        // The warning goes with the draft it was about.
        Effect::new(move |_| {
            if draft.body.get().trim().is_empty() {
                replied.set(None);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, me, id, draft);
    Tracker {
        roster,
        clock,
        replied,
    }
}

/// Who else is here, and the warning when someone replied while the agent was writing.
#[component]
pub fn PresenceLine(t: Tracker) -> impl IntoView {
    let Tracker {
        roster,
        clock,
        replied,
    } = t;
    let line = move || sentence(&roster.with(|r| r.now(clock.get())));
    view! {
        <div class="presence" aria-live="polite">
            {move || line().map(|s| view! { <p class="presence-line">{s}</p> })}
        </div>
        {move || replied.get().map(|name| view! {
            <p class="collision" role="alert">
                {format!("{name} replied while you were writing. Read their reply in the timeline before you send yours.")}
            </p>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: i64, name: &str, state: PresenceState) -> Presence {
        Presence {
            user_id: id,
            name: name.into(),
            state,
        }
    }

    #[test]
    fn the_roster_keeps_others_for_a_while() {
        let mut r = Roster::default();
        assert!(
            !r.apply(1, &p(1, "Me", PresenceState::Viewing), 0),
            "not myself"
        );
        assert!(
            r.apply(1, &p(2, "Alex", PresenceState::Viewing), 0),
            "a newcomer"
        );
        assert!(!r.apply(1, &p(2, "Alex", PresenceState::Typing), 1_000));
        assert_eq!(r.now(2_000), vec![("Alex".to_string(), true)]);
        assert_eq!(
            r.now(1_000 + TYPING_FOR_MS + 1),
            vec![("Alex".to_string(), false)]
        );
        assert!(r.now(1_000 + VIEWING_FOR_MS + 1).is_empty(), "gone quiet");
        r.apply(1, &p(2, "Alex", PresenceState::Left), 3_000);
        assert!(r.now(3_000).is_empty());
    }

    #[test]
    fn the_line_reads_as_a_sentence() {
        assert_eq!(sentence(&[]), None);
        assert_eq!(
            sentence(&[("Alex".into(), true)]).unwrap(),
            "Alex is writing a reply."
        );
        // A chat visitor (user 0) shows only while writing.
        let mut r = Roster::default();
        r.apply(1, &p(0, "The visitor", PresenceState::Typing), 0);
        assert_eq!(r.now(1_000), vec![("The visitor".to_string(), true)]);
        assert_eq!(r.now(TYPING_FOR_MS + 1), vec![]);
        assert_eq!(
            sentence(&[
                ("Alex".into(), false),
                ("Kim".into(), false),
                ("Sam".into(), true)
            ])
            .unwrap(),
            "Sam is writing a reply. Alex and Kim are viewing this conversation."
        );
    }
}
