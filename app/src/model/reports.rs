//! The reports page as the browser receives it: already laid out by the server (numbers as
//! text, charts as SVG markup drawn on the server), so the page adds no report logic to the
//! browser bundle and reads the same without JavaScript.

use serde::{Deserialize, Serialize};

/// What the reports page shows, from its URL (`/reports?tab=cross&range=30&group=week...`).
/// Every field is text as typed in the URL; the server checks it and answers with the query it
/// used ([`ReportPage::query`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    /// `overview` (support metrics), `cross` (cross-channel) or `reach` (consent, delivery,
    /// identity).
    pub tab: String,
    /// `7`, `30`, `90` (days up to today) or `custom` (`from`..=`to`).
    pub range: String,
    /// First and last day of a custom range, `YYYY-MM-DD` in the reporting time zone.
    pub from: String,
    pub to: String,
    /// `day`, `week` or `month`.
    pub group: String,
    /// A channel (`sms`...) or empty for all.
    pub channel: String,
    /// An agent's id or empty for all.
    pub agent: String,
}

impl ReportQuery {
    /// Whether this query, or a drill-down of it, asks for the marketing reports: the
    /// cross-channel and reach tabs and the cross-channel measures.
    pub fn marketing_only(&self, drill: Option<&DrillQuery>) -> bool {
        use crate::domain::reports::rollup::{MOVED, REPEATED, SWITCHED, WINDOW_EXPIRED};
        matches!(self.tab.as_str(), "cross" | "reach")
            || drill.is_some_and(|d| {
                [SWITCHED, MOVED, REPEATED, WINDOW_EXPIRED].contains(&d.metric.as_str())
            })
    }

    /// The query string of this query (for links), with `tab` replaced when given.
    pub fn to_query_string(&self, tab: Option<&str>) -> String {
        let mut q = format!(
            "tab={}&range={}&group={}",
            tab.unwrap_or(&self.tab),
            self.range,
            self.group
        );
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("channel", &self.channel),
            ("agent", &self.agent),
        ] {
            if !v.is_empty() && (self.range == "custom" || (k != "from" && k != "to")) {
                q.push('&');
                q.push_str(k);
                q.push('=');
                q.push_str(&encode(v));
            }
        }
        q
    }
}

/// Percent-encodes what a query value may hold here (dates, channel names, digits).
fn encode(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32 & 0xff)
            }
        })
        .collect()
}

/// What a drill-down lists (`/reports/episodes?...&metric=resolved&first=sms`), besides the
/// report's own range and filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DrillQuery {
    /// `episodes`, `resolved`, `reopened`, `switched`, `moved`, `repeated`, `first_response`,
    /// `resolution` or `window_expired`.
    pub metric: String,
    /// The channel the episodes started on.
    pub first: String,
    /// The channel they were resolved on.
    pub resolved_on: String,
    /// A channel they had replies on.
    pub reply_channel: String,
    /// The agent who handled them (`0`: nobody).
    pub handled_by: String,
}

impl DrillQuery {
    /// The query string of this drill-down (appended to a report's).
    pub fn to_query_string(&self) -> String {
        let mut q = String::new();
        for (k, v) in [
            ("metric", &self.metric),
            ("first", &self.first),
            ("resolved_on", &self.resolved_on),
            ("reply_channel", &self.reply_channel),
            ("handled_by", &self.handled_by),
        ] {
            if !v.is_empty() {
                q.push('&');
                q.push_str(k);
                q.push('=');
                q.push_str(&encode(v));
            }
        }
        q
    }
}

/// A headline number with the previous period's and the change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub label: String,
    pub value: String,
    pub previous: String,
    /// "+12%", "−3 pts", "" when there is nothing to compare.
    pub change: String,
    /// Whether the change is good news (`None`: neither).
    pub good: Option<bool>,
    /// The conversations this number counts.
    pub href: Option<String>,
}

/// One table cell: its text, where it drills down to, and a shade (0..=100) for heatmaps and
/// the channel matrix.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub shade: Option<u8>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            ..Cell::default()
        }
    }
}

/// A table; the first column heads its row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One part of a tab: a chart (SVG markup drawn by the server, `None` for tables only) and the
/// table holding its numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Stable id: the anchor and the CSV export's `section`.
    pub id: String,
    pub title: String,
    pub note: Option<String>,
    pub svg: Option<String>,
    pub table: Table,
}

/// A tab of the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportTab {
    pub id: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportPage {
    /// The query the page answers (checked and completed).
    pub query: ReportQuery,
    /// "8 Sep – 6 Dec 2026".
    pub period: String,
    pub previous_period: String,
    /// The reporting time zone days are counted in.
    pub time_zone: String,
    /// The tabs this user may open.
    pub tabs: Vec<ReportTab>,
    /// Agents for the filter: (id, name).
    pub agents: Vec<(i64, String)>,
    pub cards: Vec<Card>,
    pub sections: Vec<Section>,
    /// "How is this measured?": (name, definition).
    pub definitions: Vec<(String, String)>,
    /// Said above the figures: they still follow earlier settings while a rebuild runs.
    pub notice: Option<String>,
}

/// One episode in a drill-down list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeLine {
    pub conversation_id: i64,
    pub customer: String,
    /// Start, as the agent reads it (their time zone).
    pub started: String,
    pub first_channel: String,
    pub resolution_channel: String,
    pub first_response: String,
    pub resolution: String,
    pub flags: String,
}

/// The episodes a number counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeList {
    /// What was asked, in words: "Episodes resolved on Email that started on SMS, 8 Sep – 6 Dec".
    pub title: String,
    pub total: i64,
    /// At most 200, newest first.
    pub lines: Vec<EpisodeLine>,
    /// Back to the report with the same filters.
    pub back: String,
}

/// The reporting settings as the settings page shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSettings {
    /// An IANA time zone name: days are counted in it.
    pub time_zone: String,
    /// An episode ends after this many days without a message.
    pub inactivity_days: i64,
    /// As `Mon-Fri 09:00-17:00` (empty: none).
    pub business_hours: String,
    /// A rebuild for changed settings has not finished yet.
    pub recomputing: bool,
}
