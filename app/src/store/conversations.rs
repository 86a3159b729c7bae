//! Conversations (`conversations`, `conversation_reads`): one per customer. The list, the
//! summary columns kept as messages arrive, and the agent actions' rows.

use super::{now_ms, Backend, Db, Result, StoreError};
use crate::domain::cursor::ListCursor;
use crate::domain::reply_choice::Moved;
use crate::domain::{ChannelKind, Direction, Status};
use crate::model::{AssigneeFilter, ConversationPage, ConversationSummary, ListFilter};
use sqlx::{AnyConnection, Row};

/// Page size of the conversation list.
pub const LIST_PAGE: i64 = 50;

/// The list's SQL for one engine and filter (public so a test can check its query plan).
///
/// On SQLite the "all assignees" list names its index: with few distinct assignees (one agent
/// in the statistics `ANALYZE` keeps) SQLite 3.46's planner prefers a skip-scan of the assignee
/// index followed by a sort of every open conversation, 60 ms at 100,000 conversations, over
/// walking the status index in list order, under 1 ms. The assignee filters use the assignee
/// index, which is in list order for them.
///
/// The unverified writer of the last message is a subquery per listed row, not a join:
/// PostgreSQL estimates almost no unverified identifiers and, given a join, scans the whole
/// identifiers table once per page (25 ms at 165,000 identifiers) instead of 50 key lookups.
pub fn list_sql(backend: Backend, assignee: AssigneeFilter, label: Option<i64>) -> String {
    let (condition, index) = match assignee {
        AssigneeFilter::Mine => ("AND c.assignee_id = $1", "conversations_assignee_activity"),
        AssigneeFilter::Unassigned => (
            "AND c.assignee_id IS NULL",
            "conversations_assignee_activity",
        ),
        AssigneeFilter::All => ("", "conversations_status_activity"),
    };
    let hint = match backend {
        Backend::Sqlite => format!("INDEXED BY {index}"),
        Backend::Postgres => String::new(),
    };
    let label = label
        .map(|l| {
            format!(
                "AND EXISTS (SELECT 1 FROM conversation_labels cl \
                 WHERE cl.conversation_id = c.id AND cl.label_id = {l})"
            )
        })
        .unwrap_or_default();
    format!(
        "{SUMMARY_COLUMNS} \
         FROM conversations c {hint} {SUMMARY_JOINS} \
         WHERE c.status = $2 {condition} {label} AND cu.merged_into_id IS NULL \
           AND ($3 = 0 OR (c.channels_mask & $3) <> 0) \
           AND (c.last_activity_at, c.id) < ($4, $5) \
         ORDER BY c.last_activity_at DESC, c.id DESC \
         LIMIT $6"
    )
}

/// What a list row shows (`$1` is the reader, for the unread mark).
const SUMMARY_COLUMNS: &str = "SELECT c.id, cu.name AS customer_name, c.status, u.name AS assignee_name, c.last_activity_at, \
        c.last_preview, c.last_channel, c.last_direction, c.last_author_id, la.name AS last_author_name, \
        CASE WHEN c.last_direction = 'in' THEN \
             (SELECT li.label FROM identifiers li WHERE li.id = c.last_identifier_id AND li.verified = 0) \
        END AS last_unverified_sender, \
        CASE WHEN c.last_inbound_at IS NOT NULL AND (r.read_at IS NULL OR r.read_at < c.last_inbound_at) \
             THEN 1 ELSE 0 END AS unread";
const SUMMARY_JOINS: &str = "JOIN customers cu ON cu.id = c.customer_id \
        LEFT JOIN users u ON u.id = c.assignee_id \
        LEFT JOIN users la ON la.id = c.last_author_id \
        LEFT JOIN conversation_reads r ON r.conversation_id = c.id AND r.user_id = $1";

fn summary_of(r: &sqlx::any::AnyRow) -> Result<ConversationSummary> {
    let status: String = r.try_get("status")?;
    let ch: Option<String> = r.try_get("last_channel")?;
    let dir: Option<String> = r.try_get("last_direction")?;
    Ok(ConversationSummary {
        id: r.try_get("id")?,
        customer_name: r.try_get("customer_name")?,
        status: Status::parse(&status).unwrap_or(Status::Open),
        assignee_name: r.try_get("assignee_name")?,
        last_activity_at: r.try_get("last_activity_at")?,
        preview: r.try_get("last_preview")?,
        last_channel: ch.as_deref().and_then(ChannelKind::parse),
        last_direction: dir.as_deref().and_then(Direction::parse),
        last_author_id: r.try_get("last_author_id")?,
        last_author_name: r.try_get("last_author_name")?,
        last_unverified_sender: r.try_get("last_unverified_sender")?,
        unread: r.try_get::<i64, _>("unread")? != 0,
        labels: Vec::new(),
    })
}

/// The list rows of conversations `ids` as `user_id` sees them (any order; missing ones
/// and merged customers' are left out).
pub async fn summaries(db: &Db, user_id: i64, ids: &[i64]) -> Result<Vec<ConversationSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::id_list(ids);
    let sql = format!(
        "{SUMMARY_COLUMNS} FROM conversations c {SUMMARY_JOINS} \
         WHERE c.id IN ({list}) AND cu.merged_into_id IS NULL"
    );
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&db.read).await?;
    rows.iter().map(summary_of).collect()
}

/// Lists conversations for `user_id`, newest activity first, keyset-paged.
pub async fn list(
    db: &Db,
    user_id: i64,
    filter: &ListFilter,
    after: Option<ListCursor>,
    limit: i64,
) -> Result<ConversationPage> {
    let sql = list_sql(db.backend, filter.assignee, filter.label);
    let cursor = after.unwrap_or(ListCursor {
        at: i64::MAX,
        id: i64::MAX,
    });
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(filter.status.as_str())
        .bind(filter.channel.map(|c| c.bit()).unwrap_or(0))
        .bind(cursor.at)
        .bind(cursor.id)
        .bind(limit + 1)
        .fetch_all(&db.read)
        .await?;
    let items = rows
        .iter()
        .take(limit as usize)
        .map(summary_of)
        .collect::<Result<Vec<_>>>()?;
    let next = if rows.len() as i64 > limit {
        items.last().map(|c| {
            ListCursor {
                at: c.last_activity_at,
                id: c.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(ConversationPage { items, next })
}

/// Returns the conversation of `customer_id`, creating it when missing.
pub async fn ensure_for_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
    at: i64,
) -> Result<i64> {
    if let Some(r) = sqlx::query("SELECT id FROM conversations WHERE customer_id = $1")
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok(r.try_get("id")?);
    }
    let r = sqlx::query(
        "INSERT INTO conversations (customer_id, status, last_activity_at, created_at) VALUES ($1, 'open', $2, $2) \
         ON CONFLICT (customer_id) DO UPDATE SET customer_id = excluded.customer_id RETURNING id",
    )
    .bind(customer_id)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get("id")?)
}

/// Who wrote a message the summary shows: the agent of an outbound one, the identifier of an
/// inbound one (the list says when that identifier is unverified).
#[derive(Clone, Copy, Debug, Default)]
pub struct Writer {
    pub author: Option<i64>,
    pub identifier: Option<i64>,
}

/// Records a new message in the conversation summary (preview, its writer, activity time,
/// channels used).
#[allow(clippy::too_many_arguments)]
pub async fn touch_for_message(
    conn: &mut AnyConnection,
    conversation_id: i64,
    channel: ChannelKind,
    direction: Direction,
    preview: &str,
    at: i64,
    writer: Writer,
) -> Result<()> {
    let preview = crate::domain::text::preview(preview, 140);
    match direction {
        Direction::In => {
            sqlx::query(
                "UPDATE conversations SET last_activity_at = CASE WHEN last_activity_at > $2 THEN last_activity_at ELSE $2 END, \
                 last_inbound_at = $2, last_inbound_channel = $3, last_preview = $4, last_channel = $3, \
                 last_direction = 'in', channels_mask = channels_mask | $5, status = 'open', snoozed_until = NULL, \
                 last_author_id = NULL, last_identifier_id = $6 WHERE id = $1",
            )
            .bind(conversation_id)
            .bind(at)
            .bind(channel.as_str())
            .bind(preview)
            .bind(channel.bit())
            .bind(writer.identifier)
            .execute(&mut *conn)
            .await?;
        }
        Direction::Out => {
            sqlx::query(
                "UPDATE conversations SET last_activity_at = CASE WHEN last_activity_at > $2 THEN last_activity_at ELSE $2 END, \
                 last_preview = $4, last_channel = $3, last_direction = 'out', channels_mask = channels_mask | $5, \
                 current_channel = $3, last_author_id = $6, last_identifier_id = $7 WHERE id = $1",
            )
            .bind(conversation_id)
            .bind(at)
            .bind(channel.as_str())
            .bind(preview)
            .bind(channel.bit())
            .bind(writer.author)
            .bind(writer.identifier)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// An automatic message (auto-reply, bulk, bounce) is shown, but it never reopens, unsnoozes
/// or counts as the customer writing.
pub async fn touch_for_automatic(
    conn: &mut AnyConnection,
    conversation_id: i64,
    channel: ChannelKind,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET last_activity_at = CASE WHEN last_activity_at > $2 THEN last_activity_at ELSE $2 END, \
         channels_mask = channels_mask | $3 WHERE id = $1",
    )
    .bind(conversation_id)
    .bind(at)
    .bind(channel.bit())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The columns of a conversation the detail view shows.
pub struct ConversationRow {
    pub id: i64,
    pub customer_id: i64,
    pub status: Status,
    pub snoozed_until: Option<i64>,
    pub assignee_id: Option<i64>,
}

pub async fn get(db: &Db, id: i64) -> Result<ConversationRow> {
    let c = sqlx::query(
        "SELECT id, customer_id, status, snoozed_until, assignee_id FROM conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(StoreError::NotFound)?;
    let status: String = c.try_get("status")?;
    Ok(ConversationRow {
        id: c.try_get("id")?,
        customer_id: c.try_get("customer_id")?,
        status: Status::parse(&status).unwrap_or(Status::Open),
        snoozed_until: c.try_get("snoozed_until")?,
        assignee_id: c.try_get("assignee_id")?,
    })
}

/// The customer of conversation `id`, if it exists.
pub async fn customer_of(conn: &mut AnyConnection, id: i64) -> Result<Option<i64>> {
    let r = sqlx::query("SELECT customer_id FROM conversations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    r.map(|r| r.try_get("customer_id"))
        .transpose()
        .map_err(Into::into)
}

/// The conversation of `customer_id`, if it has one.
pub async fn of_customer(conn: &mut AnyConnection, customer_id: i64) -> Result<Option<i64>> {
    let r = sqlx::query("SELECT id FROM conversations WHERE customer_id = $1")
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?;
    r.map(|r| r.try_get("id")).transpose().map_err(Into::into)
}

/// Sets the status (and the snooze's end, `None` unless snoozed). `NotFound` when there is
/// no such conversation.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: Status,
    snoozed_until: Option<i64>,
) -> Result<()> {
    let n = sqlx::query("UPDATE conversations SET status = $1, snoozed_until = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(snoozed_until)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Assigns the conversation to a user, or nobody. `NotFound` when there is no such
/// conversation.
pub async fn set_assignee(conn: &mut AnyConnection, id: i64, assignee: Option<i64>) -> Result<()> {
    let n = sqlx::query("UPDATE conversations SET assignee_id = $1 WHERE id = $2")
        .bind(assignee)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// `NotFound` unless conversation `id` exists.
pub async fn exists(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("SELECT id FROM conversations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

/// Conversations of `status` with something `user_id` has not read, counted up to `cap`
/// (newest first, so the count stops early when there are many).
pub async fn unread_count(db: &Db, user_id: i64, status: Status, cap: i64) -> Result<i64> {
    let row = sqlx::query(
        // Driven by the status index and stopped at the cap: the customer and read checks
        // are per-conversation lookups (no order is needed to count up to a cap). Joined the
        // other way round, SQLite walked every customer and sorted (about 45 ms a count on
        // 100,000 conversations; now under 4 ms).
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM conversations c \
         WHERE c.status = $2 AND c.last_inbound_at IS NOT NULL \
           AND EXISTS (SELECT 1 FROM customers cu \
                       WHERE cu.id = c.customer_id AND cu.merged_into_id IS NULL) \
           AND NOT EXISTS (SELECT 1 FROM conversation_reads r \
                           WHERE r.conversation_id = c.id AND r.user_id = $1 \
                             AND r.read_at >= c.last_inbound_at) \
         LIMIT $3) t",
    )
    .bind(user_id)
    .bind(status.as_str())
    .bind(cap)
    .fetch_one(&db.read)
    .await?;
    Ok(row.try_get("n")?)
}

/// Marks the conversation read for `user_id` now.
pub async fn mark_read(db: &Db, user_id: i64, id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversation_reads (user_id, conversation_id, read_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_at = excluded.read_at",
    )
    .bind(user_id)
    .bind(id)
    .bind(now_ms())
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Reopens snoozed conversations whose time has come, inside the caller's transaction;
/// returns their ids.
pub async fn wake_snoozed(conn: &mut AnyConnection, now: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_as::<_, (i64,)>(
        "UPDATE conversations SET status = 'open', snoozed_until = NULL \
         WHERE status = 'snoozed' AND snoozed_until <= $1 RETURNING id",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(id,)| id)
    .collect())
}

/// Opens the conversation again (the customer wrote while it was merged away).
pub async fn reopen(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE conversations SET status = 'open', snoozed_until = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether the conversation has neither messages nor events.
pub async fn is_empty(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM messages WHERE conversation_id = $1) \
              + (SELECT COUNT(*) FROM events WHERE conversation_id = $1) AS n",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(r.try_get::<i64, _>("n")? == 0)
}

/// Deletes an empty conversation and who read it.
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM conversation_reads WHERE conversation_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM conversations WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Where "Move conversation to…" sent replies, if it did.
pub async fn moved(db: &Db, id: i64) -> Result<Option<Moved>> {
    let c = sqlx::query(
        "SELECT moved_account_id, moved_identifier_id, moved_at, a.channel AS moved_channel \
         FROM conversations c LEFT JOIN channel_accounts a ON a.id = c.moved_account_id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(
        match (
            c.try_get::<Option<i64>, _>("moved_account_id")?,
            c.try_get::<Option<i64>, _>("moved_identifier_id")?,
            c.try_get::<Option<i64>, _>("moved_at")?,
            c.try_get::<Option<String>, _>("moved_channel")?
                .as_deref()
                .and_then(ChannelKind::parse),
        ) {
            (Some(account_id), Some(identifier_id), Some(at), Some(channel)) => Some(Moved {
                channel,
                account_id,
                identifier_id,
                at,
            }),
            _ => None,
        },
    )
}

/// Records "Move conversation to…": replies go to (`account_id`, `identifier_id`) on
/// `channel` from now on.
pub async fn set_moved(
    conn: &mut AnyConnection,
    id: i64,
    account_id: i64,
    identifier_id: i64,
    channel: ChannelKind,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET moved_account_id = $1, moved_identifier_id = $2, moved_at = $3, \
         current_channel = $4 WHERE id = $5",
    )
    .bind(account_id)
    .bind(identifier_id)
    .bind(at)
    .bind(channel.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rebuilds the denormalised summary columns of a conversation from its messages (after
/// messages were moved between conversations), by the rules the columns follow as messages
/// arrive: automatic messages (auto-replies, bounces, HELP answers) never become the preview
/// or the last inbound message; an automatic reply we sent does not count at all; an inbound
/// preview shows what the customer wrote, not the history they quoted.
pub async fn recompute_summary(conn: &mut AnyConnection, conversation_id: i64) -> Result<()> {
    const COUNTS: &str = "(automatic = 0 OR direction = 'in')";
    let created_at: i64 = sqlx::query("SELECT created_at FROM conversations WHERE id = $1")
        .bind(conversation_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get("created_at")?;
    let chans = sqlx::query(&format!(
        "SELECT DISTINCT channel FROM messages WHERE conversation_id = $1 AND {COUNTS}"
    ))
    .bind(conversation_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut mask = 0i64;
    for r in &chans {
        let c: String = r.try_get("channel")?;
        if let Some(c) = ChannelKind::parse(&c) {
            mask |= c.bit();
        }
    }
    let latest: Option<i64> = sqlx::query(&format!(
        "SELECT MAX(created_at) AS at FROM messages WHERE conversation_id = $1 AND {COUNTS}"
    ))
    .bind(conversation_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("at")?;
    let newest = sqlx::query(
        "SELECT channel, direction, body_text, author_user_id, identifier_id FROM messages WHERE conversation_id = $1 AND automatic = 0 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(conversation_id)
    .fetch_optional(&mut *conn)
    .await?;
    let newest_in = sqlx::query(
        "SELECT channel, created_at FROM messages WHERE conversation_id = $1 AND direction = 'in' AND automatic = 0 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(conversation_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (author, ident) = match &newest {
        Some(r) => (
            r.try_get::<Option<i64>, _>("author_user_id")?,
            r.try_get::<Option<i64>, _>("identifier_id")?,
        ),
        None => (None, None),
    };
    let (ch, dir, preview) = match &newest {
        Some(r) => {
            let dir: String = r.try_get("direction")?;
            let body: String = r.try_get("body_text")?;
            let written = if dir == "in" {
                crate::domain::quote::split_quoted(&body).0
            } else {
                body.as_str()
            };
            (
                Some(r.try_get::<String, _>("channel")?),
                Some(dir.clone()),
                crate::domain::text::preview(written, 140),
            )
        }
        None => (None, None, String::new()),
    };
    let (in_ch, in_at) = match &newest_in {
        Some(r) => (
            Some(r.try_get::<String, _>("channel")?),
            Some(r.try_get::<i64, _>("created_at")?),
        ),
        None => (None, None),
    };
    sqlx::query(
        "UPDATE conversations SET channels_mask = $1, last_channel = $2, last_direction = $3, last_preview = $4, \
         last_activity_at = $5, last_inbound_channel = $6, last_inbound_at = $7, last_author_id = $9, \
         last_identifier_id = $10 WHERE id = $8",
    )
    .bind(mask)
    .bind(ch)
    .bind(dir)
    .bind(preview)
    .bind(latest.map_or(created_at, |l| l.max(created_at)))
    .bind(in_ch)
    .bind(in_at)
    .bind(conversation_id)
    .bind(author)
    .bind(ident)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The highest conversation id (0 when there is none).
pub async fn max_id(conn: &mut AnyConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM conversations")
            .fetch_one(&mut *conn)
            .await?
            .unwrap_or(0),
    )
}
