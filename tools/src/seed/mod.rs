//! `seed`: fills a migrated database (SQLite or PostgreSQL) with a large, realistic data set
//! for benchmarks: customers with identifiers on several channels, one conversation each with
//! correct summary columns, a skewed spread of messages over the last two years, and one
//! customer ("Bench Big History") with a very long multi-channel history.
//!
//! Loading is bulk: the whole data set is planned in memory, then rendered as large multi-row
//! literal INSERTs (ids assigned here, from MAX(id)+1 of each table) on a blocking thread while
//! the async side executes them in big transactions on one write connection.
//!
//! Submodules:
//! - [`model`]: the planned data set's shapes;
//! - [`plan`]: the in-memory plan (customers, identifiers, message timing, summaries);
//! - [`threads`]: message threads over a customer's history;
//! - [`big`]: the big conversation (its customer, history and timeline events);
//! - [`statuses`]: resolutions, reopenings and moves at the end of threads, by four agents;
//! - [`identifiers`]: identifier values (unique emails, phone numbers, handles);
//! - [`tables`]: the per-table bulk writers (customers, identifiers, conversations, messages);
//! - [`sql`]: rendering of multi-row INSERT statements and SQL literals;
//! - [`load`]: executing the rendered statements in big transactions;
//! - [`text`] and [`vocabulary`]: message bodies, subjects and names;
//! - [`rng`]: the deterministic PRNG.

mod big;
mod consent;
mod identifiers;
mod load;
mod merges;
mod model;
mod plan;
mod rng;
mod sql;
mod statuses;
mod tables;
mod text;
mod threads;
mod vocabulary;

use app::domain::{ChannelKind, Role};
use app::store::{channel_accounts, now_ms, users, Backend, Db};
use load::{load, Batch};
use model::{Bases, Ctx};
use rng::Rng;
use sql::Stopped;
use sqlx::Row;
use std::collections::HashSet;
use std::time::Instant;
use tokio::sync::mpsc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The staff account the benchmark logs in with.
pub const BENCH_EMAIL: &str = "bench@convergence.test";
pub const BENCH_PASSWORD: &str = "bench-password-1";
pub const BENCH_USER_NAME: &str = "Bench User";
/// The marketing account the reports benchmark logs in with (same password).
pub const BENCH_MARKETING_EMAIL: &str = "bench-marketing@convergence.test";
/// The other agents whose replies and resolutions the seed writes.
const SEED_AGENTS: [(&str, &str); 3] = [
    ("ana.agent@convergence.test", "Ana Agent"),
    ("ben.agent@convergence.test", "Ben Agent"),
    ("chloe.agent@convergence.test", "Chloe Agent"),
];
/// The customer whose conversation has the long history.
pub const BIG_NAME: &str = "Bench Big History";

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// How far back the generated history goes.
const SPAN: i64 = 730 * DAY;

/// Rows per INSERT statement, and rows per transaction.
const ROWS_PER_INSERT: usize = 1000;
const ROWS_PER_TX: usize = 200_000;

pub struct SeedOptions {
    pub customers: i64,
    pub messages: i64,
    pub big_conversation_messages: i64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            customers: 100_000,
            messages: 1_000_000,
            big_conversation_messages: 10_000,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SeedReport {
    pub customers: i64,
    pub messages: i64,
    pub big_conversation_id: i64,
    pub seconds: f64,
}

/// Seeds `db` (already migrated). Safe to run on a database that already holds data: ids
/// continue after the current maxima and identifier values never collide with existing ones.
pub async fn run(db: &Db, opts: &SeedOptions) -> Result<SeedReport, BoxError> {
    let started = Instant::now();
    let now = now_ms();

    channel_accounts::ensure_playground_accounts(db).await?;
    let mut accounts = [0i64; 6];
    for c in ChannelKind::ALL {
        let acc = channel_accounts::playground_for(db, c)
            .await?
            .ok_or_else(|| format!("no enabled playground account for channel {c}"))?;
        accounts[c as usize] = acc.id;
    }
    let bench_user = match users::find_by_email(db, BENCH_EMAIL).await? {
        Some(u) => u.id,
        None => {
            users::create_user(
                db,
                BENCH_EMAIL,
                BENCH_USER_NAME,
                Role::Support,
                BENCH_PASSWORD,
            )
            .await?
        }
    };

    if users::find_by_email(db, BENCH_MARKETING_EMAIL)
        .await?
        .is_none()
    {
        users::create_user(
            db,
            BENCH_MARKETING_EMAIL,
            "Bench Marketing",
            Role::Marketing,
            BENCH_PASSWORD,
        )
        .await?;
    }
    // Three more agents share the replies and resolutions (the reports show each).
    let mut agents = vec![bench_user];
    for (email, name) in SEED_AGENTS {
        let id = match users::find_by_email(db, email).await? {
            Some(u) => u.id,
            None => users::create_user(db, email, name, Role::Support, BENCH_PASSWORD).await?,
        };
        agents.push(id);
    }

    let bases = Bases {
        customer: max_id(db, "customers").await? + 1,
        identifier: max_id(db, "identifiers").await? + 1,
        conversation: max_id(db, "conversations").await? + 1,
        message: max_id(db, "messages").await? + 1,
        event: max_id(db, "events").await? + 1,
    };
    let mut existing = HashSet::new();
    for r in sqlx::query("SELECT kind, value FROM identifiers")
        .fetch_all(&db.read)
        .await?
    {
        let kind: String = r.try_get("kind")?;
        let value: String = r.try_get("value")?;
        existing.insert(identifiers::ident_key(&kind, &value));
    }

    let (bases_identifier, bases_customer, bases_conversation) =
        (bases.identifier, bases.customer, bases.conversation);
    let ctx = Ctx {
        now,
        run: ((now / 1000) % 1_000_000) as u64,
        accounts,
        bench_user,
        agents,
        bases,
        existing,
        customers: opts.customers.max(1) as usize,
        messages: opts.messages.max(0) as usize,
        big_messages: opts.big_conversation_messages.max(1) as usize,
    };
    eprintln!(
        "seed: planning {} customers, {} messages ({} in the big conversation) on {:?}",
        ctx.customers,
        ctx.messages.max(ctx.customers - 1 + ctx.big_messages),
        ctx.big_messages,
        db.backend
    );

    let (tx, mut rx) = mpsc::channel::<Batch>(6);
    let producer = tokio::task::spawn_blocking(move || produce(ctx, tx));
    let loaded = load(db, &mut rx, started).await;
    drop(rx); // stops the producer if loading failed
    let produced = producer
        .await
        .map_err(|e| format!("the seed generator panicked: {e}"))?;
    loaded?;
    let produced = produced.map_err(|e| format!("the seed generator stopped: {e}"))?;

    let consented = consent::write(db, bases_identifier, bench_user, now).await?;
    eprintln!("seed: {consented} consent changes");
    if db.backend == Backend::Postgres {
        for table in [
            "customers",
            "identifiers",
            "conversations",
            "messages",
            "events",
        ] {
            sqlx::raw_sql(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(&db.write)
            .await?;
        }
    }
    let big_customer = bases_customer + (produced.big_conversation_id - bases_conversation);
    let (merged, undone) = merges::write(
        db,
        bases_customer,
        produced.customers.max(0) as usize,
        big_customer,
        bench_user,
    )
    .await?;
    eprintln!("seed: {merged} merges, {undone} undone");
    eprintln!(
        "seed: report episodes and rollups ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let rebuilt = app::service::reports::rebuild(db).await?;
    eprintln!(
        "seed: {} episodes, {} daily rows",
        rebuilt.episodes, rebuilt.rows
    );
    eprintln!("seed: ANALYZE ({:.1} s)", started.elapsed().as_secs_f64());
    sqlx::raw_sql("ANALYZE").execute(&db.write).await?;
    if db.backend == Backend::Sqlite {
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&db.write)
            .await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "seed: done: {} customers, {} messages, big conversation id {} in {:.1} s",
        produced.customers, produced.messages, produced.big_conversation_id, seconds
    );
    Ok(SeedReport {
        customers: produced.customers,
        messages: produced.messages,
        big_conversation_id: produced.big_conversation_id,
        seconds,
    })
}

async fn max_id(db: &Db, table: &str) -> Result<i64, BoxError> {
    let row = sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}"))
        .fetch_one(&db.write)
        .await?;
    Ok(row.try_get::<i64, _>("m")?)
}

// ---------------------------------------------------------------------------------------------
// Producing (blocking thread): plans the data set, then renders it table by table.

struct Produced {
    customers: i64,
    messages: i64,
    big_conversation_id: i64,
}

fn produce(mut ctx: Ctx, tx: mpsc::Sender<Batch>) -> Result<Produced, Stopped> {
    // One generator for the whole run, in a fixed order: the data set is the same every time.
    let mut rng = Rng::new(0x5eed_c0de_2026);
    let plan = plan::plan(&mut ctx, &mut rng);

    tables::write_customers(&tx, &ctx, &plan)?;
    let ident_start = tables::write_identifiers(&tx, &ctx, &plan)?;
    tables::write_conversations(&tx, &ctx, &plan, &mut rng)?;
    tables::write_messages(&tx, &ctx, &plan, &ident_start)?;
    big::write_events(&tx, &ctx, &plan)?;
    // The big conversation's events come first (fewer than 100 ids).
    statuses::write_status_events(&tx, &ctx, &plan, ctx.bases.event + 100)?;

    Ok(Produced {
        customers: ctx.customers as i64,
        messages: plan.msgs.len() as i64,
        big_conversation_id: ctx.bases.conversation + plan.big as i64,
    })
}
