//! Storage: one API over SQLite and PostgreSQL.
//!
//! One module per table group, holding its row types and SQL. A store module never calls
//! another: what spans several tables in one transaction is a use case in
//! `service`, which passes its transaction to each module's functions (those take a
//! `&mut AnyConnection`).
//!
//! Every query is written once, in the SQL both engines accept, and runs through `sqlx::Any`.
//! Times are unix milliseconds in BIGINT columns; ids are BIGINT. SQLite gets a separate
//! single-connection pool for writes, so write transactions queue instead of failing with
//! SQLITE_BUSY; on PostgreSQL reads and writes share one pool.

pub mod attachments;
pub mod audit;
pub mod campaign_audience;
pub mod campaigns;
pub mod canned;
pub mod channel_accounts;
pub mod chat;
pub mod consent;
pub mod conversations;
pub mod customers;
pub mod events;
pub mod identifiers;
pub mod labels;
pub mod leases;
pub mod login_throttle;
pub mod mailbox;
pub mod merges;
pub mod messages;
pub mod outbox;
pub mod preference_codes;
pub mod rate_counters;
pub mod raw_inbound;
pub mod reports;
pub mod rollups;
pub mod search;
pub mod sessions;
pub mod suggestions;
pub mod timeline;
pub mod users;
pub mod views;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// What ends a claim's inner `SELECT`: on PostgreSQL the rows are locked with
    /// `SKIP LOCKED`, so processes claiming at once take different rows instead of one of them
    /// finding none; SQLite has one writer and needs nothing.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    /// Reads (and, on PostgreSQL, writes).
    pub read: AnyPool,
    /// Writes. On SQLite a single connection; on PostgreSQL the same pool as `read`.
    pub write: AnyPool,
    pub backend: Backend,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Ids written into SQL as `1,2,3` (numbers of ours, never text a user typed).
pub fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Connections per process on PostgreSQL: `CONVERGENCE_DB_POOL_SIZE`, else 16. Each process
/// also holds one more for LISTEN; size PostgreSQL's `max_connections` for every process.
fn pg_pool_size() -> u32 {
    std::env::var("CONVERGENCE_DB_POOL_SIZE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &u32| (2..=500).contains(n))
        .unwrap_or(16)
}

/// Current time in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`). The SQLite file and
    /// its directory are created when missing.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://..."
            )));
        };
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url_with_create(url);
                if let Some(dir) = sqlite_path(&url)
                    .and_then(|p| std::path::Path::new(&p).parent().map(|d| d.to_path_buf()))
                {
                    if !dir.as_os_str().is_empty() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                }
                let opts = AnyConnectOptions::from_str(&url)?;
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(sqlite_setup)
                    .connect_with(opts.clone())
                    .await?;
                write.execute("PRAGMA journal_mode = WAL;").await?;
                let read = AnyPoolOptions::new()
                    .max_connections(8)
                    .min_connections(1)
                    .after_connect(sqlite_setup)
                    .connect_with(opts)
                    .await?;
                Ok(Db {
                    read,
                    write,
                    backend,
                    url,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(pg_pool_size())
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await?;
                Ok(Db {
                    read: pool.clone(),
                    write: pool,
                    backend,
                    url: url.to_string(),
                })
            }
        }
    }

    /// Applies the migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.write).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.write).await?,
        }
        Ok(())
    }

    /// Cheap reachability check for /healthz.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    /// Writes a consistent copy of a SQLite database to `path` while the app keeps running
    /// (`VACUUM INTO` reads one snapshot; writers carry on in the WAL). `path` must not exist.
    /// PostgreSQL is backed up with `pg_dump`, which this refuses to stand in for.
    pub async fn backup_into(&self, path: &str) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Invalid(
                "this database is PostgreSQL: back it up with pg_dump (README, Operations)".into(),
            ));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.read)
            .await?;
        Ok(())
    }

    /// SQLite's own check of a database file: `ok`, or what is wrong.
    pub async fn integrity(&self) -> Result<String> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.read)
            .await?;
        Ok(rows.join("; "))
    }
}

type SetupFuture<'c> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;

/// Per-connection SQLite settings (journal mode is set once, on the file).
fn sqlite_setup<'c>(
    conn: &'c mut sqlx::AnyConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> SetupFuture<'c> {
    Box::pin(async move {
        conn.execute(
            "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;",
        )
        .await?;
        Ok(())
    })
}

fn sqlite_url_with_create(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_string())
    }
}

/// Turns a unique-constraint violation into `Conflict`, leaving other errors as they are.
/// Whether `conn` talks to PostgreSQL (for the little SQL that differs by engine).
pub(crate) fn is_postgres(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// SQL joining the text expression `item` of every row into one value, items separated by `;`
/// (`string_agg` on PostgreSQL, `group_concat` on SQLite). Many small rows cost more to cross
/// from the database than one value holding them all (on SQLite each row is a hand-off between
/// threads).
pub(crate) fn joined(conn: &sqlx::AnyConnection, item: &str) -> String {
    if is_postgres(conn) {
        format!("string_agg({item}, ';')")
    } else {
        format!("group_concat({item}, ';')")
    }
}

pub(crate) fn conflict(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(what.to_string())
        }
        _ => StoreError::Sql(e),
    }
}
