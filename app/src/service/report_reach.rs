//! The reach tab (marketing): who marketing can reach now on each channel; consent given and
//! withdrawn per channel, purpose and source; each customer's channel of choice and how it
//! changed; delivery per channel and provider with the failure reasons; identity (merges,
//! undos, customers known by several identifiers, suggestions waiting). Read from their own
//! tables (small, or indexed by time) and the episode rows; the messages sent of the cards come
//! from the daily rollups.

use super::report_query::{count, percent};
use super::report_tabs::{head, Ctx, Rows};
use crate::domain::providers;
use crate::domain::reports::reach::{channel_of_choice, Choices, ReachLine};
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
    /// `(channel, provider, reason, count)` in the range, most first.
    pub failures: Vec<(String, String, String, i64)>,
    pub failed: (i64, i64),
    /// `(channel, provider, delivery state, count)` of the messages sent in the range.
    pub delivery: Vec<(String, String, String, i64)>,
    /// Who marketing can reach now, per channel and on any.
    pub reach: Vec<ReachLine>,
    /// Customers by the channel they prefer now (`None`: none set).
    pub preferred: Vec<(Option<ChannelKind>, i64)>,
    /// Merges and undos: this period, the previous one.
    pub merges: (i64, i64),
    pub undos: (i64, i64),
    /// Now: customers with several identifiers, merge suggestions waiting.
    pub several: i64,
    pub suggestions: i64,
    /// Campaigns started in the range, with the customers who opted out after each.
    pub campaigns: Vec<(crate::store::campaign_audience::CampaignLine, i64)>,
}

/// The campaigns started in the range: what each sent, and what came of it.
fn campaigns(f: &ReachFacts) -> Section {
    Section {
        id: "campaigns".into(),
        title: "Campaigns".into(),
        note: Some(
            "Campaigns started in the range (the newest 20): messages sent on every step and \
             channel, delivered (email reports no delivery), failed after every channel was \
             tried, reached by falling back to another channel, replies, and customers who \
             opted out after the campaign messaged them."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Campaigns started in the range".into(),
            head: head(&[
                "Campaign",
                "Recipients",
                "Sent",
                "Delivered",
                "Failed",
                "By fallback",
                "Replied",
                "Opted out",
            ]),
            rows: f
                .campaigns
                .iter()
                .map(|(c, out)| {
                    vec![
                        Cell {
                            text: c.name.clone(),
                            href: Some(format!("/campaigns/{}", c.id)),
                            shade: None,
                        },
                        Cell::text(count(c.recipients)),
                        Cell::text(count(c.sent)),
                        Cell::text(count(c.delivered)),
                        Cell::text(count(c.failed)),
                        Cell::text(count(c.fell_back)),
                        Cell::text(count(c.replied)),
                        Cell::text(count(*out)),
                    ]
                })
                .collect(),
        },
    }
}

fn source_label(s: &str) -> &str {
    match s {
        "keyword" => "SMS keyword",
        "provider" => "Provider opt-out",
        "agent" => "Agent",
        "unsubscribe" => "Unsubscribe link",
        "import" => "Import",
        "chat_form" => "Website chat form",
        "preference_center" => "Preference center",
        other => other,
    }
}

fn provider_label(p: &str) -> String {
    match providers::by_id(p) {
        Some(spec) => spec.label.to_string(),
        None if p == providers::PLAYGROUND => "Playground".into(),
        None if p == "imap" || p == "email" => "Email (IMAP and SMTP)".into(),
        None => p.to_string(),
    }
}

fn channel_label(c: &str) -> String {
    ChannelKind::parse(c)
        .map(|c| c.label().to_string())
        .unwrap_or_else(|| c.to_string())
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

    if let Some(any) = f.reach.iter().find(|l| l.channel.is_none()) {
        cards.push(x.card(
            "Reachable for marketing now",
            (count(any.marketing), None),
            (String::new(), None),
            false,
            None,
        ));
    }
    sections.push(reach_now(&f.reach));
    let choices = Choices::of(&choice_of(&x.cur), &choice_of(&x.prev));
    sections.extend(self::choices(&choices, &f.preferred));

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
             link, the customers' own preference center and imports."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Consent changes by channel, purpose and source".into(),
            head: head(&["Identifier", "Purpose", "Source", "Change", "Count"]),
            rows,
        },
    });

    sections.push(delivery(f));
    sections.push(campaigns(f));
    let mut reasons: Vec<(String, i64)> = Vec::new();
    for (.., r, n) in &f.failures {
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

/// Each customer's channel of choice in a period, from the episodes they opened (the
/// `opened_by` rows: conversation ids by first channel and day).
fn choice_of(rows: &Rows) -> std::collections::BTreeMap<i64, ChannelKind> {
    use std::collections::HashMap;
    let mut seen: HashMap<(i64, ChannelKind), (i64, i64)> = HashMap::new();
    for (k, f) in rows.of(rollup::OPENED_BY) {
        let Some(ch) = ChannelKind::parse(&k.channel) else {
            continue;
        };
        for &id in &f.vals {
            let e = seen.entry((id, ch)).or_insert((0, k.day));
            e.0 += 1;
            e.1 = e.1.max(k.day);
        }
    }
    let flat: Vec<(i64, ChannelKind, i64, i64)> = seen
        .into_iter()
        .map(|((id, ch), (n, day))| (id, ch, n, day))
        .collect();
    channel_of_choice(&flat)
}

fn reach_now(lines: &[ReachLine]) -> Section {
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                Cell::text(l.channel.map_or("Any channel", |c| c.label())),
                Cell::text(count(l.known)),
                Cell::text(count(l.marketing)),
                Cell::text(count(l.opted_out)),
                Cell::text(count(l.not_asked())),
                Cell::text(count(l.stopped)),
                Cell::text(percent(l.marketing, l.known)),
            ]
        })
        .collect();
    Section {
        id: "reach-now".into(),
        title: "Who marketing can reach now".into(),
        note: Some(
            "Customers known on each channel as of now, whatever the range: those whose newest \
             marketing consent on the channel is given, those who opted out (and gave it on no \
             identifier of the channel), those never asked (nothing recorded: marketing may not \
             write), and those who stopped every message, such as an SMS STOP. A customer counts \
             once per channel, and once on the last line."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Customers marketing may write to now, by channel".into(),
            head: head(&[
                "Channel",
                "Customers",
                "Marketing allowed",
                "Opted out",
                "Never asked",
                "Stopped all messages",
                "Allowed share",
            ]),
            rows,
        },
    }
}

fn choices(c: &Choices, preferred: &[(Option<ChannelKind>, i64)]) -> Vec<Section> {
    let now_total: i64 = c.now.values().sum();
    let before_total: i64 = c.before.values().sum();
    let get =
        |m: &std::collections::BTreeMap<ChannelKind, i64>, ch| m.get(&ch).copied().unwrap_or(0);
    let mut rows = Vec::new();
    for ch in ChannelKind::ALL {
        let (now, before) = (get(&c.now, ch), get(&c.before, ch));
        let stated = preferred
            .iter()
            .find(|(p, _)| *p == Some(ch))
            .map_or(0, |(_, n)| *n);
        if now == 0 && before == 0 && stated == 0 {
            continue;
        }
        rows.push(vec![
            Cell::text(ch.label()),
            Cell::text(count(now)),
            Cell::text(percent(now, now_total)),
            Cell::text(count(before)),
            Cell::text(percent(before, before_total)),
            Cell::text(count(stated)),
        ]);
    }
    let unset = preferred
        .iter()
        .find(|(p, _)| p.is_none())
        .map_or(0, |(_, n)| *n);
    rows.push(vec![
        Cell::text("None set"),
        Cell::text("–"),
        Cell::text("–"),
        Cell::text("–"),
        Cell::text("–"),
        Cell::text(count(unset)),
    ]);
    let share = Section {
        id: "choice".into(),
        title: "Channel of choice".into(),
        note: Some(
            "Each customer who opened an episode in the period counts once, on the channel they \
             opened most of their episodes on (a tie goes to the latest day). The last column is \
             the preference agents recorded on the customer, as it stands now."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Customers by channel of choice, this period and the previous one".into(),
            head: head(&[
                "Channel",
                "Customers",
                "Share",
                "Previous period",
                "Previous share",
                "Stated preference now",
            ]),
            rows,
        },
    };
    let used: Vec<ChannelKind> = ChannelKind::ALL
        .into_iter()
        .filter(|ch| c.moves.keys().any(|(a, b)| a == ch || b == ch))
        .collect();
    let max = c.moves.values().copied().max().unwrap_or(0).max(1);
    let rows = used
        .iter()
        .map(|from| {
            let mut row = vec![Cell::text(from.label())];
            for to in &used {
                let n = c.moves.get(&(*from, *to)).copied().unwrap_or(0);
                row.push(Cell {
                    text: count(n),
                    href: None,
                    shade: Some((n * 100 / max) as u8),
                });
            }
            row
        })
        .collect();
    let mut columns = vec!["Previous period → this period".to_string()];
    columns.extend(used.iter().map(|c| c.label().to_string()));
    let moves = Section {
        id: "choice-moves".into(),
        title: "How channels of choice changed".into(),
        note: Some(format!(
            "Customers who opened episodes in both periods: {} of them, {} on another channel \
             than before ({}). Rows: the channel of choice in the previous period; columns: in \
             this one.",
            count(c.returning()),
            count(c.changed()),
            percent(c.changed(), c.returning())
        )),
        svg: None,
        table: Table {
            caption: "Channel of choice, previous period to this period".into(),
            head: columns,
            rows,
        },
    };
    vec![share, moves]
}

fn delivery(f: &ReachFacts) -> Section {
    use std::collections::BTreeMap;
    // (channel, provider) -> (sent, delivered, failed, waiting)
    let mut by: BTreeMap<(String, String), [i64; 4]> = BTreeMap::new();
    for (ch, provider, state, n) in &f.delivery {
        let e = by.entry((ch.clone(), provider.clone())).or_default();
        e[0] += n;
        match state.as_str() {
            "delivered" | "read" => e[1] += n,
            "failed" => e[2] += n,
            _ => e[3] += n,
        }
    }
    let rows = by
        .iter()
        .map(|((ch, provider), [sent, delivered, failed, waiting])| {
            let top = f
                .failures
                .iter()
                .find(|(c, p, ..)| c == ch && p == provider)
                .map(|(_, _, r, _)| {
                    if r.is_empty() {
                        "no reason given"
                    } else {
                        r.as_str()
                    }
                })
                .unwrap_or("–");
            vec![
                Cell::text(channel_label(ch)),
                Cell::text(provider_label(provider)),
                Cell::text(count(*sent)),
                Cell::text(count(*delivered)),
                Cell::text(count(*waiting)),
                Cell::text(count(*failed)),
                Cell::text(percent(*delivered, *sent)),
                Cell::text(percent(*failed, *sent)),
                Cell::text(top),
            ]
        })
        .collect();
    Section {
        id: "delivery".into(),
        title: "Delivery".into(),
        note: Some(
            "Messages sent in the range by channel and provider: delivered (or read) as the \
             provider reported, still waiting for a report (queued, sending or sent), and failed \
             (the provider or the outbox gave up), with the most frequent reason."
                .into(),
        ),
        svg: None,
        table: Table {
            caption: "Messages sent, delivered and failed by channel and provider".into(),
            head: head(&[
                "Channel",
                "Provider",
                "Sent",
                "Delivered",
                "Waiting",
                "Failed",
                "Delivered share",
                "Failed share",
                "Top reason",
            ]),
            rows,
        },
    }
}
