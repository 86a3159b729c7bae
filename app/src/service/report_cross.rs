//! The cross-channel tab (marketing): switching channels, the first contact → resolution
//! matrix, the channel mix and reply times by channel with the 24-hour window.

use std::collections::BTreeMap;

use super::report_charts;
use super::report_query::{buckets, count, duration, percent};
use super::report_tabs::{average, channel_series, drill, head, link, Ctx, Rows};
use crate::domain::reports::rollup;
use crate::domain::reports::Summary;
use crate::domain::ChannelKind;
use crate::model::{Card, Cell, Section, Table};

pub fn cross(x: &Ctx, cards: &mut Vec<Card>, sections: &mut Vec<Section>) {
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
    // Of the agents' messages on the channels with a 24-hour window.
    let window_replies = |r: &Rows| {
        r.of(rollup::OUTBOUND)
            .filter(|(k, _)| {
                k.agent != 0
                    && ChannelKind::parse(&k.channel)
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
    for (k, f) in x.cur.prefixed(rollup::RESOLVED_ON) {
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
        let on = x.cur.on_channel(ch);
        let s = Summary::of_vec(on.vals(rollup::REPLY));
        let expired = on.n(rollup::WINDOW_EXPIRED);
        if s.count == 0 && expired == 0 {
            continue;
        }
        rows.push(vec![
            Cell::text(ch.label()),
            Cell::text(count(s.count as i64)),
            Cell::text(duration(s.median)),
            Cell::text(duration(s.p90)),
            Cell::text(duration(average(&s))),
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
    for (ch, on, eps) in x.cur.first_channels() {
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
