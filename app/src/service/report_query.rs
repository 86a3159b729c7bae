//! The reports page's query: checking what the URL asks (tab, range, grouping, filters), the
//! periods of a range, and how numbers, durations and dates read on the page and in CSV.

use crate::domain::reports::weekday_of_day;
use crate::domain::text::civil_from_days;
use crate::domain::ChannelKind;
use crate::model::ReportQuery;

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
    Reach,
}

impl Tab {
    pub fn id(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Cross => "cross",
            Tab::Reach => "reach",
        }
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
        "reach" => Tab::Reach,
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
        tab: tab.id().into(),
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

/// The change from `prev` to `cur`: "+12%" for counts, "−3 min" style is not used: durations
/// and rates compare in percent too. `lower_is_better` says which way is good news.
pub fn change(
    cur: Option<f64>,
    prev: Option<f64>,
    lower_is_better: bool,
) -> (String, Option<bool>) {
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

pub use crate::domain::csv::push_row as push_csv_row;

#[cfg(test)]
#[path = "report_query_tests.rs"]
mod tests;
