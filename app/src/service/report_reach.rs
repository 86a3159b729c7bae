//! The reach tab (marketing): consent given and withdrawn per channel, purpose and source;
//! failed deliveries with their reasons; identity (merges, undos, customers known by several
//! identifiers, suggestions waiting). Read from their own tables over the range (they are small,
//! or indexed by time), except the messages sent, which come from the daily rollups.

use super::report_query::{count, percent};
use super::report_tabs::{head, Ctx};
use crate::domain::reports::rollup;
use crate::domain::{ChannelKind, IdentifierKind};
use crate::model::{Card, Cell, Section, Table};

/// What the reach tab reads besides the rollups, for the range and the one before.
pub struct ReachFacts {
    /// `(kind, purpose, source, granted, count)` in the range.
    pub consent: Vec<(String, String, String, bool, i64)>,
    /// Marketing opt-ins and opt-outs: this period, the previous one.
    pub marketing_in: (i64, i64),
    pub marketing_out: (i64, i64),
    /// `(channel, reason, count)` in the range, most first.
    pub failures: Vec<(String, String, i64)>,
    pub failed: (i64, i64),
    /// Merges and undos: this period, the previous one.
    pub merges: (i64, i64),
    pub undos: (i64, i64),
    /// Now: customers with several identifiers, merge suggestions waiting.
    pub several: i64,
    pub suggestions: i64,
}

fn source_label(s: &str) -> &str {
    match s {
        "keyword" => "SMS keyword",
        "provider" => "Provider opt-out",
        "agent" => "Agent",
        "unsubscribe" => "Unsubscribe link",
        "import" => "Import",
        other => other,
    }
}

fn kind_label(k: &str) -> String {
    IdentifierKind::parse(k)
        .map(|k| k.label().to_string())
        .unwrap_or_else(|_| k.to_string())
}

pub fn reach(x: &Ctx, f: &ReachFacts, cards: &mut Vec<Card>, sections: &mut Vec<Section>) {
    let num = |v: (i64, i64)| {
        (
            (count(v.0), Some(v.0 as f64)),
            (count(v.1), Some(v.1 as f64)),
        )
    };
    let (a, b) = num(f.marketing_in);
    cards.push(x.card("Marketing opt-ins", a, b, false, None));
    let (a, b) = num(f.marketing_out);
    cards.push(x.card("Marketing opt-outs", a, b, true, None));
    let rate = |i: i64, o: i64| {
        (
            percent(o, i + o),
            (i + o > 0).then(|| o as f64 / (i + o) as f64),
        )
    };
    cards.push(x.card(
        "Opt-out share",
        rate(f.marketing_in.0, f.marketing_out.0),
        rate(f.marketing_in.1, f.marketing_out.1),
        true,
        None,
    ));
    let sent = |r: &super::report_tabs::Rows| r.n(rollup::OUTBOUND);
    let (sent_now, sent_then) = (sent(&x.cur), sent(&x.prev));
    cards.push(x.card(
        "Failed deliveries",
        rate(sent_now - f.failed.0, f.failed.0),
        rate(sent_then - f.failed.1, f.failed.1),
        true,
        None,
    ));
    let (a, b) = num(f.merges);
    cards.push(x.card("Customers merged", a, b, false, None));
    let (a, b) = num(f.undos);
    cards.push(x.card("Merges undone", a, b, true, None));

    let rows = f
        .consent
        .iter()
        .map(|(kind, purpose, source, granted, n)| {
            vec![
                Cell::text(kind_label(kind)),
                Cell::text(if purpose == "marketing" {
                    "Marketing"
                } else {
                    "Support"
                }),
                Cell::text(source_label(source)),
                Cell::text(if *granted { "given" } else { "withdrawn" }),
                Cell::text(count(*n)),
            ]
        })
        .collect();
    sections.push(Section {
        id: "consent".into(),
        title: "Consent changes".into(),
        note: Some(
            "Every consent change recorded in the range, by the kind of identifier, purpose and \
             source: SMS keywords (STOP, START), provider opt-outs, agents, the email unsubscribe \
             link and imports."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Consent changes by channel, purpose and source".into(),
            head: head(&["Identifier", "Purpose", "Source", "Change", "Count"]),
            rows,
        },
    });

    let mut rows = Vec::new();
    for ch in ChannelKind::ALL {
        let sent = x.cur.on_channel(ch).n(rollup::OUTBOUND);
        let failed: i64 = f
            .failures
            .iter()
            .filter(|(c, _, _)| c == ch.as_str())
            .map(|(_, _, n)| n)
            .sum();
        if sent == 0 && failed == 0 {
            continue;
        }
        let top = f
            .failures
            .iter()
            .find(|(c, _, _)| c == ch.as_str())
            .map(|(_, r, _)| {
                if r.is_empty() {
                    "no reason given"
                } else {
                    r.as_str()
                }
            })
            .unwrap_or("–");
        rows.push(vec![
            Cell::text(ch.label()),
            Cell::text(count(sent)),
            Cell::text(count(failed)),
            Cell::text(percent(failed, sent)),
            Cell::text(top),
        ]);
    }
    sections.push(Section {
        id: "delivery".into(),
        title: "Delivery".into(),
        note: Some(
            "Messages sent in the range and those the provider or the outbox gave up on, with \
             the most frequent reason."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Messages sent and failed by channel".into(),
            head: head(&["Channel", "Sent", "Failed", "Failed share", "Top reason"]),
            rows,
        },
    });

    let mut reasons: Vec<(String, i64)> = Vec::new();
    for (_, r, n) in &f.failures {
        let r = if r.is_empty() { "no reason given" } else { r };
        match reasons.iter_mut().find(|(x, _)| x == r) {
            Some(e) => e.1 += n,
            None => reasons.push((r.to_string(), *n)),
        }
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    sections.push(Section {
        id: "failures".into(),
        title: "Top failure reasons".into(),
        note: None,
        svg: None,
        table: Table {
            caption: "Failed messages by reason".into(),
            head: head(&["Reason", "Messages"]),
            rows: reasons
                .into_iter()
                .take(10)
                .map(|(r, n)| vec![Cell::text(r), Cell::text(count(n))])
                .collect(),
        },
    });

    sections.push(Section {
        id: "identity".into(),
        title: "Identity".into(),
        note: Some("Merges and undos in the range; the rest as it stands now.".into()),
        svg: None,
        table: Table {
            caption: "Customers recognised across identifiers".into(),
            head: head(&["Measure", "Count"]),
            rows: vec![
                vec![
                    Cell::text("Customers merged"),
                    Cell::text(count(f.merges.0)),
                ],
                vec![Cell::text("Merges undone"), Cell::text(count(f.undos.0))],
                vec![
                    Cell::text("Customers known by several identifiers"),
                    Cell::text(count(f.several)),
                ],
                vec![
                    Cell::text("Merge suggestions waiting for an agent"),
                    Cell::text(count(f.suggestions)),
                ],
            ],
        },
    });
}
