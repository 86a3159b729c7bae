//! The reports page's tabs laid out from the rollup rows: headline cards with the previous
//! period, and sections (a chart drawn on the server and the table of its numbers, with
//! drill-down links).

use std::collections::{BTreeMap, BTreeSet};

use super::report_charts;
use super::report_query::{buckets, change, count, date, duration, percent, Checked};
use crate::domain::reports::rollup::{self, Figures, RollupKey};
use crate::domain::reports::{nearest_rank, weekday_of_day, Summary};
use crate::domain::ChannelKind;
use crate::model::{Card, Cell, Section, Table};
use crate::store::rollups::RowEntries;

/// The rollup entries of a period, filtered and grouped by metric (a 90-day page holds tens of
/// thousands of entries; every figure reads only its metric's).
pub struct Rows<'a> {
    by_metric: BTreeMap<&'a str, Vec<&'a (RollupKey, Figures)>>,
}

impl<'a> Rows<'a> {
    pub fn new(all: &'a [RowEntries], from: i64, to: i64, c: &Checked) -> Rows<'a> {
        let channel = c.channel.map(|c| c.as_str());
        let mut by_metric: BTreeMap<&'a str, Vec<&'a (RollupKey, Figures)>> = BTreeMap::new();
        // A stored row is one (day, metric): both are checked once per row.
        for row in all {
            let Some((k, _)) = row.first() else {
                continue;
            };
            if k.day < from || k.day > to {
                continue;
            }
            let metric = k.metric.as_str();
            // The heatmap and the customer ids are not filtered (they are for all channels, or
            // count customers whatever channel they chose); inbound messages have no agent.
            let wide = matches!(
                metric,
                rollup::INBOUND_HOUR | rollup::CUSTOMERS | rollup::OPENED_BY
            );
            let any_agent = wide || metric == rollup::INBOUND || c.agent.is_none();
            let v = by_metric.entry(metric).or_default();
            if wide || (channel.is_none() && any_agent) {
                v.extend(row.iter());
                continue;
            }
            v.extend(row.iter().filter(|(k, _)| {
                channel.is_none_or(|ch| k.channel == ch)
                    && (any_agent || c.agent.is_none_or(|a| k.agent == a))
            }));
        }
        Rows { by_metric }
    }

    pub(super) fn of<'b>(
        &'b self,
        metric: &str,
    ) -> impl Iterator<Item = &'a (RollupKey, Figures)> + 'b {
        self.by_metric
            .get(metric)
            .into_iter()
            .flat_map(|v| v.iter().copied())
    }

    /// The entries of every metric starting with `prefix`.
    pub(super) fn prefixed<'b>(
        &'b self,
        prefix: &'b str,
    ) -> impl Iterator<Item = &'a (RollupKey, Figures)> + 'b {
        self.by_metric
            .iter()
            .filter(move |(m, _)| m.starts_with(prefix))
            .flat_map(|(_, v)| v.iter().copied())
    }

    pub(super) fn n(&self, metric: &str) -> i64 {
        self.of(metric).map(|(_, f)| f.n).sum()
    }

    /// The count of `metric` on days `from..=to`.
    pub(super) fn n_within(&self, metric: &str, from: i64, to: i64) -> i64 {
        self.of(metric)
            .filter(|(k, _)| k.day >= from && k.day <= to)
            .map(|(_, f)| f.n)
            .sum()
    }

    /// Every value of `metric`, in no particular order.
    pub(super) fn vals(&self, metric: &str) -> Vec<i64> {
        let len = self.of(metric).map(|(_, f)| f.vals.len()).sum();
        let mut out = Vec::with_capacity(len);
        for (_, f) in self.of(metric) {
            out.extend_from_slice(&f.vals);
        }
        out
    }

    /// The entries of one channel.
    pub(super) fn on_channel(&self, ch: ChannelKind) -> Rows<'a> {
        self.on(|k| k.channel == ch.as_str())
    }

    /// The channels episodes started on, each with its entries and its episodes.
    pub(super) fn first_channels(&self) -> Vec<(ChannelKind, Rows<'a>, i64)> {
        ChannelKind::ALL
            .into_iter()
            .map(|ch| {
                let on = self.on_channel(ch);
                let episodes = on.n(rollup::EPISODES);
                (ch, on, episodes)
            })
            .filter(|(_, _, episodes)| *episodes > 0)
            .collect()
    }

    pub(super) fn on(&self, f: impl Fn(&RollupKey) -> bool) -> Rows<'a> {
        Rows {
            by_metric: self
                .by_metric
                .iter()
                .map(|(m, v)| (*m, v.iter().copied().filter(|(k, _)| f(k)).collect()))
                .collect(),
        }
    }
}

/// The median of `v` (any order).
pub(super) fn median(mut v: Vec<i64>) -> Option<i64> {
    nearest_rank(&mut v, 50)
}

/// A summary's average in whole seconds.
pub(super) fn average(s: &Summary) -> Option<i64> {
    s.average.map(|a| a as i64)
}

/// Where a number drills down to.
pub(super) fn drill(c: &Checked, metric: &str, from: i64, to: i64, extra: &str) -> String {
    let mut q = c.query.clone();
    q.range = "custom".into();
    q.from = date(from);
    q.to = date(to);
    format!(
        "/reports/episodes?{}&metric={metric}{extra}",
        q.to_query_string(None)
    )
}

pub struct Ctx<'a> {
    pub c: &'a Checked,
    pub cur: Rows<'a>,
    pub prev: Rows<'a>,
    pub prev_from: i64,
    pub prev_to: i64,
    pub agents: &'a [(i64, String)],
    /// Distinct customers with an episode started: this period, the previous one.
    pub customers: (i64, i64),
    /// The business hours, when set (`Mon-Fri 09:00-17:00`).
    pub hours: Option<&'a str>,
}

impl Ctx<'_> {
    pub(super) fn card(
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
        let m = |r: &Rows| median(r.vals(metric));
        let (cur, prev) = (m(&self.cur), m(&self.prev));
        self.card(
            label,
            (duration(cur), cur.map(|v| v as f64)),
            (duration(prev), prev.map(|v| v as f64)),
            true,
            Some(drill(self.c, metric, self.c.from, self.c.to, "")),
        )
    }

    pub(super) fn rate_card(
        &self,
        label: &str,
        part: &str,
        whole: &str,
        lower_is_better: bool,
    ) -> Card {
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

pub(super) fn head(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|s| s.to_string()).collect()
}

pub(super) fn link(text: String, href: String) -> Cell {
    Cell {
        text,
        href: Some(href),
        shade: None,
    }
}

pub(super) fn channel_series<'a>(
    rows: &Rows<'a>,
    metric: &str,
    buckets: &[(i64, i64, String)],
) -> Vec<(ChannelKind, Vec<i64>)> {
    ChannelKind::ALL
        .into_iter()
        .map(|ch| {
            let on = rows.on_channel(ch);
            (
                ch,
                buckets
                    .iter()
                    .map(|(f, t, _)| on.n_within(metric, *f, *t))
                    .collect::<Vec<i64>>(),
            )
        })
        .filter(|(_, v)| v.iter().any(|&x| x > 0))
        .collect()
}

pub fn overview(x: &Ctx, cards: &mut Vec<Card>, sections: &mut Vec<Section>) {
    let c = x.c;
    cards.push(x.count_card("Episodes", rollup::EPISODES, Some(rollup::EPISODES)));
    let customers = x.customers;
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
            .map(|(f, t, _)| x.cur.n_within(metric, *f, *t))
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
    let mut measures = vec![
        ("First response", rollup::FIRST_RESPONSE),
        ("Reply", rollup::REPLY),
        ("Resolution", rollup::RESOLUTION),
    ];
    if x.hours.is_some() {
        measures.extend([
            ("First response, business hours", rollup::FIRST_RESPONSE_BH),
            ("Reply, business hours", rollup::REPLY_BH),
            ("Resolution, business hours", rollup::RESOLUTION_BH),
        ]);
    }
    for (label, metric) in measures {
        let s = Summary::of_vec(x.cur.vals(metric));
        let p = Summary::of_vec(x.prev.vals(metric));
        rows.push(vec![
            Cell::text(label),
            Cell::text(duration(s.median)),
            Cell::text(duration(s.p90)),
            Cell::text(duration(average(&s))),
            if metric == rollup::REPLY || metric.ends_with("_bh") {
                Cell::text(count(s.count as i64))
            } else {
                link(count(s.count as i64), drill(c, metric, c.from, c.to, ""))
            },
            Cell::text(duration(p.median)),
        ]);
    }
    sections.push(Section {
        id: "times".into(),
        title: "Response and resolution times".into(),
        note: Some(match x.hours {
            None => "Wall-clock time. Reply times are keyed by the channel of the reply; the \
                     others by the channel the episode started on."
                .into(),
            Some(h) => format!(
                "Wall-clock time, then the same counted only inside business hours ({h}). Reply \
                 times are keyed by the channel of the reply; the others by the channel the \
                 episode started on."
            ),
        }),
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
    for (ch, on, episodes) in x.cur.first_channels() {
        let extra = format!("&first={}", ch.as_str());
        rows.push(vec![
            Cell::text(ch.label()),
            link(
                count(episodes),
                drill(c, rollup::EPISODES, c.from, c.to, &extra),
            ),
            Cell::text(duration(median(on.vals(rollup::FIRST_RESPONSE)))),
            Cell::text(duration(median(on.vals(rollup::RESOLUTION)))),
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
                Cell::text(duration(median(on.vals(rollup::FIRST_RESPONSE)))),
                Cell::text(duration(median(on.vals(rollup::RESOLUTION)))),
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
    for (k, f) in x.cur.of(rollup::INBOUND_HOUR) {
        if let Ok(h) = k.channel.parse::<usize>() {
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
