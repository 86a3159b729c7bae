//! Report metrics over episodes: duration summaries, rates, the
//! first-contact -> resolution channel matrix, per-agent figures, daily
//! volume and the inbound heatmap.
//!
//! Pure rules, `std` only. Episodes come from [`super::episodes::episodes`];
//! durations can be measured on any [`Clock`] (wall clock or business hours).

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::ChannelKind;

use super::episodes::{EndKind, Episode, Fact, FactKind};
use super::hours::{weekday_of_day, Clock, MAX_UTC_OFFSET_SECS};

/// Plain-English definitions shown on the reports page, as
/// `(metric name, definition)`. They describe this code exactly.
pub const DEFINITIONS: &[(&str, &str)] = &[
    (
        "Episode",
        "A stretch of a customer's conversation that starts with a customer message when nothing \
         is in progress (first contact, after a resolution, or after the inactivity period) and \
         ends when an agent resolves it or when it goes quiet. Messages we send while no episode \
         is in progress (campaigns, replies after a resolution) belong to no episode.",
    ),
    (
        "Inactivity period",
        "An unresolved episode with no message in either direction for more than this period (7 \
         days by default) ends as inactive at its last message, even if it is resolved later; a \
         gap of exactly the period does not end it.",
    ),
    (
        "Reopened",
        "An episode resolved and then reopened by an agent before the customer wrote again and \
         within the inactivity period after its last message; it stays one episode and its \
         resolution moves to the final resolve. A customer message after a resolution starts a \
         new episode instead.",
    ),
    (
        "First response time",
        "Time from the customer's first message in the episode to the first reply by a human \
         agent; automatic messages do not count.",
    ),
    (
        "Reply time",
        "For each agent reply that answers waiting customer messages, the time since the oldest of \
         them; an agent reply answers every customer message before it, automatic messages answer \
         none.",
    ),
    (
        "Resolution time",
        "Time from the customer's first message in the episode to its final resolution; only \
         resolved episodes have one.",
    ),
    (
        "Reopen rate",
        "Reopened episodes divided by episodes that were resolved at least once.",
    ),
    (
        "Channel switch rate",
        "Share of episodes in which the customer wrote on two or more channels.",
    ),
    (
        "Moved rate",
        "Share of episodes in which an agent moved the conversation to another channel; counted \
         separately from channel switches.",
    ),
    (
        "Repeated contact rate",
        "Share of episodes in which the customer wrote on one channel while a message on another \
         channel was still unanswered by an agent.",
    ),
    (
        "Messaging window expired",
        "Agent replies on WhatsApp, Messenger or Instagram sent more than 24 hours after the \
         customer's last message on that same channel, or on a channel the customer never wrote \
         on, when the platform's reply window was closed.",
    ),
    (
        "First contact to resolution channel",
        "For resolved episodes, the channel of the customer's first message against the channel of \
         the last agent reply before the resolution (or of the customer's last message if no agent \
         replied).",
    ),
    (
        "Handled by",
        "The agent who sent the episode's first agent reply, or who resolved it if nobody replied; \
         per-agent figures count the episodes each agent handled.",
    ),
    (
        "Business hours",
        "Durations can be counted only within the account's opening hours in its time zone; nights \
         and closed days do not count. Set them on the report settings page.",
    ),
    (
        "Reachable for marketing",
        "A customer marketing may write to on a channel now: the newest marketing consent change \
         of one of their identifiers on that channel gave consent. Nothing recorded means not \
         asked, and marketing may not write.",
    ),
    (
        "Channel of choice",
        "The channel a customer opened most of their episodes on in the period; a tie goes to the \
         latest day. Comparing two periods shows who moved to another channel.",
    ),
    (
        "Delivered",
        "A message the provider reported delivered or read; waiting means sent with no report \
         yet, failed means the provider or the outbox gave up.",
    ),
    (
        "Median",
        "The smallest value such that at least half of the values are at or below it.",
    ),
    (
        "90th percentile",
        "The smallest value such that at least 90% of the values are at or below it.",
    ),
    ("Average", "The arithmetic mean of the values."),
    (
        "Episodes opened",
        "Episodes started on that day, counted on the channel of the customer's first message.",
    ),
    (
        "Inbound messages",
        "Customer messages received on that day and channel.",
    ),
    (
        "Outbound messages",
        "Agent replies and automatic messages sent on that day and channel, including those \
         outside any episode such as campaigns.",
    ),
    (
        "Unique customers",
        "Distinct customers who wrote to us at least once on that day and channel; the daily total \
         counts each customer once across channels.",
    ),
    (
        "Inbound heatmap",
        "Customer messages counted by weekday and hour of the day in the account's time zone.",
    ),
];

/// Summary statistics of a set of durations (seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// Nearest-rank 50th percentile.
    pub median: Option<i64>,
    /// Nearest-rank 90th percentile.
    pub p90: Option<i64>,
    /// Arithmetic mean.
    pub average: Option<f64>,
}

impl Summary {
    /// Summarizes `values` (any order). Empty input gives count 0 and `None`s.
    /// In linear time (a report summarises hundreds of thousands of values).
    pub fn of(values: &[i64]) -> Summary {
        Summary::of_vec(values.to_vec())
    }

    /// [`Summary::of`] values the caller no longer needs (reorders them, copies nothing).
    pub fn of_vec(mut v: Vec<i64>) -> Summary {
        if v.is_empty() {
            return Summary::default();
        }
        let sum: i128 = v.iter().map(|&x| i128::from(x)).sum();
        let (Some(m), Some(n)) = (rank_index(v.len(), 50), rank_index(v.len(), 90)) else {
            return Summary::default();
        };
        let median = *v.select_nth_unstable(m).1;
        // Everything after the median is at least the median: the 90th is among them.
        let p90 = *v[m..].select_nth_unstable(n - m).1;
        Summary {
            count: v.len(),
            median: Some(median),
            p90: Some(p90),
            average: Some(sum as f64 / v.len() as f64),
        }
    }
}

/// Index of the nearest-rank `percent` percentile among `len` ascending values.
fn rank_index(len: usize, percent: u32) -> Option<usize> {
    // u128 cannot overflow: at most 100 * usize::MAX.
    let scaled = u128::from(percent.min(100)) * len as u128;
    let rank = scaled.div_ceil(100).max(1);
    usize::try_from(rank - 1).ok().filter(|&i| i < len)
}

/// Nearest-rank percentile of ascending `sorted` values: the smallest value
/// such that at least `percent`% of the values are `<=` it. `percent` above
/// 100 is treated as 100; `None` for an empty slice.
pub fn percentile(sorted: &[i64], percent: u32) -> Option<i64> {
    sorted.get(rank_index(sorted.len(), percent)?).copied()
}

/// [`percentile`] of `values` in any order, in linear time (reorders them).
pub fn nearest_rank(values: &mut [i64], percent: u32) -> Option<i64> {
    let i = rank_index(values.len(), percent)?;
    Some(*values.select_nth_unstable(i).1)
}

/// A duration metric of an episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DurationMetric {
    /// First agent reply minus episode start.
    FirstResponse,
    /// Every reply time of every episode.
    Reply,
    /// Final resolution minus episode start.
    Resolution,
}

/// All values of `metric` over `episodes`, measured on `clock`.
pub fn durations(episodes: &[Episode], metric: DurationMetric, clock: &Clock<'_>) -> Vec<i64> {
    let measure = |from, to| clock.secs(from, to);
    match metric {
        DurationMetric::FirstResponse => episodes
            .iter()
            .filter_map(|ep| ep.first_response_with(measure))
            .collect(),
        DurationMetric::Reply => episodes
            .iter()
            .flat_map(|ep| ep.reply_secs_with(measure))
            .collect(),
        DurationMetric::Resolution => episodes
            .iter()
            .filter_map(|ep| ep.resolution_with(measure))
            .collect(),
    }
}

/// A ratio `count / total`, kept as integers for display.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rate {
    /// Numerator.
    pub count: usize,
    /// Denominator.
    pub total: usize,
}

impl Rate {
    /// `count / total`, or `None` when `total` is 0.
    pub fn value(self) -> Option<f64> {
        (self.total > 0).then(|| self.count as f64 / self.total as f64)
    }

    fn of(
        episodes: &[Episode],
        in_total: impl Fn(&Episode) -> bool,
        counted: impl Fn(&Episode) -> bool,
    ) -> Rate {
        let base = episodes.iter().filter(|ep| in_total(ep));
        Rate {
            count: base.clone().filter(|ep| counted(ep)).count(),
            total: base.count(),
        }
    }
}

/// Reopened episodes / episodes resolved at least once (resolved now, or
/// reopened, which implies an earlier resolution).
pub fn reopen_rate(episodes: &[Episode]) -> Rate {
    Rate::of(
        episodes,
        |ep| ep.end == EndKind::Resolved || ep.reopened,
        |ep| ep.reopened,
    )
}

/// Episodes where the customer wrote on two or more channels / all episodes.
pub fn switch_rate(episodes: &[Episode]) -> Rate {
    Rate::of(episodes, |_| true, |ep| ep.switched)
}

/// Episodes an agent moved to another channel / all episodes.
pub fn moved_rate(episodes: &[Episode]) -> Rate {
    Rate::of(episodes, |_| true, |ep| ep.moved)
}

/// Episodes with a repeated contact on another channel / all episodes.
pub fn repeated_rate(episodes: &[Episode]) -> Rate {
    Rate::of(episodes, |_| true, |ep| ep.repeated)
}

/// Resolved episodes counted by (first channel, resolution channel).
pub fn channel_matrix(episodes: &[Episode]) -> BTreeMap<(ChannelKind, ChannelKind), usize> {
    let mut matrix = BTreeMap::new();
    for ep in episodes.iter().filter(|ep| ep.end == EndKind::Resolved) {
        if let Some(resolution) = ep.resolution_channel {
            *matrix.entry((ep.first_channel, resolution)).or_insert(0) += 1;
        }
    }
    matrix
}

/// Figures for one agent over the episodes they handled
/// ([`Episode::handled_by`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AgentStats {
    /// Episodes handled.
    pub episodes: usize,
    /// First response times of those episodes.
    pub first_response: Summary,
    /// Resolution times of those episodes that are resolved.
    pub resolution: Summary,
}

/// [`AgentStats`] per agent id, durations measured on `clock`. Episodes
/// without a handling agent are left out.
pub fn per_agent(episodes: &[Episode], clock: &Clock<'_>) -> BTreeMap<i64, AgentStats> {
    let mut by_agent: BTreeMap<i64, Vec<&Episode>> = BTreeMap::new();
    for ep in episodes {
        if let Some(agent) = ep.handled_by {
            by_agent.entry(agent).or_default().push(ep);
        }
    }
    let measure = |from, to| clock.secs(from, to);
    by_agent
        .into_iter()
        .map(|(agent, eps)| {
            let first: Vec<i64> = eps
                .iter()
                .filter_map(|ep| ep.first_response_with(measure))
                .collect();
            let resolution: Vec<i64> = eps
                .iter()
                .filter_map(|ep| ep.resolution_with(measure))
                .collect();
            let stats = AgentStats {
                episodes: eps.len(),
                first_response: Summary::of(&first),
                resolution: Summary::of(&resolution),
            };
            (agent, stats)
        })
        .collect()
}

/// Every episode metric of a report, durations measured on one clock.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Number of episodes.
    pub episodes: usize,
    /// Episodes whose end is `Resolved`.
    pub resolved: usize,
    /// First response times.
    pub first_response: Summary,
    /// Reply times.
    pub reply: Summary,
    /// Resolution times.
    pub resolution: Summary,
    /// See [`reopen_rate`].
    pub reopen_rate: Rate,
    /// See [`switch_rate`].
    pub switch_rate: Rate,
    /// See [`moved_rate`].
    pub moved_rate: Rate,
    /// See [`repeated_rate`].
    pub repeated_rate: Rate,
    /// Total agent replies sent after the messaging window expired.
    pub window_expired_replies: usize,
    /// See [`channel_matrix`].
    pub channel_matrix: BTreeMap<(ChannelKind, ChannelKind), usize>,
    /// See [`per_agent`].
    pub agents: BTreeMap<i64, AgentStats>,
}

/// Computes a [`Report`] over `episodes` (from any number of
/// conversations), durations measured on `clock`.
pub fn report(episodes: &[Episode], clock: &Clock<'_>) -> Report {
    let summary = |metric| Summary::of(&durations(episodes, metric, clock));
    Report {
        episodes: episodes.len(),
        resolved: episodes
            .iter()
            .filter(|ep| ep.end == EndKind::Resolved)
            .count(),
        first_response: summary(DurationMetric::FirstResponse),
        reply: summary(DurationMetric::Reply),
        resolution: summary(DurationMetric::Resolution),
        reopen_rate: reopen_rate(episodes),
        switch_rate: switch_rate(episodes),
        moved_rate: moved_rate(episodes),
        repeated_rate: repeated_rate(episodes),
        window_expired_replies: episodes.iter().map(|ep| ep.window_expired_replies).sum(),
        channel_matrix: channel_matrix(episodes),
        agents: per_agent(episodes, clock),
    }
}

/// One conversation as input to [`volume_per_day`].
#[derive(Clone, Copy, Debug)]
pub struct ConversationRef<'a> {
    /// The customer's id (a conversation belongs to one customer).
    pub customer: i64,
    /// The conversation's full history (any order).
    pub facts: &'a [Fact],
    /// Its episodes, from [`super::episodes::episodes`].
    pub episodes: &'a [Episode],
}

/// Counts for one (day, channel).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayChannelVolume {
    /// Episodes started that day whose first inbound was on this channel.
    pub episodes_opened: usize,
    /// Inbound messages.
    pub inbound: usize,
    /// Agent replies plus auto replies, in or outside episodes.
    pub outbound: usize,
    /// Distinct customers who sent at least one inbound message.
    pub unique_customers: usize,
}

/// Daily volume.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Volume {
    /// Counts per (local day index, channel); only non-empty cells.
    pub by_day_channel: BTreeMap<(i64, ChannelKind), DayChannelVolume>,
    /// Distinct customers who sent at least one inbound message that day,
    /// on any channel (each customer counted once).
    pub unique_customers_by_day: BTreeMap<i64, usize>,
}

/// Volume per local day and channel. `day_of(at)` maps an instant to the
/// account's local day index (the caller applies the time zone).
pub fn volume_per_day(
    conversations: &[ConversationRef<'_>],
    day_of: &dyn Fn(i64) -> i64,
) -> Volume {
    let mut volume = Volume::default();
    let mut writers: BTreeSet<(i64, ChannelKind, i64)> = BTreeSet::new();
    let mut daily_writers: BTreeSet<(i64, i64)> = BTreeSet::new();
    for conversation in conversations {
        for ep in conversation.episodes {
            let key = (day_of(ep.started_at), ep.first_channel);
            volume
                .by_day_channel
                .entry(key)
                .or_default()
                .episodes_opened += 1;
        }
        for fact in conversation.facts {
            let day = day_of(fact.at);
            match fact.kind {
                FactKind::Inbound { channel } => {
                    volume
                        .by_day_channel
                        .entry((day, channel))
                        .or_default()
                        .inbound += 1;
                    writers.insert((day, channel, conversation.customer));
                    daily_writers.insert((day, conversation.customer));
                }
                FactKind::AgentReply { channel, .. } | FactKind::AutoReply { channel } => {
                    volume
                        .by_day_channel
                        .entry((day, channel))
                        .or_default()
                        .outbound += 1;
                }
                FactKind::Resolved { .. } | FactKind::Reopened | FactKind::Moved { .. } => {}
            }
        }
    }
    for (day, channel, _) in writers {
        volume
            .by_day_channel
            .entry((day, channel))
            .or_default()
            .unique_customers += 1;
    }
    for (day, _) in daily_writers {
        *volume.unique_customers_by_day.entry(day).or_insert(0) += 1;
    }
    volume
}

/// Inbound message counts: `heatmap[weekday][hour]`, weekday 0 = Monday.
pub type Heatmap = [[u64; 24]; 7];

/// Counts inbound messages of all `histories` by local weekday and hour;
/// `offset_at(at)` is the account's UTC offset in seconds at that instant
/// (clamped to ±18 h).
pub fn inbound_heatmap<'a>(
    histories: impl IntoIterator<Item = &'a [Fact]>,
    offset_at: &dyn Fn(i64) -> i32,
) -> Heatmap {
    let mut heatmap = [[0; 24]; 7];
    let max = i64::from(MAX_UTC_OFFSET_SECS);
    for fact in histories.into_iter().flatten() {
        if let FactKind::Inbound { .. } = fact.kind {
            let offset = i64::from(offset_at(fact.at)).clamp(-max, max);
            let local = fact.at.saturating_add(offset);
            let weekday = weekday_of_day(local.div_euclid(86_400));
            // rem_euclid keeps the hour in 0..24.
            let hour = (local.rem_euclid(86_400) / 3_600) as usize;
            heatmap[weekday][hour] += 1;
        }
    }
    heatmap
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
