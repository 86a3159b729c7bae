//! What the agent is writing in the conversation view's forms, kept outside the data it
//! re-fetches.

use crate::domain::ChannelKind;
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
