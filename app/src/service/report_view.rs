//! The reports page: reads the daily rollups of a period and of the period before it, and lays
//! them out ([`super::report_tabs`]); the drill-down lists and the CSV exports come from here
//! too, so their numbers are the page's.

use super::report_cross::cross;
use super::report_query::{check, date, duration, period_label, push_csv_row, Checked, Tab};
use super::report_reach::{reach, ReachFacts};
use super::report_tabs::{overview, Ctx, Rows};
use super::reports;
use crate::domain::reports::rollup;
use crate::domain::reports::DEFINITIONS;
use crate::domain::ChannelKind;
use crate::model::{DrillQuery, EpisodeLine, EpisodeList, ReportPage, ReportQuery, ReportTab};
use crate::store::rollups::Settings;
use crate::store::rollups::{self, EpisodeFilter};
use crate::store::{now_ms, users, Db, Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::Any;

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

/// What every report read starts with: the rollups brought up to date, a connection, the
/// reporting settings and zone, and the query checked against today; refused when it asks for
/// the marketing reports and `marketing` (the user may see them) is false.
async fn open(
    db: &Db,
    q: &ReportQuery,
    drill: Option<&DrillQuery>,
    marketing: bool,
) -> Result<(PoolConnection<Any>, Settings, jiff::tz::TimeZone, Checked)> {
    if q.marketing_only(drill) && !marketing {
        return Err(StoreError::Invalid(
            "the cross-channel reports are for marketing staff and admins".into(),
        ));
    }
    fresh(db).await?;
    let mut conn = db.read.acquire().await?;
    let settings = rollups::settings(&mut conn).await?;
    let tz = reports::zone(&settings.time_zone);
    let c = check(q, reports::day_of(&tz, now_ms())).map_err(StoreError::Invalid)?;
    Ok((conn, settings, tz, c))
}

/// The reports page for `q`; `marketing`: the user may see the marketing tabs.
pub async fn page(db: &Db, q: &ReportQuery, marketing: bool) -> Result<ReportPage> {
    let (mut conn, settings, tz, c) = open(db, q, None, marketing).await?;
    let len = c.to - c.from + 1;
    let (prev_from, prev_to) = (c.from - len, c.from - 1);
    // Only the metrics the tab shows; of the previous period, only what its cards compare.
    use rollup::*;
    // The overview compares every metric it reads but the heatmap.
    const OVERVIEW: [&str; 11] = [
        EPISODES,
        CUSTOMERS,
        INBOUND,
        OUTBOUND,
        FIRST_RESPONSE,
        RESOLUTION,
        RESOLVED,
        RESOLVED_ONCE,
        REOPENED,
        REPLY,
        INBOUND_HOUR,
    ];
    // With business hours, the overview reads the same durations counted in them too.
    let hours = (!settings.business_hours.is_empty()).then_some(settings.business_hours.as_str());
    let mut overview_metrics = OVERVIEW.to_vec();
    if hours.is_some() {
        overview_metrics.extend([FIRST_RESPONSE_BH, REPLY_BH, RESOLUTION_BH]);
    }
    let (now_metrics, then_metrics): (&[&str], Vec<&str>) = match c.tab {
        Tab::Overview => (
            &overview_metrics,
            overview_metrics
                .iter()
                .copied()
                .filter(|m| *m != INBOUND_HOUR)
                .collect(),
        ),
        Tab::Cross => (
            &[
                EPISODES,
                SWITCHED,
                MOVED,
                REPEATED,
                REPLY,
                WINDOW_EXPIRED,
                INBOUND,
                OUTBOUND,
            ],
            vec![
                EPISODES,
                SWITCHED,
                MOVED,
                REPEATED,
                WINDOW_EXPIRED,
                OUTBOUND,
            ],
        ),
        Tab::Reach => (&[OUTBOUND, OPENED_BY], vec![OUTBOUND, OPENED_BY]),
    };
    let matrix = c.tab == Tab::Cross;
    let mut all = rollups::rollups_between(&mut conn, c.from, c.to, now_metrics, matrix).await?;
    all.extend(
        rollups::rollups_between(&mut conn, prev_from, prev_to, &then_metrics, false).await?,
    );
    // Distinct customers: from the day rows' ids when nothing is filtered (each day keeps the
    // ids of all channels and agents together), else counted from the episodes.
    let customers = if c.channel.is_none() && c.agent.is_none() {
        let distinct = |from: i64, to: i64| {
            distinct_count(
                all.iter()
                    .filter_map(|row| row.first())
                    .filter(|(k, _)| k.metric == CUSTOMERS && k.day >= from && k.day <= to)
                    .map(|(_, f)| f.vals.as_slice()),
            )
        };
        (distinct(c.from, c.to), distinct(prev_from, prev_to))
    } else {
        (
            rollups::customers_between(&mut conn, c.from, c.to, c.channel, c.agent).await?,
            rollups::customers_between(&mut conn, prev_from, prev_to, c.channel, c.agent).await?,
        )
    };
    let reach_facts = if c.tab == Tab::Reach {
        Some(reach_facts(&mut conn, &tz, &c, prev_from).await?)
    } else {
        None
    };
    drop(conn);
    let agents: Vec<(i64, String)> = users::list(db)
        .await?
        .into_iter()
        .map(|(u, _, _)| (u.id, u.name))
        .collect();
    let x = Ctx {
        c: &c,
        cur: Rows::new(&all, c.from, c.to, &c),
        prev: Rows::new(&all, prev_from, prev_to, &c),
        prev_from,
        prev_to,
        agents: &agents,
        customers,
        hours,
    };
    let mut cards = Vec::new();
    let mut sections = Vec::new();
    match c.tab {
        Tab::Overview => overview(&x, &mut cards, &mut sections),
        Tab::Cross => cross(&x, &mut cards, &mut sections),
        Tab::Reach => {
            if let Some(f) = &reach_facts {
                reach(&x, f, &mut cards, &mut sections);
            }
        }
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
        tabs.push(ReportTab {
            id: "reach".into(),
            label: "Consent and reach".into(),
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
    if let Some(h) = hours {
        definitions.push((
            "Business hours".into(),
            format!(
                "{h} in {}. A time in business hours counts only the seconds inside them (a \
                 message on Friday evening answered on Monday at 10:00 waited one hour).",
                settings.time_zone
            ),
        ));
    }
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
        notice: settings.rebuild_requested.map(|_| {
            "The reports are being recomputed (new reporting settings, or rows that had to be \
             repaired); until that is done, some figures may be out of date."
                .to_string()
        }),
    })
}

/// How many distinct values the lists hold (conversation ids: a bit per id up to the largest;
/// sorted instead when ids are negative or too sparse for that).
fn distinct_count<'a>(lists: impl Iterator<Item = &'a [i64]> + Clone) -> i64 {
    let ids = || lists.clone().flatten().copied();
    let (min, max) = ids().fold((0, 0), |(lo, hi), id| (id.min(lo), id.max(hi)));
    let total = lists.clone().map(<[i64]>::len).sum::<usize>() as u64;
    if min < 0 || max as u64 > 64 * (total + 1_000_000) {
        let mut all: Vec<i64> = ids().collect();
        all.sort_unstable();
        all.dedup();
        return all.len() as i64;
    }
    let mut bits = vec![0u64; max as usize / 64 + 1];
    for id in ids() {
        bits[id as usize / 64] |= 1 << (id % 64);
    }
    bits.iter().map(|w| w.count_ones() as i64).sum()
}

/// What the reach tab reads from consent, delivery and identity for the range and the one
/// before (`prev_from..c.from`).
async fn reach_facts(
    conn: &mut sqlx::AnyConnection,
    tz: &jiff::tz::TimeZone,
    c: &Checked,
    prev_from: i64,
) -> Result<ReachFacts> {
    use crate::domain::consent::Purpose;
    use crate::domain::reports::reach::{self, Newest};
    use crate::store::{consent, customers, identifiers, merges, messages, suggestions};
    let channel_of_kind = |kind: &str| {
        let kind = crate::domain::IdentifierKind::parse(kind).ok()?;
        ChannelKind::for_identifier(kind).first().copied()
    };
    let (start, end) = (
        reports::day_start_ms(tz, c.from),
        reports::day_start_ms(tz, c.to + 1),
    );
    let prev_start = reports::day_start_ms(tz, prev_from);
    let marketing = |changes: &[(String, String, String, bool, i64)], granted: bool| {
        changes
            .iter()
            .filter(|(_, p, _, g, _)| p == "marketing" && *g == granted)
            .map(|(.., n)| n)
            .sum::<i64>()
    };
    let now = consent::changes_between(conn, start, end).await?;
    let then = consent::changes_between(conn, prev_start, start).await?;
    let failures = messages::failures_between(conn, start, end).await?;
    let failed_then: i64 = messages::failures_between(conn, prev_start, start)
        .await?
        .iter()
        .map(|(.., n)| n)
        .sum();
    let (merged, undone) = merges::counts_between(conn, start, end).await?;
    let (merged_then, undone_then) = merges::counts_between(conn, prev_start, start).await?;
    let known: Vec<(Option<ChannelKind>, i64)> = identifiers::customers_by_kind(conn)
        .await?
        .into_iter()
        .filter_map(|(kind, n)| match kind.as_str() {
            "" => Some((None, n)),
            k => channel_of_kind(k).map(|ch| (Some(ch), n)),
        })
        .collect();
    let newest: Vec<Newest> = consent::newest_all(conn)
        .await?
        .into_iter()
        .filter_map(|(kind, customer, purpose, granted)| {
            Some(Newest {
                channel: channel_of_kind(&kind)?,
                customer,
                purpose: Purpose::parse(&purpose)?,
                granted,
            })
        })
        .collect();
    let preferred = customers::preferred_counts(conn)
        .await?
        .into_iter()
        .map(|(ch, n)| (ch.as_deref().and_then(ChannelKind::parse), n))
        .collect();
    Ok(ReachFacts {
        marketing_in: (marketing(&now, true), marketing(&then, true)),
        marketing_out: (marketing(&now, false), marketing(&then, false)),
        failed: (failures.iter().map(|(.., n)| n).sum(), failed_then),
        consent: now,
        failures,
        delivery: messages::delivery_between(conn, start, end).await?,
        reach: reach::reach(&known, &newest),
        preferred,
        merges: (merged, merged_then),
        undos: (undone, undone_then),
        several: identifiers::customers_with_several(conn).await?,
        suggestions: suggestions::pending_count(conn).await?,
        campaigns: crate::store::campaign_audience::started_between(conn, start, end).await?,
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

fn drill_filter(
    c: &Checked,
    d: &DrillQuery,
) -> std::result::Result<(EpisodeFilter, String), String> {
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
    d: &DrillQuery,
    marketing: bool,
    zone: &crate::domain::localtime::Zone,
) -> Result<EpisodeList> {
    let (mut conn, _, _, c) = open(db, q, Some(d), marketing).await?;
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
    let back = c.query.clone();
    Ok(EpisodeList {
        title: format!("{title}, {}", period_label(c.from, c.to)),
        total,
        lines,
        back: format!("/reports?{}", back.to_query_string(None)),
    })
}

/// Every episode of the range as CSV, one row each (`/reports/episodes.csv`).
pub async fn episodes_csv(
    db: &Db,
    q: &ReportQuery,
    d: &DrillQuery,
    marketing: bool,
) -> Result<String> {
    let (mut conn, _, _, c) = open(db, q, Some(d), marketing).await?;
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
mod tests {
    use super::distinct_count;

    #[test]
    fn distinct_ids_are_counted_once_dense_sparse_or_negative() {
        let a = [1i64, 5, 9, 64, 65];
        let b = [5i64, 64, 200];
        assert_eq!(distinct_count([&a[..], &b[..]].into_iter()), 6);
        let sparse = [3i64, i64::MAX / 2, i64::MAX / 2];
        assert_eq!(distinct_count([&sparse[..], &a[..]].into_iter()), 7);
        let negative = [-4i64, -4, 0, 7];
        assert_eq!(distinct_count([&negative[..], &a[..]].into_iter()), 8);
        assert_eq!(distinct_count(std::iter::empty()), 0);
    }
}
