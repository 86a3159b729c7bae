//! Reports: keeping the episodes and the daily rollups current, and rebuilding them.
//!
//! Every change a report counts is written with its fact in one transaction: a message (in or
//! out) adds to the day's volume at once ([`count_message`]) and marks its conversation
//! ([`mark`]); a status change, a move, a merge or an undo marks the conversations it touches.
//! [`refresh_pending`] (the reports worker, and every report before it reads) computes the
//! marked conversations' episodes again from the episode the change falls in, and applies the
//! difference to the rollups. [`rebuild`] computes everything from the facts (after a change
//! of time zone, and the `reports-rebuild` command).

use std::collections::{BTreeMap, HashSet};

use crate::domain::event;
use crate::domain::reports::rollup::{
    apply, diff, from_episodes, local_day, message_fact, message_keys, move_fact, status_fact,
    Delta, Entries, EpisodeRow, Figures, RollupKey,
};
use crate::domain::reports::{episodes, EpisodeConfig, Fact, Schedule};
use crate::domain::ChannelKind;
use crate::store::events::{self, EventFact};
use crate::store::messages::{self, MessageFact};
use crate::store::rollups::{self, Settings};
use crate::store::{conversations, now_ms, Backend, Db, Result, StoreError};
use sqlx::AnyConnection;

const DAY_MS: i64 = 86_400_000;
/// Conversations refreshed per transaction.
const REFRESH_BATCH: i64 = 50;
/// Conversations read per query by a rebuild.
const REBUILD_BATCH: i64 = 500;
/// Serialises the processes that rewrite rollups on PostgreSQL (SQLite has one writer).
const LOCK_KEY: i64 = 0x5245_504f_5254; // "REPORT"

/// The report time zone (UTC when the stored name is unknown).
pub fn zone(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The zone's UTC offset at `ms`, in seconds.
pub fn offset_secs(tz: &jiff::tz::TimeZone, ms: i64) -> i64 {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| tz.to_offset(t).seconds() as i64)
        .unwrap_or(0)
}

/// The first instant (unix ms) of local day `day` in `tz`.
pub fn day_start_ms(tz: &jiff::tz::TimeZone, day: i64) -> i64 {
    let (y, m, d) = crate::domain::text::civil_from_days(day);
    jiff::civil::Date::new(y as i16, m as i8, d as i8)
        .ok()
        .and_then(|date| date.to_zoned(tz.clone()).ok())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(day * DAY_MS)
}

/// The local day of `ms` in `tz`.
pub fn day_of(tz: &jiff::tz::TimeZone, ms: i64) -> i64 {
    local_day(ms, offset_secs(tz, ms))
}

/// Marks a conversation for a refresh from the episode holding `since_at`, inside the
/// caller's transaction (0: from the start).
pub async fn mark(conn: &mut AnyConnection, conversation_id: i64, since_at: i64) -> Result<()> {
    rollups::mark(conn, conversation_id, since_at, now_ms()).await
}

/// Counts a new message in the day's volume and marks its conversation, inside the caller's
/// transaction. `author`: the agent who wrote an outbound message (`None`: the system).
pub async fn count_message(
    conn: &mut AnyConnection,
    conversation_id: i64,
    at: i64,
    inbound: bool,
    channel: ChannelKind,
    author: Option<i64>,
) -> Result<()> {
    let settings = rollups::settings(conn).await?;
    let offset = offset_secs(&zone(&settings.time_zone), at);
    for key in message_keys(at, offset, inbound, channel, author) {
        rollups::add_count(conn, &key, 1).await?;
    }
    mark(conn, conversation_id, at).await
}

async fn lock(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// How a refresh says the stored rollups no longer match the episodes (a restore of one table,
/// a hand edit): the refresh is rolled back and a rebuild asked for.
const DRIFT: &str = "the report rollups disagree";

/// Refreshes every marked conversation; returns how many were refreshed. While a rebuild is
/// asked for, nothing is refreshed (the rebuild recomputes everything and clears the marks);
/// rollups that no longer match the episodes ask for one instead of failing every report.
pub async fn refresh_pending(db: &Db) -> Result<usize> {
    let mut done = 0;
    loop {
        let mut tx = db.write.begin().await?;
        lock(&mut tx, db.backend).await?;
        let settings = rollups::settings(&mut tx).await?;
        if settings.rebuild_requested.is_some() {
            tx.commit().await?;
            return Ok(done);
        }
        let marks = rollups::dirty(&mut tx, REFRESH_BATCH).await?;
        if marks.is_empty() {
            tx.commit().await?;
            return Ok(done);
        }
        let tz = zone(&settings.time_zone);
        let now = now_ms();
        for m in &marks {
            match refresh(&mut tx, &settings, &tz, m.conversation_id, m.since_at, now).await {
                Ok(()) => rollups::clear(&mut tx, m).await?,
                Err(StoreError::Invalid(words)) if words.starts_with(DRIFT) => {
                    drop(tx);
                    tracing::warn!(%words, "report rollups drifted: rebuilding them");
                    let mut tx = db.write.begin().await?;
                    lock(&mut tx, db.backend).await?;
                    rollups::request_rebuild(&mut tx, now).await?;
                    tx.commit().await?;
                    return Ok(done);
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit().await?;
        done += marks.len();
    }
}

/// Computes conversation `id`'s episodes again from the one holding `since_at` and applies
/// the difference to the rollups.
async fn refresh(
    conn: &mut AnyConnection,
    settings: &Settings,
    tz: &jiff::tz::TimeZone,
    id: i64,
    since_at: i64,
    now: i64,
) -> Result<()> {
    let horizon = if since_at <= 0 {
        None
    } else {
        rollups::episode_start_before(conn, id, since_at).await?
    };
    let from = horizon.unwrap_or(i64::MIN);
    let old = rollups::episodes_from(conn, id, from).await?;
    // A day before the episode's start is enough context: an earlier customer message cannot
    // keep a messaging window open (see domain::reports::episodes) and cannot be in progress.
    let load_from = horizon.map_or(i64::MIN, |h| h - DAY_MS);
    let msgs = messages::facts(conn, id, id + 1, load_from).await?;
    let evs = events::facts(conn, id, id + 1, load_from).await?;
    let new: Vec<EpisodeRow> = episode_rows(id, &msgs, &evs, settings, tz, now)
        .into_iter()
        .filter(|r| r.started_at >= from)
        .collect();
    // One read and one write per (day, metric) row the changes touch.
    type Slot = (String, i64);
    let mut by_row: BTreeMap<(i64, String), Vec<(Slot, Delta)>> = BTreeMap::new();
    for (key, delta) in diff(&old, &new) {
        by_row
            .entry((key.day, key.metric))
            .or_default()
            .push(((key.channel, key.agent), delta));
    }
    for ((day, metric), deltas) in by_row {
        let mut entries = rollups::entries_of(conn, day, &metric, true).await?;
        for (slot, delta) in deltas {
            let next = apply(entries.remove(&slot), &delta).map_err(|e| {
                StoreError::Invalid(format!(
                    "{DRIFT} with conversation {id}'s episodes ({}); they are being rebuilt",
                    e.0
                ))
            })?;
            if let Some(f) = next {
                entries.insert(slot, f);
            }
        }
        rollups::put_entries(conn, day, &metric, &entries).await?;
    }
    rollups::delete_episodes_from(conn, id, from).await?;
    rollups::insert_episodes(conn, &new).await
}

/// One conversation's facts in time order (messages before events at the same instant).
fn facts(msgs: &[MessageFact], evs: &[EventFact]) -> Vec<Fact> {
    let mut keyed: Vec<((i64, u8, i64), Fact)> = Vec::with_capacity(msgs.len() + evs.len());
    // Events first: a move names the hand-off message it sent, which is no agent reply.
    let mut handoffs: HashSet<i64> = HashSet::new();
    for e in evs {
        let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
        let s = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let f = match e.kind.as_str() {
            event::STATUS => s("status").and_then(|st| status_fact(e.at, &st, e.actor)),
            event::CHANNEL_SWITCH => {
                if let Some(id) = data.get("handoff_message_id").and_then(|v| v.as_i64()) {
                    handoffs.insert(id);
                }
                s("channel").and_then(|to| {
                    let to = ChannelKind::parse(&to)?;
                    // `from` is the label shown ("SMS · +1 555…"); its channel is before the dot.
                    let from = s("from").and_then(|l| {
                        let name = l.split(" · ").next()?.to_string();
                        ChannelKind::ALL.into_iter().find(|c| c.label() == name)
                    });
                    Some(move_fact(e.at, from, to, e.actor))
                })
            }
            _ => None,
        };
        if let Some(f) = f {
            keyed.push(((e.at, 1, e.id), f));
        }
    }
    for m in msgs {
        if m.inbound && m.automatic {
            continue; // auto-replies and bounces from the customer's side start nothing
        }
        let f = message_fact(
            m.at,
            m.inbound,
            m.channel,
            m.author,
            handoffs.contains(&m.id),
        );
        keyed.push(((m.at, 0, m.id), f));
    }
    keyed.sort_by_key(|(k, _)| *k);
    keyed.into_iter().map(|(_, f)| f).collect()
}

/// The episode rows of one conversation from its facts.
fn episode_rows(
    id: i64,
    msgs: &[MessageFact],
    evs: &[EventFact],
    settings: &Settings,
    tz: &jiff::tz::TimeZone,
    now: i64,
) -> Vec<EpisodeRow> {
    let config = EpisodeConfig {
        inactivity_secs: settings.inactivity_secs,
    };
    // Stored settings were checked when saved; an unreadable schedule counts as none.
    let hours = Schedule::parse(&settings.business_hours).ok().flatten();
    episodes(&facts(msgs, evs), &config, now.div_euclid(1000))
        .iter()
        .map(|ep| EpisodeRow::new(id, ep, |ms| offset_secs(tz, ms), hours.as_ref()))
        .collect()
}

/// What a rebuild did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub conversations: usize,
    pub messages: usize,
    pub episodes: usize,
    pub rows: usize,
}

/// Computes every episode and rollup row again from the messages and events, in one
/// transaction (reports keep showing the old figures until it commits).
pub async fn rebuild(db: &Db) -> Result<Rebuilt> {
    let mut tx = db.write.begin().await?;
    let out = rebuild_in(&mut tx, db.backend).await?;
    tx.commit().await?;
    Ok(out)
}

async fn rebuild_in(tx: &mut AnyConnection, backend: Backend) -> Result<Rebuilt> {
    lock(tx, backend).await?;
    if backend == Backend::Postgres {
        // Messages written meanwhile wait to count their volume until the new rows are in.
        sqlx::query("LOCK TABLE report_daily IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    let settings = rollups::settings(&mut *tx).await?;
    let tz = zone(&settings.time_zone);
    let now = now_ms();
    rollups::clear_all(&mut *tx).await?;
    let max = conversations::max_id(&mut *tx).await?;
    let mut out = Rebuilt::default();
    let mut rows: BTreeMap<RollupKey, Figures> = BTreeMap::new();
    let mut volume: BTreeMap<RollupKey, i64> = BTreeMap::new();
    let mut start = 0;
    while start <= max {
        let end = start + REBUILD_BATCH;
        let msgs = messages::facts(&mut *tx, start, end, i64::MIN).await?;
        let evs = events::facts(&mut *tx, start, end, i64::MIN).await?;
        for m in &msgs {
            let offset = offset_secs(&tz, m.at);
            for key in message_keys(m.at, offset, m.inbound, m.channel, m.author) {
                *volume.entry(key).or_default() += 1;
            }
        }
        out.messages += msgs.len();
        let mut eps = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < msgs.len() || j < evs.len() {
            let id = match (msgs.get(i), evs.get(j)) {
                (Some(m), Some(e)) => m.conversation_id.min(e.conversation_id),
                (Some(m), None) => m.conversation_id,
                (None, Some(e)) => e.conversation_id,
                (None, None) => break,
            };
            let i0 = i;
            while msgs.get(i).is_some_and(|m| m.conversation_id == id) {
                i += 1;
            }
            let j0 = j;
            while evs.get(j).is_some_and(|e| e.conversation_id == id) {
                j += 1;
            }
            out.conversations += 1;
            eps.extend(episode_rows(
                id,
                &msgs[i0..i],
                &evs[j0..j],
                &settings,
                &tz,
                now,
            ));
        }
        merge(&mut rows, from_episodes(&eps));
        out.episodes += eps.len();
        rollups::insert_episodes(&mut *tx, &eps).await?;
        start = end;
    }
    for (key, n) in volume {
        rows.insert(
            key,
            Figures {
                n,
                total: 0,
                vals: Vec::new(),
            },
        );
    }
    out.rows = rows.len();
    let mut packed: BTreeMap<(i64, String), Entries> = BTreeMap::new();
    for (key, f) in rows {
        packed
            .entry((key.day, key.metric))
            .or_default()
            .insert((key.channel, key.agent), f);
    }
    for ((day, metric), entries) in &packed {
        rollups::put_entries(&mut *tx, *day, metric, entries).await?;
    }
    // Whatever asked for a rebuild with these settings has had it.
    if let Some(requested) = settings.rebuild_requested {
        rollups::rebuilt(&mut *tx, requested).await?;
    }
    Ok(out)
}

fn merge(into: &mut BTreeMap<RollupKey, Figures>, from: BTreeMap<RollupKey, Figures>) {
    for (key, f) in from {
        let e = into.entry(key).or_default();
        e.n += f.n;
        e.total += f.total;
        if !f.vals.is_empty() {
            e.vals.extend(f.vals);
            e.vals.sort_unstable();
        }
    }
}

/// `settings` checked, with the business hours written the one way the page shows them; refused
/// in words.
pub fn checked(settings: &Settings) -> Result<Settings> {
    if settings.time_zone.len() > 64 || jiff::tz::TimeZone::get(&settings.time_zone).is_err() {
        let shown: String = settings.time_zone.chars().take(64).collect();
        return Err(StoreError::Invalid(format!(
            "{shown:?} is not a time zone name (for example Europe/Paris or America/New_York)"
        )));
    }
    if !(3_600..=90 * 86_400).contains(&settings.inactivity_secs) {
        return Err(StoreError::Invalid(
            "the inactivity period must be between one hour and 90 days".into(),
        ));
    }
    let hours = Schedule::parse(&settings.business_hours)
        .map_err(|e| StoreError::Invalid(format!("Business hours: {e}")))?;
    Ok(Settings {
        business_hours: hours.map(|h| h.describe()).unwrap_or_default(),
        ..settings.clone()
    })
}

/// Changes the reporting settings and rebuilds the rollups for them, in one transaction (the
/// `reports-rebuild` command).
pub async fn set_settings(db: &Db, settings: &Settings) -> Result<Rebuilt> {
    let settings = checked(settings)?;
    let mut tx = db.write.begin().await?;
    lock(&mut tx, db.backend).await?;
    rollups::set_settings(&mut tx, &settings, now_ms()).await?;
    let out = rebuild_in(&mut tx, db.backend).await?;
    tx.commit().await?;
    Ok(out)
}

/// Saves the reporting settings and, when one the rollups depend on changed, asks the reports
/// worker for a rebuild (a large database takes a while; the page says so meanwhile). Returns
/// the saved settings and whether a rebuild was asked for.
pub async fn save_settings(db: &Db, settings: &Settings) -> Result<(Settings, bool)> {
    let mut settings = checked(settings)?;
    let mut tx = db.write.begin().await?;
    lock(&mut tx, db.backend).await?;
    let old = rollups::settings(&mut tx).await?;
    let changed = old.time_zone != settings.time_zone
        || old.inactivity_secs != settings.inactivity_secs
        || old.business_hours != settings.business_hours;
    settings.rebuild_requested = if changed {
        Some(now_ms())
    } else {
        old.rebuild_requested
    };
    rollups::set_settings(&mut tx, &settings, now_ms()).await?;
    tx.commit().await?;
    Ok((settings, changed))
}

/// The settings as the settings page shows them.
pub async fn settings_view(db: &Db) -> Result<crate::model::ReportSettings> {
    let mut conn = db.read.acquire().await?;
    let s = rollups::settings(&mut conn).await?;
    Ok(crate::model::ReportSettings {
        time_zone: s.time_zone,
        inactivity_days: s.inactivity_secs / 86_400,
        business_hours: s.business_hours,
        recomputing: s.rebuild_requested.is_some(),
    })
}

/// Saves the settings page's form (`inactivity_days` whole days); answers in words.
pub async fn save_from_form(
    db: &Db,
    time_zone: &str,
    inactivity_days: i64,
    business_hours: &str,
) -> Result<String> {
    if !(1..=90).contains(&inactivity_days) {
        return Err(StoreError::Invalid(
            "the inactivity period must be a whole number of days, from 1 to 90".into(),
        ));
    }
    let (saved, changed) = save_settings(
        db,
        &Settings {
            time_zone: time_zone.trim().to_string(),
            inactivity_secs: inactivity_days * 86_400,
            business_hours: business_hours.to_string(),
            rebuild_requested: None,
        },
    )
    .await?;
    let hours = if saved.business_hours.is_empty() {
        "no business hours".to_string()
    } else {
        format!("business hours {}", saved.business_hours)
    };
    Ok(if changed {
        format!(
            "Saved: days in {}, episodes end after {} quiet days, {hours}. The reports are \
             being recomputed with them in the background; until that is done they show the \
             previous settings.",
            saved.time_zone,
            saved.inactivity_secs / 86_400
        )
    } else {
        "Saved. Nothing changed.".to_string()
    })
}

/// Rebuilds the rollups when saved settings asked for it (the reports worker); `None` when
/// nothing was asked.
pub async fn rebuild_if_requested(db: &Db) -> Result<Option<Rebuilt>> {
    let mut conn = db.read.acquire().await?;
    let requested = rollups::settings(&mut conn).await?.rebuild_requested;
    drop(conn);
    match requested {
        Some(_) => rebuild(db).await.map(Some),
        None => Ok(None),
    }
}

/// Every stored episode and rollup row, in key order (to compare with a rebuild's).
pub async fn snapshot(db: &Db) -> Result<(Vec<EpisodeRow>, Vec<(RollupKey, Figures)>)> {
    let mut conn = db.read.acquire().await?;
    Ok((
        rollups::all_episodes(&mut conn).await?,
        rollups::all_rollups(&mut conn).await?,
    ))
}
