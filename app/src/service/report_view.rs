//! The reports page: reads the daily rollups of a period and of the period before it, and lays
//! them out as headline cards, sections (a chart drawn on the server and the table of its
//! numbers) and the definitions. The drill-down lists and the CSV exports come from here too,
//! so their numbers are the page's.

use std::collections::{BTreeMap, BTreeSet};

use super::report_charts;
use super::reports;
use crate::domain::reports::rollup::{self, Figures, RollupKey};
use crate::domain::reports::{percentile, weekday_of_day, DEFINITIONS};
use crate::domain::text::civil_from_days;
use crate::domain::ChannelKind;
use crate::model::{
    Card, Cell, EpisodeLine, EpisodeList, ReportPage, ReportQuery, ReportTab, Section, Table,
};
use crate::store::rollups::{self, EpisodeFilter};
use crate::store::{now_ms, users, Db, Result, StoreError};

/// The longest custom range, in days.
pub const MAX_DAYS: i64 = 731;

/// A checked query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub tab: Tab,
    /// First and last local day (days since 1970-01-01), inclusive.
    pub from: i64,
    pub to: i64,
    pub group: Group,
    pub channel: Option<ChannelKind>,
    pub agent: Option<i64>,
    /// The query as it reads back (normalised).
    pub query: ReportQuery,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Cross,
}

impl Tab {
    /// Whether the tab needs the marketing reports permission.
    pub fn marketing(self) -> bool {
        self == Tab::Cross
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Day,
    Week,
    Month,
}

/// `YYYY-MM-DD` to a day number.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let n = days_from_civil(y, m, d);
    (civil_from_days(n) == (y, m, d)).then_some(n)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A day number as `YYYY-MM-DD`.
pub fn date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "8 Sep 2026".
fn short_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{d} {} {y}", MONTHS[m as usize - 1])
}

/// "8 Sep – 6 Dec 2026", "8 – 14 Sep 2026", "6 Dec 2026".
pub fn period_label(from: i64, to: i64) -> String {
    let (fy, fm, fd) = civil_from_days(from);
    let (ty, tm, _) = civil_from_days(to);
    if from == to {
        short_date(from)
    } else if fy == ty && fm == tm {
        format!("{fd} – {}", short_date(to))
    } else if fy == ty {
        format!("{fd} {} – {}", MONTHS[fm as usize - 1], short_date(to))
    } else {
        format!("{} – {}", short_date(from), short_date(to))
    }
}

/// Checks a query against today (`today`, a local day number).
pub fn check(q: &ReportQuery, today: i64) -> std::result::Result<Checked, String> {
    let tab = match q.tab.as_str() {
        "" | "overview" => Tab::Overview,
        "cross" => Tab::Cross,
        other => return Err(format!("there is no report tab {other:?}")),
    };
    let (range, from, to) = match q.range.as_str() {
        "" | "30" => ("30", today - 29, today),
        "7" => ("7", today - 6, today),
        "90" => ("90", today - 89, today),
        "custom" => {
            let from = parse_date(&q.from)
                .ok_or_else(|| format!("{:?} is not a date: write it as 2026-09-30", q.from))?;
            let to = parse_date(&q.to)
                .ok_or_else(|| format!("{:?} is not a date: write it as 2026-09-30", q.to))?;
            if to < from {
                return Err("the range ends before it starts".into());
            }
            if to - from + 1 > MAX_DAYS {
                return Err(format!("a range can be at most {MAX_DAYS} days"));
            }
            ("custom", from, to)
        }
        other => {
            return Err(format!(
                "there is no range {other:?}: choose 7, 30, 90 or custom"
            ))
        }
    };
    let group = match q.group.as_str() {
        "day" => Group::Day,
        "week" => Group::Week,
        "month" => Group::Month,
        // By default: days up to a month, weeks up to half a year, months beyond.
        "" if to - from < 35 => Group::Day,
        "" if to - from < 190 => Group::Week,
        "" => Group::Month,
        other => {
            return Err(format!(
                "there is no grouping {other:?}: day, week or month"
            ))
        }
    };
    let channel = match q.channel.as_str() {
        "" => None,
        c => Some(ChannelKind::parse(c).ok_or_else(|| format!("there is no channel {c:?}"))?),
    };
    let agent = match q.agent.as_str() {
        "" => None,
        a => Some(
            a.parse::<i64>()
                .map_err(|_| format!("{a:?} is not an agent"))?,
        ),
    };
    let query = ReportQuery {
        tab: if tab == Tab::Cross {
            "cross"
        } else {
            "overview"
        }
        .into(),
        range: range.into(),
        from: date(from),
        to: date(to),
        group: match group {
            Group::Day => "day",
            Group::Week => "week",
            Group::Month => "month",
        }
        .into(),
        channel: channel.map(|c| c.as_str().to_string()).unwrap_or_default(),
        agent: agent.map(|a| a.to_string()).unwrap_or_default(),
    };
    Ok(Checked {
        tab,
        from,
        to,
        group,
        channel,
        agent,
        query,
    })
}

/// The periods of `from..=to` by `group`: (first day, last day, label), clipped to the range.
pub fn buckets(from: i64, to: i64, group: Group) -> Vec<(i64, i64, String)> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        let end = match group {
            Group::Day => d,
            // Weeks start on Monday.
            Group::Week => d + (6 - weekday_of_day(d) as i64),
            Group::Month => {
                let (y, m, _) = civil_from_days(d);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                days_from_civil(ny, nm, 1) - 1
            }
        }
        .min(to);
        let label = match group {
            Group::Day => {
                let (_, m, dd) = civil_from_days(d);
                format!("{dd} {}", MONTHS[m as usize - 1])
            }
            Group::Week => {
                let (_, m, dd) = civil_from_days(d);
                format!("wk {dd} {}", MONTHS[m as usize - 1])
            }
            Group::Month => {
                let (y, m, _) = civil_from_days(d);
                format!("{} {y}", MONTHS[m as usize - 1])
            }
        };
        out.push((d, end, label));
        d = end + 1;
    }
    out
}

/// "42 s", "4 min", "2 h 05 min", "3 d 4 h"; "–" for none.
pub fn duration(secs: Option<i64>) -> String {
    let Some(s) = secs else {
        return "–".into();
    };
    if s < 60 {
        format!("{s} s")
    } else if s < 3_600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h {:02} min", s / 3_600, (s % 3_600) / 60)
    } else {
        format!("{} d {} h", s / 86_400, (s % 86_400) / 3_600)
    }
}

/// "12,345".
pub fn count(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// "12.5%" of `part / whole`; "–" when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        "–".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// The rollup rows of a period, filtered, with the sums the page needs.
struct Rows<'a> {
    rows: Vec<&'a (RollupKey, Figures)>,
}

impl<'a> Rows<'a> {
    fn new(all: &'a [(RollupKey, Figures)], from: i64, to: i64, c: &Checked) -> Rows<'a> {
        let channel = c.channel.map(|c| c.as_str());
        Rows {
            rows: all
                .iter()
                .filter(|(k, _)| k.day >= from && k.day <= to)
                .filter(|(k, _)| {
                    // The heatmap rows are not per channel; inbound messages have no agent.
                    let hourly = k.metric.starts_with(rollup::INBOUND_HOUR);
                    (hourly || channel.is_none_or(|ch| k.channel == ch))
                        && (hourly
                            || k.metric == rollup::INBOUND
                            || c.agent.is_none_or(|a| k.agent == a))
                })
                .collect(),
        }
    }

    fn of<'b>(&'b self, metric: &'b str) -> impl Iterator<Item = &'b (RollupKey, Figures)> + 'b {
        self.rows
            .iter()
            .copied()
            .filter(move |(k, _)| k.metric == metric)
    }

    fn n(&self, metric: &str) -> i64 {
        self.of(metric).map(|(_, f)| f.n).sum()
    }

    fn vals(&self, metric: &str) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .of(metric)
            .flat_map(|(_, f)| f.vals.iter().copied())
            .collect();
        v.sort_unstable();
        v
    }

    fn distinct(&self, metric: &str) -> i64 {
        self.of(metric)
            .flat_map(|(_, f)| f.vals.iter().copied())
            .collect::<BTreeSet<i64>>()
            .len() as i64
    }

    fn within(&self, from: i64, to: i64) -> Rows<'a> {
        Rows {
            rows: self
                .rows
                .iter()
                .copied()
                .filter(|(k, _)| k.day >= from && k.day <= to)
                .collect(),
        }
    }

    fn on(&self, f: impl Fn(&RollupKey) -> bool) -> Rows<'a> {
        Rows {
            rows: self.rows.iter().copied().filter(|(k, _)| f(k)).collect(),
        }
    }
}

/// Median, 90th percentile and average of ascending values.
struct Stats {
    median: Option<i64>,
    p90: Option<i64>,
    average: Option<i64>,
    count: i64,
}

fn stats(sorted: &[i64]) -> Stats {
    let sum: i128 = sorted.iter().map(|&v| v as i128).sum();
    Stats {
        median: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        average: (!sorted.is_empty()).then(|| (sum / sorted.len() as i128) as i64),
        count: sorted.len() as i64,
    }
}

/// The change from `prev` to `cur`: "+12%" for counts, "−3 min" style is not used: durations
/// and rates compare in percent too. `lower_is_better` says which way is good news.
fn change(cur: Option<f64>, prev: Option<f64>, lower_is_better: bool) -> (String, Option<bool>) {
    match (cur, prev) {
        (Some(c), Some(p)) if p > 0.0 => {
            let pct = (c - p) * 100.0 / p;
            if pct.abs() < 0.05 {
                ("no change".into(), None)
            } else {
                let good = (pct < 0.0) == lower_is_better;
                (
                    format!("{}{:.1}%", if pct > 0.0 { "+" } else { "−" }, pct.abs()),
                    Some(good),
                )
            }
        }
        _ => (String::new(), None),
    }
}

/// Where a number drills down to.
fn drill(c: &Checked, metric: &str, from: i64, to: i64, extra: &str) -> String {
    let mut q = c.query.clone();
    q.range = "custom".into();
    q.from = date(from);
    q.to = date(to);
    format!(
        "/reports/episodes?{}&metric={metric}{extra}",
        q.to_query_string(None)
    )
}

struct Ctx<'a> {
    c: &'a Checked,
    cur: Rows<'a>,
    prev: Rows<'a>,
    prev_from: i64,
    prev_to: i64,
    agents: &'a [(i64, String)],
}

impl Ctx<'_> {
    fn card(
        &self,
        label: &str,
        value: (String, Option<f64>),
        previous: (String, Option<f64>),
        lower_is_better: bool,
        href: Option<String>,
    ) -> Card {
        let (change, good) = change(value.1, previous.1, lower_is_better);
        Card {
            label: label.into(),
            value: value.0,
            previous: previous.0,
            change,
            good,
            href,
        }
    }

    fn count_card(&self, label: &str, metric: &str, drill_metric: Option<&str>) -> Card {
        let (cur, prev) = (self.cur.n(metric), self.prev.n(metric));
        let href = drill_metric.map(|m| drill(self.c, m, self.c.from, self.c.to, ""));
        self.card(
            label,
            (count(cur), Some(cur as f64)),
            (count(prev), Some(prev as f64)),
            false,
            href,
        )
    }

    fn median_card(&self, label: &str, metric: &str) -> Card {
        let m = |r: &Rows| percentile(&r.vals(metric), 50);
        let (cur, prev) = (m(&self.cur), m(&self.prev));
        self.card(
            label,
            (duration(cur), cur.map(|v| v as f64)),
            (duration(prev), prev.map(|v| v as f64)),
            true,
            Some(drill(self.c, metric, self.c.from, self.c.to, "")),
        )
    }

    fn rate_card(&self, label: &str, part: &str, whole: &str, lower_is_better: bool) -> Card {
        let r = |rows: &Rows| {
            let (p, w) = (rows.n(part), rows.n(whole));
            (percent(p, w), (w > 0).then(|| p as f64 / w as f64))
        };
        self.card(
            label,
            r(&self.cur),
            r(&self.prev),
            lower_is_better,
            Some(drill(self.c, part, self.c.from, self.c.to, "")),
        )
    }
}

fn head(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|s| s.to_string()).collect()
}

fn link(text: String, href: String) -> Cell {
    Cell {
        text,
        href: Some(href),
        shade: None,
    }
}

fn channel_series<'a>(
    rows: &Rows<'a>,
    metric: &str,
    buckets: &[(i64, i64, String)],
) -> Vec<(ChannelKind, Vec<i64>)> {
    ChannelKind::ALL
        .into_iter()
        .map(|ch| {
            let on = rows.on(|k| k.channel == ch.as_str());
            (
                ch,
                buckets
                    .iter()
                    .map(|(f, t, _)| on.within(*f, *t).n(metric))
                    .collect::<Vec<i64>>(),
            )
        })
        .filter(|(_, v)| v.iter().any(|&x| x > 0))
        .collect()
}

fn overview(x: &Ctx, cards: &mut Vec<Card>, sections: &mut Vec<Section>) {
    let c = x.c;
    cards.push(x.count_card("Episodes", rollup::EPISODES, Some(rollup::EPISODES)));
    let customers = (
        x.cur.distinct(rollup::CUSTOMERS),
        x.prev.distinct(rollup::CUSTOMERS),
    );
    cards.push(x.card(
        "Customers",
        (count(customers.0), Some(customers.0 as f64)),
        (count(customers.1), Some(customers.1 as f64)),
        false,
        Some(drill(c, rollup::EPISODES, c.from, c.to, "")),
    ));
    cards.push(x.count_card("Messages in", rollup::INBOUND, None));
    cards.push(x.count_card("Messages out", rollup::OUTBOUND, None));
    cards.push(x.median_card("Median first response", rollup::FIRST_RESPONSE));
    cards.push(x.median_card("Median resolution", rollup::RESOLUTION));
    cards.push(x.count_card("Resolved", rollup::RESOLVED, Some(rollup::RESOLVED)));
    cards.push(x.rate_card("Reopen rate", rollup::REOPENED, rollup::RESOLVED_ONCE, true));

    // Volume by period.
    let b = buckets(c.from, c.to, c.group);
    let labels: Vec<String> = b.iter().map(|(_, _, l)| l.clone()).collect();
    let per = |metric: &str| -> Vec<i64> {
        b.iter()
            .map(|(f, t, _)| x.cur.within(*f, *t).n(metric))
            .collect()
    };
    let (eps, inb, outb) = (
        per(rollup::EPISODES),
        per(rollup::INBOUND),
        per(rollup::OUTBOUND),
    );
    let rows = b
        .iter()
        .enumerate()
        .map(|(i, (f, t, l))| {
            vec![
                Cell::text(l.clone()),
                link(count(eps[i]), drill(c, rollup::EPISODES, *f, *t, "")),
                Cell::text(count(inb[i])),
                Cell::text(count(outb[i])),
            ]
        })
        .collect();
    let series = |name: &str, v: &[i64]| (name.to_string(), v.iter().map(|&n| n as f64).collect());
    sections.push(Section {
        id: "volume".into(),
        title: "Volume".into(),
        note: None,
        svg: Some(report_charts::lines(
            "Episodes and messages per period",
            &labels,
            &[
                series("Episodes", &eps),
                series("Messages in", &inb),
                series("Messages out", &outb),
            ],
        )),
        table: Table {
            caption: "Episodes and messages per period".into(),
            head: head(&["Period", "Episodes", "Messages in", "Messages out"]),
            rows,
        },
    });

    // Times, overall and by the channel an episode started on.
    let mut rows = Vec::new();
    for (label, metric) in [
        ("First response", rollup::FIRST_RESPONSE),
        ("Reply", rollup::REPLY),
        ("Resolution", rollup::RESOLUTION),
    ] {
        let s = stats(&x.cur.vals(metric));
        let p = stats(&x.prev.vals(metric));
        rows.push(vec![
            Cell::text(label),
            Cell::text(duration(s.median)),
            Cell::text(duration(s.p90)),
            Cell::text(duration(s.average)),
            if metric == rollup::REPLY {
                Cell::text(count(s.count))
            } else {
                link(count(s.count), drill(c, metric, c.from, c.to, ""))
            },
            Cell::text(duration(p.median)),
        ]);
    }
    sections.push(Section {
        id: "times".into(),
        title: "Response and resolution times".into(),
        note: Some(
            "Wall-clock time. Reply times are keyed by the channel of the reply; the others by \
             the channel the episode started on."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Response and resolution times".into(),
            head: head(&[
                "Measure",
                "Median",
                "90th percentile",
                "Average",
                "Count",
                "Median, previous period",
            ]),
            rows,
        },
    });

    let mut rows = Vec::new();
    for ch in ChannelKind::ALL {
        let on = x.cur.on(|k| k.channel == ch.as_str());
        let episodes = on.n(rollup::EPISODES);
        if episodes == 0 {
            continue;
        }
        let extra = format!("&first={}", ch.as_str());
        rows.push(vec![
            Cell::text(ch.label()),
            link(
                count(episodes),
                drill(c, rollup::EPISODES, c.from, c.to, &extra),
            ),
            Cell::text(duration(percentile(&on.vals(rollup::FIRST_RESPONSE), 50))),
            Cell::text(duration(percentile(&on.vals(rollup::RESOLUTION), 50))),
            link(
                count(on.n(rollup::RESOLVED)),
                drill(c, rollup::RESOLVED, c.from, c.to, &extra),
            ),
            Cell::text(percent(on.n(rollup::REOPENED), on.n(rollup::RESOLVED_ONCE))),
        ]);
    }
    sections.push(Section {
        id: "channels".into(),
        title: "By first channel".into(),
        note: None,
        svg: None,
        table: Table {
            caption: "Episodes by the channel the customer first wrote on".into(),
            head: head(&[
                "Channel",
                "Episodes",
                "Median first response",
                "Median resolution",
                "Resolved",
                "Reopen rate",
            ]),
            rows,
        },
    });

    // Agents: who handled the episodes (first replier, else resolver).
    let mut ids: BTreeSet<i64> = x
        .cur
        .of(rollup::EPISODES)
        .map(|(k, _)| k.agent)
        .filter(|&a| a != 0)
        .collect();
    if let Some(a) = c.agent {
        ids.insert(a);
    }
    let name = |id: i64| {
        x.agents
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| format!("User {id}"))
    };
    let mut rows: Vec<Vec<Cell>> = ids
        .into_iter()
        .map(|id| {
            let on = x.cur.on(|k| k.agent == id);
            let extra = format!("&handled_by={id}");
            vec![
                Cell::text(name(id)),
                link(
                    count(on.n(rollup::EPISODES)),
                    drill(c, rollup::EPISODES, c.from, c.to, &extra),
                ),
                Cell::text(duration(percentile(&on.vals(rollup::FIRST_RESPONSE), 50))),
                Cell::text(duration(percentile(&on.vals(rollup::RESOLUTION), 50))),
                Cell::text(count(on.n(rollup::RESOLVED))),
            ]
        })
        .collect();
    let unhandled = x.cur.on(|k| k.agent == 0).n(rollup::EPISODES);
    if unhandled > 0 && c.agent.is_none() {
        rows.push(vec![
            Cell::text("Nobody yet"),
            link(
                count(unhandled),
                drill(c, rollup::EPISODES, c.from, c.to, "&handled_by=0"),
            ),
            Cell::text("–"),
            Cell::text("–"),
            Cell::text("0"),
        ]);
    }
    sections.push(Section {
        id: "agents".into(),
        title: "Agents".into(),
        note: Some(
            "An episode is handled by the agent who first replied, or who resolved it.".into(),
        ),
        svg: None,
        table: Table {
            caption: "Episodes by agent".into(),
            head: head(&[
                "Agent",
                "Episodes handled",
                "Median first response",
                "Median resolution",
                "Resolved",
            ]),
            rows,
        },
    });

    // When customers write: weekday × hour of inbound messages.
    let mut grid = [[0i64; 24]; 7];
    for (k, f) in x
        .cur
        .rows
        .iter()
        .filter(|(k, _)| k.metric.starts_with(rollup::INBOUND_HOUR))
    {
        if let Ok(h) = k.metric[rollup::INBOUND_HOUR.len()..].parse::<usize>() {
            if h < 24 {
                grid[weekday_of_day(k.day)][h] += f.n;
            }
        }
    }
    let max = grid.iter().flatten().copied().max().unwrap_or(0).max(1);
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let rows = grid
        .iter()
        .enumerate()
        .map(|(d, hours)| {
            let mut r = vec![Cell::text(days[d])];
            r.extend(hours.iter().map(|&n| Cell {
                text: n.to_string(),
                href: None,
                shade: Some((n * 100 / max) as u8),
            }));
            r
        })
        .collect();
    let mut h = vec!["Day".to_string()];
    h.extend((0..24).map(|i| format!("{i:02}")));
    sections.push(Section {
        id: "heatmap".into(),
        title: "When customers write".into(),
        note: Some(
            "Customer messages by weekday and hour, in the reporting time zone, on every channel."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Customer messages by weekday and hour".into(),
            head: h,
            rows,
        },
    });
}

fn cross(x: &Ctx, cards: &mut Vec<Card>, sections: &mut Vec<Section>) {
    let c = x.c;
    cards.push(x.rate_card(
        "Customers who switched channel",
        rollup::SWITCHED,
        rollup::EPISODES,
        false,
    ));
    cards.push(x.rate_card("Moved by an agent", rollup::MOVED, rollup::EPISODES, false));
    cards.push(x.rate_card(
        "Repeated on another channel",
        rollup::REPEATED,
        rollup::EPISODES,
        true,
    ));
    let window_replies = |r: &Rows| {
        r.of(rollup::REPLY)
            .filter(|(k, _)| {
                ChannelKind::parse(&k.channel)
                    .is_some_and(crate::domain::window::has_service_window)
            })
            .map(|(_, f)| f.n)
            .sum::<i64>()
    };
    let expired = |r: &Rows| {
        let (p, w) = (r.n(rollup::WINDOW_EXPIRED), window_replies(r));
        (percent(p, w), (w > 0).then(|| p as f64 / w as f64))
    };
    cards.push(x.card(
        "Replies after the 24-hour window",
        expired(&x.cur),
        expired(&x.prev),
        true,
        Some(drill(c, rollup::WINDOW_EXPIRED, c.from, c.to, "")),
    ));

    // The matrix: first contact → resolution.
    let mut cols: Vec<ChannelKind> = Vec::new();
    let mut cells: BTreeMap<(ChannelKind, ChannelKind), i64> = BTreeMap::new();
    for (k, f) in x
        .cur
        .rows
        .iter()
        .filter(|(k, _)| k.metric.starts_with(rollup::RESOLVED_ON))
    {
        let (Some(first), Some(res)) = (
            ChannelKind::parse(&k.channel),
            ChannelKind::parse(&k.metric[rollup::RESOLVED_ON.len()..]),
        ) else {
            continue;
        };
        *cells.entry((first, res)).or_default() += f.n;
        for ch in [first, res] {
            if !cols.contains(&ch) {
                cols.push(ch);
            }
        }
    }
    cols.sort();
    let max = cells.values().copied().max().unwrap_or(0).max(1);
    let mut rows = Vec::new();
    for &first in &cols {
        let mut r = vec![Cell::text(first.label())];
        let mut total = 0;
        for &res in &cols {
            let n = cells.get(&(first, res)).copied().unwrap_or(0);
            total += n;
            let extra = format!("&first={}&resolved_on={}", first.as_str(), res.as_str());
            r.push(Cell {
                text: count(n),
                href: (n > 0).then(|| drill(c, rollup::RESOLVED, c.from, c.to, &extra)),
                shade: Some((n * 100 / max) as u8),
            });
        }
        r.push(Cell::text(count(total)));
        rows.push(r);
    }
    let mut h = vec!["First contact ↓ / resolved on →".to_string()];
    h.extend(cols.iter().map(|c| c.label().to_string()));
    h.push("Total".into());
    sections.push(Section {
        id: "matrix".into(),
        title: "First contact → resolution".into(),
        note: Some(
            "Resolved episodes by the channel the customer first wrote on (rows) and the channel \
             of the last agent reply before the resolution (columns)."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Resolved episodes: channel of first contact by channel of resolution".into(),
            head: h,
            rows,
        },
    });

    // Channel mix: share of customer messages per channel per period.
    let b = buckets(c.from, c.to, c.group);
    let labels: Vec<String> = b.iter().map(|(_, _, l)| l.clone()).collect();
    let mix = channel_series(&x.cur, rollup::INBOUND, &b);
    let rows = b
        .iter()
        .enumerate()
        .map(|(i, (_, _, l))| {
            let total: i64 = mix.iter().map(|(_, v)| v[i]).sum();
            let mut r = vec![Cell::text(l.clone())];
            r.extend(mix.iter().map(|(_, v)| Cell::text(percent(v[i], total))));
            r.push(Cell::text(count(total)));
            r
        })
        .collect();
    let mut h = vec!["Period".to_string()];
    h.extend(mix.iter().map(|(ch, _)| ch.label().to_string()));
    h.push("Messages in".into());
    sections.push(Section {
        id: "mix".into(),
        title: "Channel mix".into(),
        note: Some("Share of customer messages on each channel, per period.".into()),
        svg: Some(report_charts::shares(
            "Share of customer messages per channel and period",
            &labels,
            &mix.iter()
                .map(|(ch, v)| {
                    (
                        ch.label().to_string(),
                        v.iter().map(|&n| n as f64).collect(),
                    )
                })
                .collect::<Vec<_>>(),
        )),
        table: Table {
            caption: "Share of customer messages per channel".into(),
            head: h,
            rows,
        },
    });

    // Reply time by the reply's channel, and replies after the window.
    let mut rows = Vec::new();
    for ch in ChannelKind::ALL {
        let on = x.cur.on(|k| k.channel == ch.as_str());
        let s = stats(&on.vals(rollup::REPLY));
        let expired = on.n(rollup::WINDOW_EXPIRED);
        if s.count == 0 && expired == 0 {
            continue;
        }
        rows.push(vec![
            Cell::text(ch.label()),
            Cell::text(count(s.count)),
            Cell::text(duration(s.median)),
            Cell::text(duration(s.p90)),
            Cell::text(duration(s.average)),
            if crate::domain::window::has_service_window(ch) {
                let extra = format!("&reply_channel={}", ch.as_str());
                link(
                    count(expired),
                    drill(c, rollup::WINDOW_EXPIRED, c.from, c.to, &extra),
                )
            } else {
                Cell::text("no window")
            },
        ]);
    }
    sections.push(Section {
        id: "replies".into(),
        title: "Reply time by channel".into(),
        note: Some(
            "Replies answering a waiting customer message, by the channel of the reply. WhatsApp, \
             Messenger and Instagram allow free-form replies for 24 hours after the customer's \
             last message there."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Reply time by the channel of the reply".into(),
            head: head(&[
                "Channel",
                "Replies",
                "Median",
                "90th percentile",
                "Average",
                "Sent after the 24-hour window",
            ]),
            rows,
        },
    });

    let mut rows = Vec::new();
    for ch in ChannelKind::ALL {
        let on = x.cur.on(|k| k.channel == ch.as_str());
        let eps = on.n(rollup::EPISODES);
        if eps == 0 {
            continue;
        }
        let extra = format!("&first={}", ch.as_str());
        let cell = |metric: &str| {
            let n = on.n(metric);
            link(
                format!("{} ({})", count(n), percent(n, eps)),
                drill(c, metric, c.from, c.to, &extra),
            )
        };
        rows.push(vec![
            Cell::text(ch.label()),
            link(count(eps), drill(c, rollup::EPISODES, c.from, c.to, &extra)),
            cell(rollup::SWITCHED),
            cell(rollup::MOVED),
            cell(rollup::REPEATED),
        ]);
    }
    sections.push(Section {
        id: "switching".into(),
        title: "Switching channels".into(),
        note: Some(
            "Switched: the customer wrote on two or more channels in the episode. Moved: an agent \
             moved the conversation to another channel. Repeated: the customer wrote on another \
             channel while a message on the first was still unanswered."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Episodes by first channel: switched, moved, repeated".into(),
            head: head(&["First channel", "Episodes", "Switched", "Moved", "Repeated"]),
            rows,
        },
    });
}

/// Refreshes what changed since the last refresh, when anything did.
async fn fresh(db: &Db) -> Result<()> {
    let mut conn = db.read.acquire().await?;
    let pending = rollups::dirty_count(&mut conn).await?;
    drop(conn);
    if pending > 0 {
        reports::refresh_pending(db).await?;
    }
    Ok(())
}

/// The reports page for `q`; `marketing`: the user may see the marketing tabs.
pub async fn page(db: &Db, q: &ReportQuery, marketing: bool) -> Result<ReportPage> {
    fresh(db).await?;
    let mut conn = db.read.acquire().await?;
    let settings = rollups::settings(&mut conn).await?;
    let tz = reports::zone(&settings.time_zone);
    let today = reports::day_of(&tz, now_ms());
    let c = check(q, today).map_err(StoreError::Invalid)?;
    if c.tab.marketing() && !marketing {
        return Err(StoreError::Invalid(
            "the cross-channel reports are for marketing staff and admins".into(),
        ));
    }
    let len = c.to - c.from + 1;
    let (prev_from, prev_to) = (c.from - len, c.from - 1);
    let all = rollups::rollups_between(&mut conn, prev_from, c.to).await?;
    drop(conn);
    let agents: Vec<(i64, String)> = users::list(db)
        .await?
        .into_iter()
        .map(|(u, _)| (u.id, u.name))
        .collect();
    let x = Ctx {
        c: &c,
        cur: Rows::new(&all, c.from, c.to, &c),
        prev: Rows::new(&all, prev_from, prev_to, &c),
        prev_from,
        prev_to,
        agents: &agents,
    };
    let mut cards = Vec::new();
    let mut sections = Vec::new();
    match c.tab {
        Tab::Overview => overview(&x, &mut cards, &mut sections),
        Tab::Cross => cross(&x, &mut cards, &mut sections),
    }
    let mut tabs = vec![ReportTab {
        id: "overview".into(),
        label: "Support".into(),
    }];
    if marketing {
        tabs.push(ReportTab {
            id: "cross".into(),
            label: "Cross-channel".into(),
        });
    }
    let mut definitions: Vec<(String, String)> = DEFINITIONS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    definitions.push((
        "Days".into(),
        format!(
            "Counted in the reporting time zone, {}. An episode counts on the day it started; a \
             message on the day it was written. The inactivity period is {} days.",
            settings.time_zone,
            settings.inactivity_secs / 86_400
        ),
    ));
    definitions.push((
        "Previous period".into(),
        "The same number of days just before the chosen range; changes compare with it.".into(),
    ));
    Ok(ReportPage {
        query: c.query.clone(),
        period: period_label(c.from, c.to),
        previous_period: period_label(x.prev_from, x.prev_to),
        time_zone: settings.time_zone,
        tabs,
        agents,
        cards,
        sections,
        definitions,
    })
}

/// One section of the page as CSV: the table's header and rows, as on screen.
pub fn section_csv(page: &ReportPage, id: &str) -> Option<String> {
    let s = page.sections.iter().find(|s| s.id == id)?;
    let mut out = String::new();
    push_csv_row(&mut out, s.table.head.iter().map(String::as_str));
    for r in &s.table.rows {
        push_csv_row(&mut out, r.iter().map(|c| c.text.as_str()));
    }
    Some(out)
}

/// One CSV line; fields quoted when needed, and a leading `=`, `+`, `-` or `@` defused so a
/// spreadsheet does not run a customer's name as a formula.
pub fn push_csv_row<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let risky = f.starts_with(['=', '+', '@', '\t', '\r'])
            || (f.starts_with('-') && f.parse::<f64>().is_err());
        let f = if risky {
            format!("'{f}")
        } else {
            f.to_string()
        };
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&f);
        }
    }
    out.push_str("\r\n");
}

/// The drill-down filter of a `/reports/episodes` query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drill {
    pub metric: String,
    pub first: String,
    pub resolved_on: String,
    pub reply_channel: String,
    pub handled_by: String,
}

fn drill_filter(c: &Checked, d: &Drill) -> std::result::Result<(EpisodeFilter, String), String> {
    let ch = |s: &str| -> std::result::Result<Option<ChannelKind>, String> {
        match s {
            "" => Ok(None),
            s => ChannelKind::parse(s)
                .map(Some)
                .ok_or_else(|| format!("there is no channel {s:?}")),
        }
    };
    let first = ch(&d.first)?.or(c.channel);
    let resolved_on = ch(&d.resolved_on)?;
    let reply_channel = ch(&d.reply_channel)?;
    let handled_by = match d.handled_by.as_str() {
        "" => c.agent,
        s => Some(
            s.parse::<i64>()
                .map_err(|_| format!("{s:?} is not an agent"))?,
        ),
    };
    let (what, flag) = match d.metric.as_str() {
        rollup::EPISODES | "" => ("Episodes", None),
        rollup::RESOLVED => ("Resolved episodes", Some("resolved")),
        rollup::REOPENED => ("Reopened episodes", Some("reopened")),
        rollup::SWITCHED => (
            "Episodes in which the customer switched channel",
            Some("switched"),
        ),
        rollup::MOVED => ("Episodes moved by an agent", Some("moved")),
        rollup::REPEATED => (
            "Episodes in which the customer repeated themselves",
            Some("repeated"),
        ),
        rollup::FIRST_RESPONSE => ("Episodes with a first response", Some("first_response")),
        rollup::RESOLUTION => ("Resolved episodes", Some("resolved")),
        rollup::WINDOW_EXPIRED => (
            "Episodes with a reply after the 24-hour window",
            Some("window_expired"),
        ),
        other => return Err(format!("there is no measure {other:?} to list")),
    };
    let mut title = what.to_string();
    if let Some(f) = first {
        title.push_str(&format!(" that started on {}", f.label()));
    }
    if let Some(r) = resolved_on {
        title.push_str(&format!(", resolved on {}", r.label()));
    }
    if let Some(r) = reply_channel {
        title.push_str(&format!(", replies on {}", r.label()));
    }
    Ok((
        EpisodeFilter {
            from_day: c.from,
            to_day: c.to,
            first_channel: first,
            resolution_channel: resolved_on,
            handled_by,
            flag: flag.map(str::to_string),
            reply_channel,
        },
        title,
    ))
}

/// The episodes a number on the page counts (newest first, at most 200) and how many in all.
pub async fn episodes(
    db: &Db,
    q: &ReportQuery,
    d: &Drill,
    marketing: bool,
    zone: &crate::domain::localtime::Zone,
) -> Result<EpisodeList> {
    fresh(db).await?;
    let mut conn = db.read.acquire().await?;
    let settings = rollups::settings(&mut conn).await?;
    let tz = reports::zone(&settings.time_zone);
    let c = check(q, reports::day_of(&tz, now_ms())).map_err(StoreError::Invalid)?;
    if !marketing
        && matches!(
            d.metric.as_str(),
            rollup::SWITCHED | rollup::MOVED | rollup::REPEATED | rollup::WINDOW_EXPIRED
        )
    {
        return Err(StoreError::Invalid(
            "the cross-channel reports are for marketing staff and admins".into(),
        ));
    }
    let (filter, title) = drill_filter(&c, d).map_err(StoreError::Invalid)?;
    let (total, rows) = rollups::episode_lines(&mut conn, &filter, 200).await?;
    let lines = rows
        .into_iter()
        .map(|(e, customer)| EpisodeLine {
            conversation_id: e.conversation_id,
            customer,
            started: crate::domain::localtime::format_full(e.started_at, zone),
            first_channel: e.first_channel.label().into(),
            resolution_channel: e
                .resolution_channel
                .map(|c| c.label().to_string())
                .unwrap_or_default(),
            first_response: duration(e.first_response_secs),
            resolution: duration(e.resolution_secs),
            flags: [
                (e.switched, "switched"),
                (e.moved, "moved"),
                (e.repeated, "repeated"),
                (e.reopened, "reopened"),
            ]
            .iter()
            .filter(|(f, _)| *f)
            .map(|(_, s)| *s)
            .collect::<Vec<_>>()
            .join(", "),
        })
        .collect();
    let mut back = c.query.clone();
    back.tab = if c.tab == Tab::Cross {
        "cross"
    } else {
        "overview"
    }
    .into();
    Ok(EpisodeList {
        title: format!("{title}, {}", period_label(c.from, c.to)),
        total,
        lines,
        back: format!("/reports?{}", back.to_query_string(None)),
    })
}

/// Every episode of the range as CSV, one row each (`/reports/episodes.csv`).
pub async fn episodes_csv(db: &Db, q: &ReportQuery, d: &Drill) -> Result<String> {
    fresh(db).await?;
    let mut conn = db.read.acquire().await?;
    let settings = rollups::settings(&mut conn).await?;
    let tz = reports::zone(&settings.time_zone);
    let c = check(q, reports::day_of(&tz, now_ms())).map_err(StoreError::Invalid)?;
    let (filter, _) = drill_filter(&c, d).map_err(StoreError::Invalid)?;
    let (_, rows) = rollups::episode_lines(&mut conn, &filter, i64::MAX).await?;
    let mut out = String::new();
    push_csv_row(
        &mut out,
        [
            "conversation_id",
            "customer",
            "started_utc",
            "day",
            "first_channel",
            "resolution_channel",
            "channels",
            "first_response_secs",
            "resolution_secs",
            "resolved_utc",
            "switched",
            "moved",
            "repeated",
            "reopened",
            "handled_by",
            "messages_in",
            "messages_out",
        ]
        .into_iter(),
    );
    let utc = crate::domain::localtime::Zone::utc_fallback();
    for (e, customer) in rows {
        let fields = [
            e.conversation_id.to_string(),
            customer,
            crate::domain::localtime::format_rfc3339(e.started_at, &utc),
            date(e.day),
            e.first_channel.as_str().to_string(),
            e.resolution_channel
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            rollup::encode_channels(&e.channels),
            e.first_response_secs
                .map(|v| v.to_string())
                .unwrap_or_default(),
            e.resolution_secs.map(|v| v.to_string()).unwrap_or_default(),
            e.resolved_at
                .map(|t| crate::domain::localtime::format_rfc3339(t, &utc))
                .unwrap_or_default(),
            (e.switched as u8).to_string(),
            (e.moved as u8).to_string(),
            (e.repeated as u8).to_string(),
            (e.reopened as u8).to_string(),
            e.handled_by.map(|v| v.to_string()).unwrap_or_default(),
            e.inbound.to_string(),
            e.outbound.to_string(),
        ];
        push_csv_row(&mut out, fields.iter().map(String::as_str));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "report_view_tests.rs"]
mod tests;
