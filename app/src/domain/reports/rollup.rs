//! Daily rollups: what one stored episode or one message adds to the per-day report rows.
//!
//! The reports never read messages: a 90-day page reads at most a few thousand rows of
//! `report_daily`, one per (local day, metric, channel, agent). Each row holds a count `n`, a
//! sum `total` and, for durations, every value (`vals`, ascending), so medians and the 90th
//! percentile are exact, not estimated from buckets.
//!
//! * Episode metrics are keyed by the local day the episode started, its first channel and the
//!   agent who handled it (0: nobody); reply times and expired windows by the reply's channel.
//! * Message volume is keyed by the local day the message was written, its channel and its
//!   author (0: the customer, or the system).
//!
//! When a conversation changes, its episodes from the one the change falls in are computed
//! again ([`super::episodes`]); [`diff`] turns the old and the new episode rows into the
//! changes to apply, and [`apply`] applies one to a stored row. A rebuild computes every row from
//! scratch; both ways give the same rows (a property test checks it).
//!
//! Pure rules, no I/O. Times are unix milliseconds here, as in storage.

use std::collections::BTreeMap;

use super::episodes::{Episode, Fact, FactKind};
use super::hours::{business_secs_zoned, Schedule};
use crate::domain::ChannelKind;

/// Episodes started (one per episode).
pub const EPISODES: &str = "episodes";
/// Conversations (one per customer) with an episode started; `vals`: their ids, so a range
/// counts each once. Kept for all channels and agents together (one entry a day).
pub const CUSTOMERS: &str = "customers";
/// Conversations that opened an episode, by the episode's first channel; `vals`: the
/// conversation id once per episode (each customer's channel of choice), no agent.
pub const OPENED_BY: &str = "opened_by";
/// Episodes resolved.
pub const RESOLVED: &str = "resolved";
/// Resolved episodes by the channel they were resolved on: `resolved_on:<channel>`.
pub const RESOLVED_ON: &str = "resolved_on:";
/// Episodes resolved at least once (resolved now, or reopened): the reopen rate's base.
pub const RESOLVED_ONCE: &str = "resolved_once";
/// Episodes reopened after a resolution.
pub const REOPENED: &str = "reopened";
/// Episodes in which the customer wrote on two or more channels.
pub const SWITCHED: &str = "switched";
/// Episodes an agent moved to another channel.
pub const MOVED: &str = "moved";
/// Episodes in which the customer repeated themselves on another channel.
pub const REPEATED: &str = "repeated";
/// First response times, in seconds.
pub const FIRST_RESPONSE: &str = "first_response";
/// Resolution times, in seconds.
pub const RESOLUTION: &str = "resolution";
/// Reply times, in seconds, keyed by the reply's channel.
pub const REPLY: &str = "reply";
/// The same three durations counted in business hours (only with a schedule in the settings).
pub const FIRST_RESPONSE_BH: &str = "first_response_bh";
pub const RESOLUTION_BH: &str = "resolution_bh";
pub const REPLY_BH: &str = "reply_bh";
/// Replies sent after the 24-hour messaging window closed, keyed by the reply's channel.
pub const WINDOW_EXPIRED: &str = "window_expired";
/// Inbound messages (volume).
pub const INBOUND: &str = "inbound";
/// Outbound messages (volume); agent 0 is the system (hand-offs are sent by agents).
pub const OUTBOUND: &str = "outbound";
/// Inbound messages by local hour of the day; the entry's channel slot holds the hour (`07`),
/// all channels together, no agent.
pub const INBOUND_HOUR: &str = "inbound_hour";

const DAY_MS: i64 = 86_400_000;

/// The local day number (days since 1970-01-01) of instant `ms` at UTC offset `offset_secs`.
pub fn local_day(ms: i64, offset_secs: i64) -> i64 {
    ms.saturating_add(offset_secs.saturating_mul(1000))
        .div_euclid(DAY_MS)
}

/// The local hour of the day (0..=23) of instant `ms` at UTC offset `offset_secs`.
pub fn local_hour(ms: i64, offset_secs: i64) -> u32 {
    let secs = ms.div_euclid(1000).saturating_add(offset_secs);
    (secs.rem_euclid(86_400) / 3_600) as u32
}

/// The heatmap row an inbound message counts in.
pub fn hour_key(day: i64, hour: u32) -> RollupKey {
    RollupKey {
        day,
        metric: INBOUND_HOUR.to_string(),
        channel: format!("{hour:02}"),
        agent: 0,
    }
}

/// One stored episode (`report_episodes`), in storage units (unix ms, seconds for durations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpisodeRow {
    pub conversation_id: i64,
    /// Local day of `started_at`.
    pub day: i64,
    pub started_at: i64,
    pub last_message_at: i64,
    pub resolved_at: Option<i64>,
    pub first_channel: ChannelKind,
    pub resolution_channel: Option<ChannelKind>,
    /// Channels the customer wrote on, in order of first use.
    pub channels: Vec<ChannelKind>,
    pub switched: bool,
    pub moved: bool,
    pub reopened: bool,
    pub repeated: bool,
    pub first_response_secs: Option<i64>,
    pub resolution_secs: Option<i64>,
    /// Each answered reply: its channel and its reply time in seconds.
    pub replies: Vec<(ChannelKind, i64)>,
    /// Replies sent after the messaging window closed, per channel.
    pub window_expired: Vec<(ChannelKind, i64)>,
    /// First response, resolution and reply times in business hours (with a schedule).
    pub first_response_bh: Option<i64>,
    pub resolution_bh: Option<i64>,
    pub replies_bh: Vec<(ChannelKind, i64)>,
    pub handled_by: Option<i64>,
    pub inbound: i64,
    pub outbound: i64,
}

impl EpisodeRow {
    /// The row for `ep` of conversation `conversation_id`; `offset_secs(ms)` is the report time
    /// zone's UTC offset at an instant; `hours`: the business hours, if set (counted in that
    /// zone).
    pub fn new(
        conversation_id: i64,
        ep: &Episode,
        offset_secs: impl Fn(i64) -> i64,
        hours: Option<&Schedule>,
    ) -> Self {
        let started_at = ep.started_at.saturating_mul(1000);
        let offset_at = |secs: i64| offset_secs(secs.saturating_mul(1000)) as i32;
        let business = |from: i64, to: i64| match hours {
            Some(h) => business_secs_zoned(h, &offset_at, from, to),
            None => 0,
        };
        let (first_response_bh, resolution_bh, replies_bh) = match hours {
            Some(_) => (
                ep.first_response_with(business),
                ep.resolution_with(business),
                ep.reply_channels
                    .iter()
                    .copied()
                    .zip(ep.reply_secs_with(business))
                    .collect(),
            ),
            None => (None, None, Vec::new()),
        };
        EpisodeRow {
            conversation_id,
            day: local_day(started_at, offset_secs(started_at)),
            started_at,
            last_message_at: ep.last_message_at.saturating_mul(1000),
            resolved_at: ep.resolved_at.map(|s| s.saturating_mul(1000)),
            first_channel: ep.first_channel,
            resolution_channel: ep.resolution_channel,
            channels: ep.channels_written.clone(),
            switched: ep.switched,
            moved: ep.moved,
            reopened: ep.reopened,
            repeated: ep.repeated,
            first_response_secs: ep.first_response_secs,
            resolution_secs: ep.resolution_secs,
            replies: ep
                .reply_channels
                .iter()
                .copied()
                .zip(ep.reply_secs.iter().copied())
                .collect(),
            window_expired: ep
                .window_expired_by_channel
                .iter()
                .map(|(&c, &n)| (c, n as i64))
                .collect(),
            first_response_bh,
            resolution_bh,
            replies_bh,
            handled_by: ep.handled_by,
            inbound: ep.inbound as i64,
            outbound: ep.outbound as i64,
        }
    }
}

/// Where a rollup row sits: local day, metric, channel (`""`: none) and agent (0: none).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub day: i64,
    pub metric: String,
    pub channel: String,
    pub agent: i64,
}

impl RollupKey {
    pub fn new(day: i64, metric: &str, channel: Option<ChannelKind>, agent: Option<i64>) -> Self {
        RollupKey {
            day,
            metric: metric.to_string(),
            channel: channel.map(|c| c.as_str()).unwrap_or("").to_string(),
            agent: agent.unwrap_or(0),
        }
    }
}

/// A stored rollup row's figures: a count, a sum and (durations, customers) the values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub n: i64,
    pub total: i64,
    /// Ascending.
    pub vals: Vec<i64>,
}

/// A change to one rollup row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub n: i64,
    pub total: i64,
    /// Values to add and to remove (one occurrence each), ascending, never sharing a value.
    pub add: Vec<i64>,
    pub remove: Vec<i64>,
}

impl Delta {
    fn is_empty(&self) -> bool {
        self.n == 0 && self.total == 0 && self.add.is_empty() && self.remove.is_empty()
    }
}

/// What one episode adds to the rollups: `(key, n, total, value)`.
fn episode_parts(row: &EpisodeRow, out: &mut Vec<(RollupKey, i64, i64, Option<i64>)>) {
    let key =
        |metric: &str| RollupKey::new(row.day, metric, Some(row.first_channel), row.handled_by);
    out.push((key(EPISODES), 1, 0, None));
    out.push((
        RollupKey::new(row.day, CUSTOMERS, None, None),
        1,
        0,
        Some(row.conversation_id),
    ));
    out.push((
        RollupKey::new(row.day, OPENED_BY, Some(row.first_channel), None),
        1,
        0,
        Some(row.conversation_id),
    ));
    if row.resolved_at.is_some() || row.reopened {
        out.push((key(RESOLVED_ONCE), 1, 0, None));
    }
    if row.resolved_at.is_some() {
        out.push((key(RESOLVED), 1, 0, None));
        if let Some(c) = row.resolution_channel {
            out.push((key(&format!("{RESOLVED_ON}{}", c.as_str())), 1, 0, None));
        }
    }
    for (flag, metric) in [
        (row.reopened, REOPENED),
        (row.switched, SWITCHED),
        (row.moved, MOVED),
        (row.repeated, REPEATED),
    ] {
        if flag {
            out.push((key(metric), 1, 0, None));
        }
    }
    // Durations on the wall clock, then (with a schedule) in business hours.
    for (metric, secs) in [
        (FIRST_RESPONSE, row.first_response_secs),
        (RESOLUTION, row.resolution_secs),
        (FIRST_RESPONSE_BH, row.first_response_bh),
        (RESOLUTION_BH, row.resolution_bh),
    ] {
        if let Some(s) = secs {
            out.push((key(metric), 1, s, Some(s)));
        }
    }
    for (metric, replies) in [(REPLY, &row.replies), (REPLY_BH, &row.replies_bh)] {
        for &(channel, secs) in replies {
            let k = RollupKey::new(row.day, metric, Some(channel), row.handled_by);
            out.push((k, 1, secs, Some(secs)));
        }
    }
    for &(channel, n) in &row.window_expired {
        let k = RollupKey::new(row.day, WINDOW_EXPIRED, Some(channel), row.handled_by);
        out.push((k, n, 0, None));
    }
}

/// The changes that turn the rollups of episodes `old` into those of episodes `new`.
pub fn diff(old: &[EpisodeRow], new: &[EpisodeRow]) -> BTreeMap<RollupKey, Delta> {
    let mut parts = Vec::new();
    let mut deltas: BTreeMap<RollupKey, Delta> = BTreeMap::new();
    for (rows, sign) in [(old, -1i64), (new, 1i64)] {
        for row in rows {
            parts.clear();
            episode_parts(row, &mut parts);
            for (key, n, total, val) in parts.drain(..) {
                let d = deltas.entry(key).or_default();
                d.n += sign * n;
                d.total += sign * total;
                if let Some(v) = val {
                    if sign > 0 {
                        d.add.push(v);
                    } else {
                        d.remove.push(v);
                    }
                }
            }
        }
    }
    for d in deltas.values_mut() {
        let (add, remove) = cancel(std::mem::take(&mut d.add), std::mem::take(&mut d.remove));
        d.add = add;
        d.remove = remove;
    }
    deltas.retain(|_, d| !d.is_empty());
    deltas
}

/// Removes the values both lists hold (as multisets); both come back ascending.
fn cancel(mut add: Vec<i64>, mut remove: Vec<i64>) -> (Vec<i64>, Vec<i64>) {
    add.sort_unstable();
    remove.sort_unstable();
    let (mut a, mut r) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < add.len() || j < remove.len() {
        match (add.get(i), remove.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                a.push(*x);
                i += 1;
            }
            (Some(_), Some(y)) => {
                r.push(*y);
                j += 1;
            }
            (Some(x), None) => {
                a.push(*x);
                i += 1;
            }
            (None, Some(y)) => {
                r.push(*y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    (a, r)
}

/// Why a delta cannot be applied to a stored row: the rollups disagree with the episodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift(pub String);

/// `row` (absent: empty) after `delta`; `None` when nothing is left (the row is deleted).
pub fn apply(row: Option<Figures>, delta: &Delta) -> Result<Option<Figures>, Drift> {
    let mut f = row.unwrap_or_default();
    f.n += delta.n;
    f.total += delta.total;
    if !delta.remove.is_empty() {
        let (kept, missing) = cancel(std::mem::take(&mut f.vals), delta.remove.clone());
        // `cancel` returns what `vals` keeps and what it did not hold.
        if !missing.is_empty() {
            return Err(Drift(format!("values {missing:?} are not in the row")));
        }
        f.vals = kept;
    }
    if !delta.add.is_empty() {
        f.vals.extend_from_slice(&delta.add);
        f.vals.sort_unstable();
    }
    if f.n < 0 {
        return Err(Drift(format!("the count would be {}", f.n)));
    }
    Ok((f.n != 0 || f.total != 0 || !f.vals.is_empty()).then_some(f))
}

/// The rollup rows of `episodes` computed from scratch (what a rebuild writes).
pub fn from_episodes<'a>(
    episodes: impl IntoIterator<Item = &'a EpisodeRow>,
) -> BTreeMap<RollupKey, Figures> {
    let mut out: BTreeMap<RollupKey, Figures> = BTreeMap::new();
    let mut parts = Vec::new();
    for row in episodes {
        episode_parts(row, &mut parts);
        for (key, n, total, val) in parts.drain(..) {
            let f = out.entry(key).or_default();
            f.n += n;
            f.total += total;
            if let Some(v) = val {
                f.vals.push(v);
            }
        }
    }
    for f in out.values_mut() {
        f.vals.sort_unstable();
    }
    out
}

/// The volume row a message counts in: inbound by the customer, outbound by its author
/// (`None`: sent by the system).
pub fn message_key(
    day: i64,
    inbound: bool,
    channel: ChannelKind,
    author: Option<i64>,
) -> RollupKey {
    if inbound {
        RollupKey::new(day, INBOUND, Some(channel), None)
    } else {
        RollupKey::new(day, OUTBOUND, Some(channel), author)
    }
}

/// Every count a message adds one to, for a message written at `at_ms` where the reporting
/// time zone is `offset_secs` from UTC: its volume row and, inbound, its hour of the heatmap.
pub fn message_keys(
    at_ms: i64,
    offset_secs: i64,
    inbound: bool,
    channel: ChannelKind,
    author: Option<i64>,
) -> Vec<RollupKey> {
    let day = local_day(at_ms, offset_secs);
    let mut keys = vec![message_key(day, inbound, channel, author)];
    if inbound {
        keys.push(hour_key(day, local_hour(at_ms, offset_secs)));
    }
    keys
}

/// The episode fact of a stored message. Messages an agent wrote are agent replies, except a
/// hand-off sent when moving the conversation (`handoff`); those and system messages are
/// automatic.
pub fn message_fact(
    at_ms: i64,
    inbound: bool,
    channel: ChannelKind,
    author: Option<i64>,
    handoff: bool,
) -> Fact {
    let kind = match (inbound, author) {
        (true, _) => FactKind::Inbound { channel },
        (false, Some(agent)) if !handoff => FactKind::AgentReply { channel, agent },
        (false, _) => FactKind::AutoReply { channel },
    };
    Fact {
        at: at_ms.div_euclid(1000),
        kind,
    }
}

/// A status change as an episode fact: resolving, or setting a resolved conversation back to
/// open; other statuses are not facts.
pub fn status_fact(at_ms: i64, status: &str, actor: Option<i64>) -> Option<Fact> {
    let kind = match status {
        "resolved" => FactKind::Resolved { agent: actor },
        "open" => FactKind::Reopened,
        _ => return None,
    };
    Some(Fact {
        at: at_ms.div_euclid(1000),
        kind,
    })
}

/// A move to `to` as an episode fact (`from` unknown: the same channel).
pub fn move_fact(
    at_ms: i64,
    from: Option<ChannelKind>,
    to: ChannelKind,
    actor: Option<i64>,
) -> Fact {
    Fact {
        at: at_ms.div_euclid(1000),
        kind: FactKind::Moved {
            from: from.unwrap_or(to),
            to,
            agent: actor,
        },
    }
}

/// The entries of one stored (day, metric) row: figures by (channel, agent).
pub type Entries = BTreeMap<(String, i64), Figures>;

/// Packs a row's entries as stored: `channel|agent|n|total|vals` joined by `;` (in key order;
/// channels and metric names never hold `|` or `;`).
pub fn pack(entries: &Entries) -> String {
    let mut s = String::new();
    for (i, ((channel, agent), f)) in entries.iter().enumerate() {
        if i > 0 {
            s.push(';');
        }
        s.push_str(&format!("{channel}|{agent}|{}|{}|", f.n, f.total));
        s.push_str(&encode_vals(&f.vals));
    }
    s
}

/// The stored entries back; `None` if the text is not a packing.
pub fn unpack(s: &str) -> Option<Entries> {
    let mut out = Entries::new();
    if s.is_empty() {
        return Some(out);
    }
    for e in s.split(';') {
        let mut it = e.splitn(5, '|');
        let channel = it.next()?.to_string();
        let agent = it.next()?.parse().ok()?;
        let n = it.next()?.parse().ok()?;
        let total = it.next()?.parse().ok()?;
        let vals = decode_vals(it.next()?)?;
        out.insert((channel, agent), Figures { n, total, vals });
    }
    Some(out)
}

/// `vals` as stored: ascending integers separated by spaces.
pub fn encode_vals(vals: &[i64]) -> String {
    let mut s = String::with_capacity(vals.len() * 4);
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&v.to_string());
    }
    s
}

/// The stored `vals` text back; `None` if it is not a list of integers.
pub fn decode_vals(s: &str) -> Option<Vec<i64>> {
    s.split_ascii_whitespace().map(|v| v.parse().ok()).collect()
}

/// `channel:number` pairs separated by spaces (replies, expired windows).
pub fn encode_pairs(pairs: &[(ChannelKind, i64)]) -> String {
    pairs
        .iter()
        .map(|(c, n)| format!("{}:{n}", c.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stored pairs back; `None` if one is not `channel:number`.
pub fn decode_pairs(s: &str) -> Option<Vec<(ChannelKind, i64)>> {
    s.split_ascii_whitespace()
        .map(|p| {
            let (c, n) = p.split_once(':')?;
            Some((ChannelKind::parse(c)?, n.parse().ok()?))
        })
        .collect()
}

/// Channels separated by spaces.
pub fn encode_channels(channels: &[ChannelKind]) -> String {
    channels
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stored channels back; `None` if one is unknown.
pub fn decode_channels(s: &str) -> Option<Vec<ChannelKind>> {
    s.split_ascii_whitespace().map(ChannelKind::parse).collect()
}

#[cfg(test)]
#[path = "rollup_tests.rs"]
mod tests;
