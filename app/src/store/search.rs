//! Search (`search_docs`, `search_people` and each engine's index over them: FTS5 on SQLite,
//! a tsvector and pg_trgm on PostgreSQL). Rows are kept by triggers; this module only reads.
//!
//! Hits come newest first straight from the index: a doc's id is its time (see
//! `domain::search::doc_id`), FTS5 walks its doclists in descending rowid order, and
//! PostgreSQL walks the primary key backwards with the tsvector test or takes the GIN index
//! for rare words, whichever its estimates say is cheaper.

use super::{Backend, Db, Result};
use sqlx::Row;

/// Which conversations and docs a search may return (every part optional).
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Doc ids in `[from, below)`; `below` 0 means no upper bound.
    pub from: i64,
    pub below: i64,
    pub channel: Option<&'static str>,
    /// `search_docs.direction`: `in`, `out` or `note`.
    pub direction: Option<&'static str>,
    pub files: bool,
    pub status: Option<&'static str>,
    pub assignee: Assignee,
    pub label: Option<i64>,
    /// Only these conversations (customers named in the query).
    pub conversations: Option<Vec<i64>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Assignee {
    #[default]
    Anyone,
    Nobody,
    User(i64),
}

/// One matching doc.
#[derive(Clone, Debug)]
pub struct Hit {
    pub id: i64,
    pub conversation_id: i64,
    pub kind: String,
    pub at: i64,
    pub channel: Option<String>,
    pub direction: String,
    /// The matching text with its marks, when the engine gives it with the hit (SQLite: FTS5's
    /// `snippet()` costs little on the row it is reading, and much when a row is looked up
    /// again by rowid, which FTS5 does by scanning the words' matches).
    pub snippet: Option<String>,
}

/// The engine's form of the words: FTS5's query or `websearch_to_tsquery`'s text.
#[derive(Clone, Debug, Default)]
pub struct Words {
    pub fts5: String,
    pub websearch: String,
    /// PostgreSQL: the words are rare enough that the GIN index and a sort beat walking the
    /// newest docs (see [`rare`]).
    pub rare: bool,
}

/// PostgreSQL only: whether `words` (the positive words, space-separated) hold a lexeme that
/// is not among the column's most common ones (or is, below 0.2% of docs). The planner takes
/// every word it has no statistics for as matching 0.5% of the docs and walks the newest docs
/// for them, which for a word in two docs of a million reads them all (0.6 s); the
/// statistics it keeps tell us better. SQLite: always false (FTS5 has one plan).
pub async fn rare(db: &Db, words: &str) -> Result<bool> {
    if db.backend == Backend::Sqlite || words.trim().is_empty() {
        return Ok(false);
    }
    let rows = sqlx::query(
        "SELECT w, s.f[array_position(s.e, w)]::float8 AS freq \
         FROM unnest(tsvector_to_array(to_tsvector('english'::regconfig, \
                regexp_replace($1, '[^[:alnum:]]+', ' ', 'g')))) AS w \
         LEFT JOIN (SELECT most_common_elems::text::text[] AS e, most_common_elem_freqs AS f \
                    FROM pg_stats WHERE schemaname = current_schema() \
                      AND tablename = 'search_docs' AND attname = 'tsv') s ON true",
    )
    .bind(words)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().any(|r| {
        r.try_get::<Option<f64>, _>("freq")
            .ok()
            .flatten()
            .is_none_or(|f| f < 0.002)
    }))
}

/// `sql` with its text binds, in order.
fn with_binds<'q>(
    sql: &'q str,
    binds: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    binds.iter().fold(sqlx::query(sql), |q, b| q.bind(b))
}

/// The SQL of one hits query and its text binds (the numbers are written into the SQL: they
/// are ours, never typed).
fn hits_sql(
    backend: Backend,
    words: Option<&Words>,
    scope: &Scope,
    limit: i64,
    with_snippets: bool,
) -> (String, Vec<String>) {
    let mut binds: Vec<String> = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    let from = match (backend, words) {
        (Backend::Sqlite, Some(w)) => {
            binds.push(w.fts5.clone());
            conds.push("search_fts MATCH $1".into());
            "search_fts JOIN search_docs d ON d.id = search_fts.rowid"
        }
        (Backend::Postgres, Some(w)) => {
            binds.push(w.websearch.clone());
            conds.push("d.tsv @@ websearch_to_tsquery('english'::regconfig, $1)".into());
            "search_docs d"
        }
        (_, None) => "search_docs d",
    };
    // On SQLite the range is on the FTS rowid, so FTS5 seeks to it.
    let key = match (backend, words) {
        (Backend::Sqlite, Some(_)) => "search_fts.rowid",
        _ => "d.id",
    };
    if scope.from > i64::MIN {
        conds.push(format!("{key} >= {}", scope.from));
    }
    if scope.below != 0 {
        conds.push(format!("{key} < {}", scope.below));
    }
    let mut text = |v: &str| {
        binds.push(v.to_string());
        format!("${}", binds.len())
    };
    if let Some(c) = scope.channel {
        conds.push(format!("d.channel = {}", text(c)));
    }
    if let Some(d) = scope.direction {
        conds.push(format!("d.direction = {}", text(d)));
    }
    if let Some(s) = scope.status {
        conds.push(format!("c.status = {}", text(s)));
    }
    if scope.files {
        conds.push("d.files = 1".into());
    }
    match scope.assignee {
        Assignee::Anyone => {}
        Assignee::Nobody => conds.push("c.assignee_id IS NULL".into()),
        Assignee::User(u) => conds.push(format!("c.assignee_id = {u}")),
    }
    if let Some(l) = scope.label {
        conds.push(format!(
            "EXISTS (SELECT 1 FROM conversation_labels cl WHERE cl.conversation_id = c.id AND cl.label_id = {l})"
        ));
    }
    if let Some(list) = &scope.conversations {
        let list = if list.is_empty() {
            "0".into()
        } else {
            super::id_list(list)
        };
        conds.push(format!("d.conversation_id IN ({list})"));
    }
    if conds.is_empty() {
        conds.push("1 = 1".into());
    }
    let snippet = match (backend, words) {
        (Backend::Sqlite, Some(_)) if with_snippets => {
            "snippet(search_fts, 0, char(2), char(3), '…', 24)"
        }
        _ => "NULL",
    };
    // Rare words on PostgreSQL: `id + 0` is not the primary key's order, so the planner
    // takes the GIN index and sorts the few matches.
    let order = match (backend, words) {
        (Backend::Postgres, Some(w)) if w.rare => "d.id + 0".to_string(),
        _ => key.to_string(),
    };
    let sql = format!(
        "SELECT d.id, d.conversation_id, d.kind, d.at, d.channel, d.direction, {snippet} AS s \
         FROM {from} JOIN conversations c ON c.id = d.conversation_id \
         WHERE {} ORDER BY {order} DESC LIMIT {limit}",
        conds.join(" AND ")
    );
    (sql, binds)
}

/// Up to `limit` matching docs, newest first. `words` None: every doc in scope.
/// `with_snippets`: bring each hit's snippet where the engine gives it cheaply (SQLite).
pub async fn hits(
    db: &Db,
    words: Option<&Words>,
    scope: &Scope,
    limit: i64,
    with_snippets: bool,
) -> Result<Vec<Hit>> {
    let (sql, binds) = hits_sql(db.backend, words, scope, limit, with_snippets);
    let q = with_binds(&sql, &binds);
    let rows = q.fetch_all(&db.read).await?;
    rows.iter()
        .map(|r| {
            Ok(Hit {
                id: r.try_get("id")?,
                conversation_id: r.try_get("conversation_id")?,
                kind: r.try_get("kind")?,
                at: r.try_get("at")?,
                channel: r.try_get("channel")?,
                direction: r.try_get("direction")?,
                snippet: r.try_get("s")?,
            })
        })
        .collect()
}

/// The hits query's plan on this engine (for a test that the index is used).
pub async fn plan(db: &Db, words: &Words, scope: &Scope) -> Result<String> {
    let (sql, binds) = hits_sql(db.backend, Some(words), scope, 51, true);
    let explain = match db.backend {
        Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Backend::Postgres => format!("EXPLAIN {sql}"),
    };
    let q = with_binds(&explain, &binds);
    let rows = q.fetch_all(&db.read).await?;
    let col = match db.backend {
        Backend::Sqlite => "detail",
        Backend::Postgres => "QUERY PLAN",
    };
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>(col).ok())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Each doc's text around its first matches, the matched words between
/// `domain::search::MARK_START` and `MARK_END`.
pub async fn snippets(db: &Db, words: &Words, docs: &[i64]) -> Result<Vec<(i64, String)>> {
    if docs.is_empty() {
        return Ok(Vec::new());
    }
    let (sql, bind) = match db.backend {
        Backend::Sqlite => (
            format!(
                "SELECT rowid AS id, snippet(search_fts, 0, char(2), char(3), '…', 24) AS s \
                 FROM search_fts WHERE search_fts MATCH $1 AND rowid IN ({})",
                super::id_list(docs)
            ),
            words.fts5.clone(),
        ),
        Backend::Postgres => (
            format!(
                "SELECT id, ts_headline('english'::regconfig, substr(body, 1, 8000), \
                        websearch_to_tsquery('english'::regconfig, $1), \
                        'StartSel=' || chr(2) || ', StopSel=' || chr(3) || \
                        ', MaxWords=24, MinWords=12, ShortWord=2, MaxFragments=1, FragmentDelimiter=…') AS s \
                 FROM search_docs WHERE id IN ({})",
                super::id_list(docs)
            ),
            words.websearch.clone(),
        ),
    };
    let rows = sqlx::query(&sql).bind(bind).fetch_all(&db.read).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("s")?)))
        .collect()
}

/// The start of each doc's text (for hits found without words).
pub async fn texts(db: &Db, docs: &[i64]) -> Result<Vec<(i64, String)>> {
    if docs.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, substr(body, 1, 200) AS s FROM search_docs WHERE id IN ({})",
        super::id_list(docs)
    );
    let rows = sqlx::query(&sql).fetch_all(&db.read).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("s")?)))
        .collect()
}

/// Customers whose name or identifiers contain every one of `parts` (each at least three
/// characters: the trigram index needs them), at most `cap`: (customer id, text).
pub async fn people(db: &Db, parts: &[String], cap: i64) -> Result<Vec<(i64, String)>> {
    let parts: Vec<&String> = parts.iter().filter(|p| p.chars().count() >= 3).collect();
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let sql = match db.backend {
        Backend::Sqlite => format!(
            "SELECT rowid AS customer_id, body FROM people_fts WHERE people_fts MATCH $1 LIMIT {cap}"
        ),
        Backend::Postgres => {
            let conds: Vec<String> = (1..=parts.len())
                .map(|i| format!("lower(body) LIKE ${i}"))
                .collect();
            format!(
                "SELECT customer_id, body FROM search_people WHERE {} LIMIT {cap}",
                conds.join(" AND ")
            )
        }
    };
    let mut q = sqlx::query(&sql);
    match db.backend {
        Backend::Sqlite => {
            let m = parts
                .iter()
                .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" AND ");
            q = q.bind(m);
        }
        Backend::Postgres => {
            for p in &parts {
                let escaped = p
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                q = q.bind(format!("%{escaped}%"));
            }
        }
    }
    let rows = q.fetch_all(&db.read).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("customer_id")?, r.try_get("body")?)))
        .collect()
}

/// The customers holding any of the identifier `values` exactly (as stored: E.164, lower-case
/// email).
pub async fn holders(db: &Db, values: &[String]) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for v in values {
        let rows = sqlx::query("SELECT customer_id FROM identifiers WHERE value = $1")
            .bind(v)
            .fetch_all(&db.read)
            .await?;
        for r in rows {
            out.push(r.try_get("customer_id")?);
        }
    }
    Ok(out)
}

/// The people text of customers (to show what matched).
pub async fn people_texts(db: &Db, customers: &[i64]) -> Result<Vec<(i64, String)>> {
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT customer_id, body FROM search_people WHERE customer_id IN ({})",
        super::id_list(customers)
    );
    let rows = sqlx::query(&sql).fetch_all(&db.read).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("customer_id")?, r.try_get("body")?)))
        .collect()
}

/// For customers: the live conversation of each, following merges to the survivor
/// (customer id, conversation id, its last activity).
pub async fn conversations_of(db: &Db, customers: &[i64]) -> Result<Vec<(i64, i64, i64)>> {
    let mut out = Vec::new();
    let mut current: Vec<(i64, i64)> = customers.iter().map(|&c| (c, c)).collect();
    // Merges chain rarely; five steps is more than any seen.
    for _ in 0..5 {
        if current.is_empty() {
            break;
        }
        let list: Vec<i64> = current.iter().map(|(_, now)| *now).collect();
        let sql = format!(
            "SELECT cu.id, cu.merged_into_id, c.id AS conversation_id, c.last_activity_at \
             FROM customers cu LEFT JOIN conversations c ON c.customer_id = cu.id \
             WHERE cu.id IN ({})",
            super::id_list(&list)
        );
        let rows = sqlx::query(&sql).fetch_all(&db.read).await?;
        let mut next = Vec::new();
        for (orig, now) in current {
            let Some(r) = rows
                .iter()
                .find(|r| r.try_get::<i64, _>("id").ok() == Some(now))
            else {
                continue;
            };
            let merged: Option<i64> = r.try_get("merged_into_id")?;
            match merged {
                Some(to) => next.push((orig, to)),
                None => {
                    let conv: Option<i64> = r.try_get("conversation_id")?;
                    let at: Option<i64> = r.try_get("last_activity_at")?;
                    if let (Some(conv), Some(at)) = (conv, at) {
                        out.push((orig, conv, at));
                    }
                }
            }
        }
        current = next;
    }
    Ok(out)
}

/// Of `conversations`, those that pass the conversation filters of `scope` (status,
/// assignee, label, a channel used), with their last activity, within `[from_ms, below_ms)`.
pub async fn filter_conversations(
    db: &Db,
    conversations: &[i64],
    scope: &Scope,
    channel_bit: i64,
    from_ms: i64,
    below_ms: i64,
) -> Result<Vec<(i64, i64)>> {
    if conversations.is_empty() {
        return Ok(Vec::new());
    }
    let (sql, binds) = conversations_sql(scope, channel_bit, from_ms, below_ms);
    let sql = format!("{sql} AND c.id IN ({})", super::id_list(conversations));
    let q = with_binds(&sql, &binds);
    let rows = q.fetch_all(&db.read).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("last_activity_at")?)))
        .collect()
}

fn conversations_sql(
    scope: &Scope,
    channel_bit: i64,
    from_ms: i64,
    below_ms: i64,
) -> (String, Vec<String>) {
    let mut binds = Vec::new();
    let mut conds = vec![
        "cu.merged_into_id IS NULL".to_string(),
        format!("c.last_activity_at >= {from_ms}"),
        format!("c.last_activity_at < {below_ms}"),
    ];
    if let Some(s) = scope.status {
        binds.push(s.to_string());
        conds.push(format!("c.status = ${}", binds.len()));
    }
    match scope.assignee {
        Assignee::Anyone => {}
        Assignee::Nobody => conds.push("c.assignee_id IS NULL".into()),
        Assignee::User(u) => conds.push(format!("c.assignee_id = {u}")),
    }
    if channel_bit != 0 {
        conds.push(format!("(c.channels_mask & {channel_bit}) <> 0"));
    }
    if let Some(l) = scope.label {
        conds.push(format!(
            "EXISTS (SELECT 1 FROM conversation_labels cl WHERE cl.conversation_id = c.id AND cl.label_id = {l})"
        ));
    }
    (
        format!(
            "SELECT c.id, c.last_activity_at FROM conversations c \
             JOIN customers cu ON cu.id = c.customer_id WHERE {}",
            conds.join(" AND ")
        ),
        binds,
    )
}

/// Conversations that pass the filters, newest activity first, keyset-paged by
/// (last activity, id) below `(at, id)`: (id, last activity).
pub async fn filtered_page(
    db: &Db,
    scope: &Scope,
    channel_bit: i64,
    from_ms: i64,
    below_ms: i64,
    after: (i64, i64),
    limit: i64,
) -> Result<Vec<(i64, i64)>> {
    let (sql, binds) = conversations_sql(scope, channel_bit, from_ms, below_ms);
    let sql = format!(
        "{sql} AND (c.last_activity_at, c.id) < ({}, {}) \
         ORDER BY c.last_activity_at DESC, c.id DESC LIMIT {limit}",
        after.0, after.1
    );
    let q = with_binds(&sql, &binds);
    let rows = q.fetch_all(&db.read).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("last_activity_at")?)))
        .collect()
}
