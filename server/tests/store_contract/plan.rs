//! Query plans that matter at a million messages: the inbox list walks an index in list order
//! instead of sorting every open conversation.

use super::*;
use sqlx::Row;

/// The statistics `ANALYZE` kept on the 1,000,000-message seed (100,000 conversations, one
/// agent): with them, SQLite's planner, left alone, skip-scans the assignee index and sorts.
const SEED_STATS: &[(&str, &str, &str)] = &[
    ("conversations", "conversations_activity", "100000 1 1"),
    (
        "conversations",
        "conversations_assignee_activity",
        "100000 50000 16667 1 1",
    ),
    (
        "conversations",
        "conversations_status_activity",
        "100000 33334 1 1",
    ),
    (
        "conversations",
        "sqlite_autoindex_conversations_1",
        "100000 1",
    ),
    ("identifiers", "identifiers_customer", "165128 2"),
    (
        "identifiers",
        "sqlite_autoindex_identifiers_1",
        "165128 27522 1",
    ),
    ("users", "sqlite_autoindex_users_1", "1 1"),
];

async fn plan(conn: &mut sqlx::AnyConnection, sql: &str) -> String {
    let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
        .bind(1_i64)
        .bind("open")
        .bind(0_i64)
        .bind(i64::MAX)
        .bind(i64::MAX)
        .bind(51_i64)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String, _>("detail").unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// SQLite only: the index hint and the statistics table are SQLite's (PostgreSQL's planner
/// has no index hints; `make bench-pg` measures its plan).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_list_reads_in_index_order_with_seed_statistics() {
    let t = crate::support::test_db(crate::support::Engine::Sqlite).await;
    let mut conn = t.db.write.acquire().await.unwrap();
    sqlx::query("ANALYZE").execute(&mut *conn).await.unwrap();
    sqlx::query("DELETE FROM sqlite_stat1")
        .execute(&mut *conn)
        .await
        .unwrap();
    for (table, index, stat) in SEED_STATS {
        sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, $2, $3)")
            .bind(*table)
            .bind(*index)
            .bind(*stat)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    // Loads the statistics into this connection's planner.
    sqlx::query("ANALYZE sqlite_schema")
        .execute(&mut *conn)
        .await
        .unwrap();

    let unhinted =
        conversations::list_sql(app::store::Backend::Postgres, AssigneeFilter::All, None);
    let before = plan(&mut conn, &unhinted).await;
    for assignee in [
        AssigneeFilter::All,
        AssigneeFilter::Mine,
        AssigneeFilter::Unassigned,
    ] {
        let sql = conversations::list_sql(app::store::Backend::Sqlite, assignee, None);
        let p = plan(&mut conn, &sql).await;
        assert!(
            !p.contains("TEMP B-TREE"),
            "{assignee:?}: the list sorts instead of reading an index in order:\n{p}\n\
             (without the hint the plan is:\n{before})"
        );
    }
    let all = plan(
        &mut conn,
        &conversations::list_sql(app::store::Backend::Sqlite, AssigneeFilter::All, None),
    )
    .await;
    assert!(all.contains("conversations_status_activity"), "{all}");
    drop(conn);
}
