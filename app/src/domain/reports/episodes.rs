//! Episodes of a never-ending customer conversation.
//!
//! A Convergence conversation never ends (one per customer, across
//! channels), so support metrics are measured per *episode*: a stretch of
//! the conversation that starts with a customer message and ends when an
//! agent resolves it or when it goes quiet.
//!
//! Pure rules, `std` only, no I/O. Times are `i64` unix seconds (UTC).
//!
//! # Rules (they match [`episodes`] exactly)
//!
//! * Facts are processed in time order; facts with equal times keep their
//!   input order (the input is copied and stably sorted, never mutated).
//! * *Activity* means a message: an inbound, an agent reply or an auto reply
//!   that belongs to the episode. Status facts (resolved, reopened, moved)
//!   are not activity.
//! * An episode **lapses** when the next fact comes more than
//!   `inactivity_secs` after the episode's last message. A gap of exactly
//!   `inactivity_secs` does *not* lapse (default 7 days: a gap of
//!   604 800 s keeps the episode, 604 801 s ends it).
//! * An inbound message starts a new episode when there is no episode in
//!   progress: never started, the previous one lapsed, or the previous one
//!   was resolved (a new inbound after a resolution is a new episode, not a
//!   reopen).
//! * A `Resolved` fact resolves the episode in progress (a second one while
//!   already resolved is ignored). Until the episode lapses or a new inbound
//!   arrives, a `Reopened` fact reopens the *same* episode
//!   (`reopened = true`); its resolution then moves to the next `Resolved`.
//! * A `Resolved` that comes after an unresolved episode lapsed belongs to
//!   no episode: the episode stays `Inactive`.
//! * An inbound answers nothing; an agent reply answers every inbound before
//!   it; an auto reply answers nothing.
//! * While an episode is resolved, replies, auto replies and moves belong to
//!   no episode (they still count as outbound volume). So do outbound
//!   messages before the first inbound or after a lapse, and status facts
//!   when no episode is in progress.
//! * End: `Resolved` (`ended_at` = time of the final resolution),
//!   `Inactive` (lapsed; `ended_at` = time of its last message) or `Open`
//!   (still running at `now`; `ended_at = None`). At `now` the same
//!   "more than `inactivity_secs`" rule decides between `Open` and
//!   `Inactive`.

use std::collections::BTreeMap;

use crate::domain::window::{has_service_window, DAY_MS};
use crate::domain::ChannelKind;

/// Default inactivity period: 7 days in seconds.
pub const DEFAULT_INACTIVITY_SECS: i64 = 7 * 86_400;

/// Length of the WhatsApp / Messenger / Instagram customer-care messaging
/// window, in seconds (24 hours).
/// The channels are the composer's ([`has_service_window`]); a reply exactly 24 hours after
/// the customer's message still counts as inside the window here.
pub const MESSAGING_WINDOW_SECS: i64 = DAY_MS / 1000;

/// Position of `channel` in [`ChannelKind::ALL`] (declaration order).
fn channel_index(channel: ChannelKind) -> usize {
    channel as usize
}

/// What happened in a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactKind {
    /// A customer message.
    Inbound {
        /// ChannelKind the customer wrote on.
        channel: ChannelKind,
    },
    /// A human agent's reply.
    AgentReply {
        /// ChannelKind the reply was sent on.
        channel: ChannelKind,
        /// The agent's id.
        agent: i64,
    },
    /// An automatic or system message (auto-acknowledgement, hand-off text
    /// sent on a move). Never counts as a human reply.
    AutoReply {
        /// ChannelKind the message was sent on.
        channel: ChannelKind,
    },
    /// Status changed to resolved / closed.
    Resolved {
        /// The agent who resolved it, if a human did.
        agent: Option<i64>,
    },
    /// Status set back to open by an agent (not by a new inbound).
    Reopened,
    /// An agent moved the conversation to another channel.
    Moved {
        /// ChannelKind before the move.
        from: ChannelKind,
        /// ChannelKind after the move.
        to: ChannelKind,
        /// The agent who moved it, if known.
        agent: Option<i64>,
    },
}

/// One timestamped fact of a conversation's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fact {
    /// Unix seconds (UTC).
    pub at: i64,
    /// What happened.
    pub kind: FactKind,
}

/// Settings for splitting a history into episodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpisodeConfig {
    /// An episode lapses when no message follows its last message for more
    /// than this many seconds (strictly more: an equal gap keeps it).
    pub inactivity_secs: i64,
}

impl Default for EpisodeConfig {
    fn default() -> Self {
        EpisodeConfig {
            inactivity_secs: DEFAULT_INACTIVITY_SECS,
        }
    }
}

/// How an episode ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndKind {
    /// An agent resolved it (and did not reopen it afterwards).
    Resolved,
    /// It lapsed: no message for more than the inactivity period.
    Inactive,
    /// Still running at `now`.
    Open,
}

/// One episode of a conversation and its per-episode metrics. All
/// durations are in wall-clock seconds and never negative; the `*_with`
/// methods recompute them with another clock (e.g. business hours).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Episode {
    /// Time of the inbound message that started the episode.
    pub started_at: i64,
    /// Time of the episode's last message (inbound, reply or auto reply).
    pub last_message_at: i64,
    /// Final resolution time for `Resolved`, last message time for
    /// `Inactive`, `None` for `Open`.
    pub ended_at: Option<i64>,
    /// How the episode ended.
    pub end: EndKind,
    /// ChannelKind of the first inbound message.
    pub first_channel: ChannelKind,
    /// For resolved episodes: channel of the last agent reply before the
    /// resolution, or of the last inbound if no agent replied.
    pub resolution_channel: Option<ChannelKind>,
    /// Distinct channels the customer wrote on, in order of first use.
    pub channels_written: Vec<ChannelKind>,
    /// The customer wrote on two or more channels.
    pub switched: bool,
    /// An agent moved the conversation to another channel during the episode.
    pub moved: bool,
    /// Time of the first agent reply (auto replies do not count).
    pub first_response_at: Option<i64>,
    /// `first_response_at - started_at`.
    pub first_response_secs: Option<i64>,
    /// For each agent reply that answered something: (time of the oldest
    /// unanswered inbound before it, time of the reply).
    pub reply_spans: Vec<(i64, i64)>,
    /// Durations of `reply_spans`, in the same order.
    pub reply_secs: Vec<i64>,
    /// The channel of each reply in `reply_spans`, in the same order.
    pub reply_channels: Vec<ChannelKind>,
    /// Time of the final resolution (only when `end` is `Resolved`).
    pub resolved_at: Option<i64>,
    /// `resolved_at - started_at`.
    pub resolution_secs: Option<i64>,
    /// Resolved and then explicitly reopened at least once.
    pub reopened: bool,
    /// The customer wrote on a channel while an inbound on a different
    /// channel was still unanswered.
    pub repeated: bool,
    /// Agent replies on a 24-hour-window channel sent more than 24 h after
    /// the customer's last inbound on that channel (or with no inbound on
    /// that channel at all in the conversation so far).
    pub window_expired_replies: usize,
    /// `window_expired_replies` per channel the reply was sent on.
    pub window_expired_by_channel: BTreeMap<ChannelKind, usize>,
    /// Number of agent replies per channel.
    pub replies_by_channel: BTreeMap<ChannelKind, usize>,
    /// Agent of the first agent reply; if nobody replied, the agent who
    /// resolved the episode (if any).
    pub handled_by: Option<i64>,
    /// Inbound messages in the episode.
    pub inbound: usize,
    /// Agent replies plus auto replies in the episode.
    pub outbound: usize,
}

impl Episode {
    /// First response time measured with `duration(from, to)`.
    pub fn first_response_with<F: Fn(i64, i64) -> i64>(&self, duration: F) -> Option<i64> {
        self.first_response_at
            .map(|at| duration(self.started_at, at))
    }

    /// Reply times measured with `duration(from, to)`.
    pub fn reply_secs_with<F: Fn(i64, i64) -> i64>(&self, duration: F) -> Vec<i64> {
        self.reply_spans
            .iter()
            .map(|&(from, to)| duration(from, to))
            .collect()
    }

    /// Resolution time measured with `duration(from, to)`.
    pub fn resolution_with<F: Fn(i64, i64) -> i64>(&self, duration: F) -> Option<i64> {
        self.resolved_at.map(|at| duration(self.started_at, at))
    }
}

/// Wall-clock seconds from `from` to `to`, never negative, never overflowing.
pub fn wall_secs(from: i64, to: i64) -> i64 {
    to.saturating_sub(from).max(0)
}

/// An episode being built.
struct Current {
    episode: Episode,
    /// Oldest inbound not yet answered by an agent reply.
    unanswered_since: Option<i64>,
    /// Channels with an inbound not yet answered.
    unanswered_channels: Vec<ChannelKind>,
    last_inbound_channel: ChannelKind,
    last_agent_channel: Option<ChannelKind>,
    first_replier: Option<i64>,
    /// Pending resolution: (time, resolving agent).
    resolution: Option<(i64, Option<i64>)>,
}

impl Current {
    fn start(at: i64, channel: ChannelKind) -> Current {
        Current {
            episode: Episode {
                started_at: at,
                last_message_at: at,
                ended_at: None,
                end: EndKind::Open,
                first_channel: channel,
                resolution_channel: None,
                channels_written: Vec::new(),
                switched: false,
                moved: false,
                first_response_at: None,
                first_response_secs: None,
                reply_spans: Vec::new(),
                reply_secs: Vec::new(),
                reply_channels: Vec::new(),
                resolved_at: None,
                resolution_secs: None,
                reopened: false,
                repeated: false,
                window_expired_replies: 0,
                window_expired_by_channel: BTreeMap::new(),
                replies_by_channel: BTreeMap::new(),
                handled_by: None,
                inbound: 0,
                outbound: 0,
            },
            unanswered_since: None,
            unanswered_channels: Vec::new(),
            last_inbound_channel: channel,
            last_agent_channel: None,
            first_replier: None,
            resolution: None,
        }
    }

    fn is_resolved(&self) -> bool {
        self.resolution.is_some()
    }

    fn lapsed_at(&self, at: i64, inactivity_secs: i64) -> bool {
        at.saturating_sub(self.episode.last_message_at) > inactivity_secs
    }

    fn inbound(&mut self, at: i64, channel: ChannelKind) {
        let ep = &mut self.episode;
        ep.inbound += 1;
        ep.last_message_at = at;
        if !ep.channels_written.contains(&channel) {
            ep.channels_written.push(channel);
        }
        if self.unanswered_channels.iter().any(|&c| c != channel) {
            ep.repeated = true;
        }
        if !self.unanswered_channels.contains(&channel) {
            self.unanswered_channels.push(channel);
        }
        self.unanswered_since.get_or_insert(at);
        self.last_inbound_channel = channel;
    }

    fn agent_reply(&mut self, at: i64, channel: ChannelKind, agent: i64, window_expired: bool) {
        let ep = &mut self.episode;
        ep.outbound += 1;
        ep.last_message_at = at;
        *ep.replies_by_channel.entry(channel).or_insert(0) += 1;
        if window_expired {
            ep.window_expired_replies += 1;
            *ep.window_expired_by_channel.entry(channel).or_insert(0) += 1;
        }
        if ep.first_response_at.is_none() {
            ep.first_response_at = Some(at);
            self.first_replier = Some(agent);
        }
        if let Some(since) = self.unanswered_since.take() {
            ep.reply_spans.push((since, at));
            ep.reply_channels.push(channel);
        }
        self.unanswered_channels.clear();
        self.last_agent_channel = Some(channel);
    }

    fn auto_reply(&mut self, at: i64) {
        self.episode.outbound += 1;
        self.episode.last_message_at = at;
    }

    /// Finishes the episode; `lapsed` says whether an unresolved episode
    /// is over by inactivity (otherwise it is still open).
    fn finish(self, lapsed: bool) -> Episode {
        let mut ep = self.episode;
        ep.switched = ep.channels_written.len() >= 2;
        ep.first_response_secs = ep.first_response_at.map(|at| wall_secs(ep.started_at, at));
        ep.reply_secs = ep
            .reply_spans
            .iter()
            .map(|&(from, to)| wall_secs(from, to))
            .collect();
        ep.handled_by = self.first_replier;
        if let Some((at, resolver)) = self.resolution {
            ep.end = EndKind::Resolved;
            ep.ended_at = Some(at);
            ep.resolved_at = Some(at);
            ep.resolution_secs = Some(wall_secs(ep.started_at, at));
            ep.resolution_channel =
                Some(self.last_agent_channel.unwrap_or(self.last_inbound_channel));
            ep.handled_by = ep.handled_by.or(resolver);
        } else if lapsed {
            ep.end = EndKind::Inactive;
            ep.ended_at = Some(ep.last_message_at);
        }
        ep
    }
}

/// Splits one conversation's history into episodes (see the module docs
/// for the exact rules). `facts` may be unsorted; `now` decides whether the
/// last unresolved episode is `Open` or `Inactive`.
pub fn episodes(facts: &[Fact], config: &EpisodeConfig, now: i64) -> Vec<Episode> {
    let mut sorted: Vec<&Fact> = facts.iter().collect();
    sorted.sort_by_key(|fact| fact.at); // stable: ties keep input order
    let mut done = Vec::new();
    let mut current: Option<Current> = None;
    // Conversation-wide time of the customer's last inbound per channel.
    let mut last_inbound_on = [None::<i64>; ChannelKind::ALL.len()];

    for fact in sorted {
        let at = fact.at;
        if let Some(cur) = current.take() {
            if cur.lapsed_at(at, config.inactivity_secs) {
                done.push(cur.finish(true));
            } else {
                current = Some(cur);
            }
        }
        // Only an unresolved episode takes replies and moves.
        let active = current.as_mut().filter(|cur| !cur.is_resolved());
        match fact.kind {
            FactKind::Inbound { channel } => {
                let mut cur = match current.take() {
                    Some(cur) if !cur.is_resolved() => cur,
                    previous => {
                        if let Some(resolved) = previous {
                            done.push(resolved.finish(false));
                        }
                        Current::start(at, channel)
                    }
                };
                cur.inbound(at, channel);
                current = Some(cur);
                last_inbound_on[channel_index(channel)] = Some(at);
            }
            FactKind::AgentReply { channel, agent } => {
                if let Some(cur) = active {
                    let expired = has_service_window(channel)
                        && last_inbound_on[channel_index(channel)]
                            .is_none_or(|t| at.saturating_sub(t) > MESSAGING_WINDOW_SECS);
                    cur.agent_reply(at, channel, agent, expired);
                }
            }
            FactKind::AutoReply { .. } => {
                if let Some(cur) = active {
                    cur.auto_reply(at);
                }
            }
            FactKind::Resolved { agent } => {
                if let Some(cur) = active {
                    cur.resolution = Some((at, agent));
                }
            }
            FactKind::Reopened => {
                if let Some(cur) = current.as_mut() {
                    if cur.resolution.take().is_some() {
                        cur.episode.reopened = true;
                    }
                }
            }
            FactKind::Moved { .. } => {
                if let Some(cur) = active {
                    cur.episode.moved = true;
                }
            }
        }
    }
    if let Some(cur) = current {
        let lapsed = cur.lapsed_at(now, config.inactivity_secs);
        done.push(cur.finish(lapsed));
    }
    done
}

#[cfg(test)]
#[path = "episodes_tests.rs"]
mod tests;
