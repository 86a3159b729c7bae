//! Report tables (`report_settings`, `report_dirty`, `report_episodes`, `report_daily`): rows
//! derived from messages and events, kept current by `service::reports`. What they mean is in
//! [`crate::domain::reports::rollup`].

use super::{Result, StoreError};
use crate::domain::reports::rollup::{
    decode_channels, decode_pairs, encode_channels, encode_pairs, pack, unpack, Entries,
    EpisodeRow, Figures, RollupKey,
};
use crate::domain::ChannelKind;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::sync::Arc;

/// The reporting settings: the time zone days are counted in, the inactivity period, the
/// business hours (`""`: none, else as `Schedule::describe` writes them), and whether the rollups
/// still follow earlier settings (`rebuild_requested`: when a change asked for a rebuild that
/// has not run yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub time_zone: String,
    pub inactivity_secs: i64,
    pub business_hours: String,
    pub rebuild_requested: Option<i64>,
}

pub async fn settings(conn: &mut AnyConnection) -> Result<Settings> {
    let r = sqlx::query(
        "SELECT time_zone, inactivity_secs, business_hours, rebuild_requested_at \
         FROM report_settings WHERE id = 1",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Settings {
        time_zone: r.try_get("time_zone")?,
        inactivity_secs: r.try_get("inactivity_secs")?,
        business_hours: r.try_get("business_hours")?,
        rebuild_requested: r.try_get("rebuild_requested_at")?,
    })
}

pub async fn set_settings(conn: &mut AnyConnection, s: &Settings, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE report_settings SET time_zone = $1, inactivity_secs = $2, business_hours = $3, \
         rebuild_requested_at = $4, updated_at = $5 WHERE id = 1",
    )
    .bind(&s.time_zone)
    .bind(s.inactivity_secs)
    .bind(&s.business_hours)
    .bind(s.rebuild_requested)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Asks for a rebuild at `now` unless one is asked for already.
pub async fn request_rebuild(conn: &mut AnyConnection, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE report_settings SET rebuild_requested_at = $1 \
         WHERE id = 1 AND rebuild_requested_at IS NULL",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Clears the rebuild request if it is still `requested` (a newer request stays).
pub async fn rebuilt(conn: &mut AnyConnection, requested: i64) -> Result<()> {
    sqlx::query(
        "UPDATE report_settings SET rebuild_requested_at = NULL \
         WHERE id = 1 AND rebuild_requested_at = $1",
    )
    .bind(requested)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks conversation `conversation_id` for a refresh from the episode holding `since_at`
/// (keeping an earlier mark), inside the caller's transaction.
pub async fn mark(
    conn: &mut AnyConnection,
    conversation_id: i64,
    since_at: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO report_dirty (conversation_id, since_at, marked_at) VALUES ($1, $2, $3) \
         ON CONFLICT (conversation_id) DO UPDATE SET \
           since_at = CASE WHEN excluded.since_at < report_dirty.since_at \
                      THEN excluded.since_at ELSE report_dirty.since_at END, \
           marked_at = excluded.marked_at",
    )
    .bind(conversation_id)
    .bind(since_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A conversation waiting for a refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirty {
    pub conversation_id: i64,
    pub since_at: i64,
    pub marked_at: i64,
}

/// Up to `limit` conversations waiting for a refresh, oldest mark first.
pub async fn dirty(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Dirty>> {
    let rows = sqlx::query(
        "SELECT conversation_id, since_at, marked_at FROM report_dirty \
         ORDER BY marked_at, conversation_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Dirty {
                conversation_id: r.try_get("conversation_id")?,
                since_at: r.try_get("since_at")?,
                marked_at: r.try_get("marked_at")?,
            })
        })
        .collect()
}

/// How many conversations wait for a refresh.
pub async fn dirty_count(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM report_dirty")
        .fetch_one(&mut *conn)
        .await?)
}

/// Clears a mark, unless it was marked again since it was read.
pub async fn clear(conn: &mut AnyConnection, d: &Dirty) -> Result<()> {
    sqlx::query(
        "DELETE FROM report_dirty WHERE conversation_id = $1 AND since_at = $2 AND marked_at = $3",
    )
    .bind(d.conversation_id)
    .bind(d.since_at)
    .bind(d.marked_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Start of the conversation's last stored episode that started at or before `at`.
pub async fn episode_start_before(
    conn: &mut AnyConnection,
    conversation_id: i64,
    at: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MAX(started_at) FROM report_episodes WHERE conversation_id = $1 AND started_at <= $2",
    )
    .bind(conversation_id)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?)
}

const EPISODE_COLUMNS: &str = "conversation_id, day, started_at, last_message_at, resolved_at, \
    first_channel, resolution_channel, channels, switched, moved, reopened, repeated, \
    first_response_secs, resolution_secs, replies, window_expired, handled_by, inbound, outbound, \
    first_response_bh, resolution_bh, replies_bh";

fn channel(r: &AnyRow, col: &str) -> Result<ChannelKind> {
    let s: String = r.try_get(col)?;
    ChannelKind::parse(&s).ok_or_else(|| bad(col, &s))
}

fn bad(col: &str, value: &str) -> StoreError {
    StoreError::Invalid(format!("report_episodes.{col} holds {value:?}"))
}

fn episode_row(r: &AnyRow) -> Result<EpisodeRow> {
    let text = |col: &str| -> Result<String> { Ok(r.try_get::<String, _>(col)?) };
    let flag = |col: &str| -> Result<bool> { Ok(r.try_get::<i64, _>(col)? != 0) };
    let resolution_channel: Option<String> = r.try_get("resolution_channel")?;
    let channels = text("channels")?;
    let replies = text("replies")?;
    let expired = text("window_expired")?;
    let replies_bh = text("replies_bh")?;
    Ok(EpisodeRow {
        conversation_id: r.try_get("conversation_id")?,
        day: r.try_get("day")?,
        started_at: r.try_get("started_at")?,
        last_message_at: r.try_get("last_message_at")?,
        resolved_at: r.try_get("resolved_at")?,
        first_channel: channel(r, "first_channel")?,
        resolution_channel: match resolution_channel {
            Some(s) => Some(ChannelKind::parse(&s).ok_or_else(|| bad("resolution_channel", &s))?),
            None => None,
        },
        channels: decode_channels(&channels).ok_or_else(|| bad("channels", &channels))?,
        switched: flag("switched")?,
        moved: flag("moved")?,
        reopened: flag("reopened")?,
        repeated: flag("repeated")?,
        first_response_secs: r.try_get("first_response_secs")?,
        resolution_secs: r.try_get("resolution_secs")?,
        replies: decode_pairs(&replies).ok_or_else(|| bad("replies", &replies))?,
        window_expired: decode_pairs(&expired).ok_or_else(|| bad("window_expired", &expired))?,
        handled_by: r.try_get("handled_by")?,
        inbound: r.try_get("inbound")?,
        outbound: r.try_get("outbound")?,
        first_response_bh: r.try_get("first_response_bh")?,
        resolution_bh: r.try_get("resolution_bh")?,
        replies_bh: decode_pairs(&replies_bh).ok_or_else(|| bad("replies_bh", &replies_bh))?,
    })
}

/// The conversation's stored episodes that started at or after `from`, oldest first.
pub async fn episodes_from(
    conn: &mut AnyConnection,
    conversation_id: i64,
    from: i64,
) -> Result<Vec<EpisodeRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {EPISODE_COLUMNS} FROM report_episodes \
         WHERE conversation_id = $1 AND started_at >= $2 ORDER BY started_at, id"
    ))
    .bind(conversation_id)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(episode_row).collect()
}

/// Every stored episode, by conversation and start (tests and checks).
pub async fn all_episodes(conn: &mut AnyConnection) -> Result<Vec<EpisodeRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {EPISODE_COLUMNS} FROM report_episodes ORDER BY conversation_id, started_at, id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(episode_row).collect()
}

/// Deletes the conversation's episodes that started at or after `from`.
pub async fn delete_episodes_from(
    conn: &mut AnyConnection,
    conversation_id: i64,
    from: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM report_episodes WHERE conversation_id = $1 AND started_at >= $2")
        .bind(conversation_id)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores episodes (100 to a statement).
pub async fn insert_episodes(conn: &mut AnyConnection, rows: &[EpisodeRow]) -> Result<()> {
    const COLS: usize = 22;
    for chunk in rows.chunks(100) {
        let mut sql = format!("INSERT INTO report_episodes ({EPISODE_COLUMNS}) VALUES ");
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for c in 0..COLS {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", i * COLS + c + 1));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(e.conversation_id)
                .bind(e.day)
                .bind(e.started_at)
                .bind(e.last_message_at)
                .bind(e.resolved_at)
                .bind(e.first_channel.as_str())
                .bind(e.resolution_channel.map(|c| c.as_str()))
                .bind(encode_channels(&e.channels))
                .bind(e.switched as i64)
                .bind(e.moved as i64)
                .bind(e.reopened as i64)
                .bind(e.repeated as i64)
                .bind(e.first_response_secs)
                .bind(e.resolution_secs)
                .bind(encode_pairs(&e.replies))
                .bind(encode_pairs(&e.window_expired))
                .bind(e.handled_by)
                .bind(e.inbound)
                .bind(e.outbound)
                .bind(e.first_response_bh)
                .bind(e.resolution_bh)
                .bind(encode_pairs(&e.replies_bh));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

fn entries(r: &AnyRow) -> Result<Entries> {
    let text: String = r.try_get("entries")?;
    unpack(&text).ok_or_else(|| {
        StoreError::Invalid(format!(
            "report_daily.entries holds {:?}",
            text.chars().take(80).collect::<String>()
        ))
    })
}

/// The entries of one (day, metric) row (empty when there is none). On PostgreSQL the row is
/// locked for the caller's transaction (`lock`), so a read-modify-write cannot lose an update.
pub async fn entries_of(
    conn: &mut AnyConnection,
    day: i64,
    metric: &str,
    lock: bool,
) -> Result<Entries> {
    let lock = lock && super::is_postgres(conn);
    if lock {
        // The row must exist to be locked.
        sqlx::query(
            "INSERT INTO report_daily (day, metric, entries) VALUES ($1, $2, '') \
             ON CONFLICT (day, metric) DO NOTHING",
        )
        .bind(day)
        .bind(metric)
        .execute(&mut *conn)
        .await?;
    }
    let sql = if lock {
        "SELECT entries FROM report_daily WHERE day = $1 AND metric = $2 FOR UPDATE"
    } else {
        "SELECT entries FROM report_daily WHERE day = $1 AND metric = $2"
    };
    let r = sqlx::query(sql)
        .bind(day)
        .bind(metric)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match r {
        Some(r) => entries(&r)?,
        None => Entries::new(),
    })
}

/// A fresh row version: random, positive, never 0 (see [`rollups_between`]).
fn new_version() -> i64 {
    (rand::random::<u64>() >> 1).max(1) as i64
}

/// Writes one (day, metric) row (deleted when it has no entry) with a new version.
pub async fn put_entries(
    conn: &mut AnyConnection,
    day: i64,
    metric: &str,
    e: &Entries,
) -> Result<()> {
    if e.is_empty() {
        sqlx::query("DELETE FROM report_daily WHERE day = $1 AND metric = $2")
            .bind(day)
            .bind(metric)
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO report_daily (day, metric, entries, version) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (day, metric) DO UPDATE \
             SET entries = excluded.entries, version = excluded.version",
        )
        .bind(day)
        .bind(metric)
        .bind(pack(e))
        .bind(new_version())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Adds `n` to a counting entry (message volume), inside the caller's transaction.
pub async fn add_count(conn: &mut AnyConnection, key: &RollupKey, n: i64) -> Result<()> {
    let mut e = entries_of(conn, key.day, &key.metric, true).await?;
    e.entry((key.channel.clone(), key.agent)).or_default().n += n;
    put_entries(conn, key.day, &key.metric, &e).await
}

fn flatten(rows: &[AnyRow]) -> Result<Vec<(RollupKey, Figures)>> {
    let mut out = Vec::new();
    for r in rows {
        let day: i64 = r.try_get("day")?;
        let metric: String = r.try_get("metric")?;
        for ((channel, agent), f) in entries(r)? {
            out.push((
                RollupKey {
                    day,
                    metric: metric.clone(),
                    channel,
                    agent,
                },
                f,
            ));
        }
    }
    Ok(out)
}

/// Every rollup entry, in key order (rebuild checks and tests).
pub async fn all_rollups(conn: &mut AnyConnection) -> Result<Vec<(RollupKey, Figures)>> {
    let rows = sqlx::query("SELECT day, metric, entries FROM report_daily")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = flatten(&rows)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Empties the derived tables and the marks (a rebuild computes everything again).
pub async fn clear_all(conn: &mut AnyConnection) -> Result<()> {
    for table in ["report_episodes", "report_daily", "report_dirty"] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// One stored (day, metric) row's entries, flattened; shared by every report that reads the row
/// at the same version.
pub type RowEntries = Arc<Vec<(RollupKey, Figures)>>;

mod cache;

/// The rollup entries of `metrics` (and, with `resolved_on`, of every `resolved_on:` metric)
/// on local days `from..=to`, one [`RowEntries`] per stored row. Reads the rows' versions first
/// and only the entries of rows this process has not parsed at that version.
pub async fn rollups_between(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
    metrics: &[&str],
    resolved_on: bool,
) -> Result<Vec<RowEntries>> {
    let list = (0..metrics.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let mut cond = format!("metric IN ({list})");
    if resolved_on {
        cond = format!("({cond} OR metric LIKE 'resolved_on:%')");
    }
    // Every version in one text value: one row crosses from the database, not thousands.
    let all = super::joined(conn, "day || ' ' || version || ' ' || metric");
    let versions_sql =
        format!("SELECT {all} AS v FROM report_daily WHERE day >= $1 AND day <= $2 AND {cond}");
    let mut q = sqlx::query(&versions_sql).bind(from).bind(to);
    for m in metrics {
        q = q.bind(*m);
    }
    let text: Option<String> = q.fetch_one(&mut *conn).await?.try_get("v")?;
    let mut keys: Vec<(i64, String, i64)> = Vec::new();
    for item in text
        .as_deref()
        .unwrap_or("")
        .split(';')
        .filter(|s| !s.is_empty())
    {
        let mut it = item.splitn(3, ' ');
        let parsed = (|| {
            let day = it.next()?.parse().ok()?;
            let version = it.next()?.parse().ok()?;
            Some((day, it.next()?.to_string(), version))
        })();
        keys.push(
            parsed.ok_or_else(|| {
                StoreError::Invalid(format!("report_daily versions hold {item:?}"))
            })?,
        );
    }
    let mut out = Vec::with_capacity(keys.len());
    let mut missing: Vec<(i64, String)> = Vec::new();
    for ((day, metric, _), hit) in keys.iter().zip(cache::get_all(&keys)) {
        match hit {
            Some(rows) => out.push(rows),
            None => missing.push((*day, metric.clone())),
        }
    }
    // A few rows (today's, those a refresh changed) one by one; many (a first read) at once.
    let rows = if missing.len() <= 32 {
        let mut rows = Vec::with_capacity(missing.len());
        for (day, metric) in &missing {
            let r = sqlx::query(
                "SELECT day, metric, version, entries FROM report_daily \
                 WHERE day = $1 AND metric = $2",
            )
            .bind(day)
            .bind(metric)
            .fetch_optional(&mut *conn)
            .await?;
            rows.extend(r);
        }
        rows
    } else {
        let sql = format!(
            "SELECT day, metric, version, entries FROM report_daily \
             WHERE day >= $1 AND day <= $2 AND {cond}"
        );
        let mut q = sqlx::query(&sql).bind(from).bind(to);
        for m in metrics {
            q = q.bind(*m);
        }
        q.fetch_all(&mut *conn).await?
    };
    let missing: std::collections::HashSet<(i64, String)> = missing.into_iter().collect();
    for r in rows {
        let day: i64 = r.try_get("day")?;
        let metric: String = r.try_get("metric")?;
        if !missing.contains(&(day, metric.clone())) {
            continue;
        }
        let version: i64 = r.try_get("version")?;
        let parsed: RowEntries = Arc::new(flatten(std::slice::from_ref(&r))?);
        cache::put(day, &metric, version, &parsed);
        out.push(parsed);
    }
    Ok(out)
}

/// Distinct conversations (one per customer) with an episode started on days `from..=to`,
/// optionally on a first channel and handled by an agent (0: nobody).
pub async fn customers_between(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
    first_channel: Option<ChannelKind>,
    handled_by: Option<i64>,
) -> Result<i64> {
    let mut sql = String::from(
        "SELECT COUNT(DISTINCT conversation_id) FROM report_episodes WHERE day >= $1 AND day <= $2",
    );
    if first_channel.is_some() {
        sql.push_str(" AND first_channel = $3");
    }
    match handled_by {
        Some(0) => sql.push_str(" AND handled_by IS NULL"),
        Some(a) => sql.push_str(&format!(" AND handled_by = {a}")),
        None => {}
    }
    let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(from).bind(to);
    if let Some(c) = first_channel {
        q = q.bind(c.as_str());
    }
    Ok(q.fetch_one(&mut *conn).await?)
}

/// Which episodes a drill-down lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpisodeFilter {
    pub from_day: i64,
    pub to_day: i64,
    pub first_channel: Option<ChannelKind>,
    pub resolution_channel: Option<ChannelKind>,
    /// `Some(0)`: handled by nobody.
    pub handled_by: Option<i64>,
    /// `resolved`, `reopened`, `switched`, `moved`, `repeated`, `first_response` or
    /// `window_expired`.
    pub flag: Option<String>,
    /// A channel the episode replied on (with `window_expired`: replied late on).
    pub reply_channel: Option<ChannelKind>,
}

/// The episodes matching `f`, newest first, at most `limit`, with their customer's name; and
/// how many match in all.
pub async fn episode_lines(
    conn: &mut AnyConnection,
    f: &EpisodeFilter,
    limit: i64,
) -> Result<(i64, Vec<(EpisodeRow, String)>)> {
    let mut cond = String::from("e.day >= $1 AND e.day <= $2");
    let mut texts: Vec<String> = Vec::new();
    let mut push_text = |cond: &mut String, col: &str, op: &str, v: String| {
        texts.push(v);
        cond.push_str(&format!(" AND {col} {op} ${}", texts.len() + 2));
    };
    if let Some(c) = f.first_channel {
        push_text(&mut cond, "e.first_channel", "=", c.as_str().into());
    }
    if let Some(c) = f.resolution_channel {
        push_text(&mut cond, "e.resolution_channel", "=", c.as_str().into());
    }
    if let Some(c) = f.reply_channel {
        let col = if f.flag.as_deref() == Some("window_expired") {
            "e.window_expired"
        } else {
            "e.replies"
        };
        push_text(&mut cond, col, "LIKE", format!("%{}:%", c.as_str()));
    }
    match f.handled_by {
        Some(0) => cond.push_str(" AND e.handled_by IS NULL"),
        Some(a) => cond.push_str(&format!(" AND e.handled_by = {a}")),
        None => {}
    }
    match f.flag.as_deref() {
        Some("resolved") => cond.push_str(" AND e.resolved_at IS NOT NULL"),
        Some("first_response") => cond.push_str(" AND e.first_response_secs IS NOT NULL"),
        Some("window_expired") => cond.push_str(" AND e.window_expired <> ''"),
        Some(flag @ ("reopened" | "switched" | "moved" | "repeated")) => {
            cond.push_str(&format!(" AND e.{flag} = 1"))
        }
        Some(other) => return Err(StoreError::Invalid(format!("no episode flag {other:?}"))),
        None => {}
    }
    let count_sql = format!("SELECT COUNT(*) FROM report_episodes e WHERE {cond}");
    let mut q = sqlx::query_scalar::<_, i64>(&count_sql)
        .bind(f.from_day)
        .bind(f.to_day);
    for t in &texts {
        q = q.bind(t.clone());
    }
    let total = q.fetch_one(&mut *conn).await?;
    let cols = EPISODE_COLUMNS
        .split(", ")
        .map(|c| format!("e.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}, COALESCE(cu.name, '') AS customer_name FROM report_episodes e \
         LEFT JOIN conversations c ON c.id = e.conversation_id \
         LEFT JOIN customers cu ON cu.id = c.customer_id \
         WHERE {cond} ORDER BY e.started_at DESC, e.id DESC LIMIT ${}",
        texts.len() + 3
    );
    let mut q = sqlx::query(&sql).bind(f.from_day).bind(f.to_day);
    for t in &texts {
        q = q.bind(t.clone());
    }
    let rows = q.bind(limit).fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push((episode_row(r)?, r.try_get("customer_name")?));
    }
    Ok((total, out))
}
