//! What the agent is writing in the conversation view's forms, kept outside the data it
//! re-fetches.

use crate::domain::ChannelKind;
use crate::ui::fresh_key;
use leptos::prelude::*;

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
