//! Support and marketing report metrics, computed from conversation histories.
//!
//! A Convergence conversation never ends (one per customer, across channels), so support
//! metrics are measured per *episode*: a stretch of the conversation that starts with a
//! customer message when nothing is in progress (first contact, after a resolution, or after
//! the inactivity period, 7 days by default) and ends when an agent resolves it
//! ([`EndKind::Resolved`]) or when it goes quiet ([`EndKind::Inactive`]); one still running
//! is [`EndKind::Open`]. An agent may reopen a resolved episode before the customer writes
//! again; a new customer message after a resolution starts a new episode instead. Messages
//! sent while no episode is in progress (campaigns, replies after a resolution) belong to no
//! episode but still count as outbound volume. The exact rules are in
//! [`episodes`](mod@episodes).
//!
//! * [`episodes`](mod@episodes): splits one conversation's [`Fact`]s into [`Episode`]s with their first
//!   response, reply and resolution times, channel switches, moves, repeated contacts and
//!   replies sent after a 24-hour messaging window closed.
//! * [`hours`]: business hours, the seconds between two instants inside a weekly [`Schedule`],
//!   with a fixed UTC offset or a caller-supplied offset function (daylight saving time);
//!   [`Clock`] picks wall-clock or business-hours durations.
//! * [`metrics`]: duration [`Summary`]s (median, 90th percentile, average), rates, the
//!   first-contact → resolution channel matrix, per-agent figures, volume per day and
//!   channel, the inbound heatmap, and the plain-English [`DEFINITIONS`] shown on the reports
//!   page.
//! * [`reach`]: who marketing can reach now on each channel, and each customer's channel of
//!   choice in a period and how it changed.
//! * [`rollup`]: what a stored episode or a message adds to the daily rollup rows, the
//!   changes between two versions of a conversation's episodes, and applying them.
//!
//! Pure rules, `std` only, no I/O: compiled for the server and for the browser. Times are
//! `i64` unix seconds (UTC); channels are [`ChannelKind`](crate::domain::ChannelKind).

pub mod episodes;
pub mod hours;
pub mod metrics;
pub mod reach;
pub mod rollup;

pub use episodes::{
    episodes, wall_secs, EndKind, Episode, EpisodeConfig, Fact, FactKind, DEFAULT_INACTIVITY_SECS,
    MESSAGING_WINDOW_SECS,
};
pub use hours::{
    business_secs, business_secs_zoned, weekday_of_day, Clock, Schedule, ScheduleError,
    MAX_INSTANT, MAX_UTC_OFFSET_SECS, MINUTES_PER_DAY, MIN_INSTANT,
};
pub use metrics::{
    channel_matrix, durations, inbound_heatmap, moved_rate, nearest_rank, per_agent, percentile,
    reopen_rate, repeated_rate, report, switch_rate, volume_per_day, AgentStats, ConversationRef,
    DayChannelVolume, DurationMetric, Heatmap, Rate, Report, Summary, Volume, DEFINITIONS,
};
