//! `seed`: fills a migrated database (SQLite or PostgreSQL) with a large, realistic data set
//! for benchmarks: customers with identifiers on several channels, one conversation each with
//! correct summary columns, a skewed spread of messages over the last two years, and one
//! customer ("Bench Big History") with a very long multi-channel history.
//!
//! Loading is bulk: the whole data set is planned in memory, then rendered as large multi-row
//! literal INSERTs (ids assigned here, from MAX(id)+1 of each table) on a blocking thread while
//! the async side executes them in big transactions on one write connection.

use app::domain::{ChannelKind, IdentifierKind, Role};
use app::store::{channel_accounts, now_ms, users, Backend, Db};
use sqlx::{Connection, Row};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Instant;
use tokio::sync::mpsc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The staff account the benchmark logs in with.
pub const BENCH_EMAIL: &str = "bench@convergence.test";
pub const BENCH_PASSWORD: &str = "bench-password-1";
pub const BENCH_USER_NAME: &str = "Bench User";
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
        existing.insert(ident_key(&kind, &value));
    }

    let ctx = Ctx {
        now,
        run: ((now / 1000) % 1_000_000) as u64,
        accounts,
        bench_user,
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
// Loading: executes the rendered statements on one write connection, in big transactions.

struct Batch {
    table: &'static str,
    rows: usize,
    total: usize,
    sql: String,
}

async fn load(db: &Db, rx: &mut mpsc::Receiver<Batch>, started: Instant) -> Result<(), BoxError> {
    let mut conn = db.write.acquire().await?;
    let (fast, normal) = match db.backend {
        Backend::Sqlite => ("PRAGMA synchronous = OFF", "PRAGMA synchronous = NORMAL"),
        Backend::Postgres => ("SET synchronous_commit = off", "RESET synchronous_commit"),
    };
    sqlx::raw_sql(fast).execute(&mut *conn).await?;
    let res = load_batches(&mut *conn, rx, started).await;
    let restored = sqlx::raw_sql(normal).execute(&mut *conn).await;
    res?;
    restored?;
    Ok(())
}

async fn load_batches(
    conn: &mut sqlx::AnyConnection,
    rx: &mut mpsc::Receiver<Batch>,
    started: Instant,
) -> Result<(), BoxError> {
    let mut tx = conn.begin().await?;
    let mut in_tx = 0usize;
    let mut table = "";
    let mut done = 0usize;
    let mut last_report = 0usize;
    while let Some(b) = rx.recv().await {
        if b.table != table {
            table = b.table;
            done = 0;
            last_report = 0;
        }
        sqlx::raw_sql(&b.sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("inserting into {}: {e}", b.table))?;
        done += b.rows;
        in_tx += b.rows;
        if done == b.total || done - last_report >= 100_000 {
            last_report = done;
            eprintln!(
                "seed: {:<13} {:>9} / {:<9} ({:.1} s)",
                b.table,
                done,
                b.total,
                started.elapsed().as_secs_f64()
            );
        }
        if in_tx >= ROWS_PER_TX {
            tx.commit().await?;
            tx = conn.begin().await?;
            in_tx = 0;
        }
    }
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Planning and rendering (blocking thread).

#[derive(Clone, Copy)]
struct Bases {
    customer: i64,
    identifier: i64,
    conversation: i64,
    message: i64,
    event: i64,
}

struct Ctx {
    now: i64,
    run: u64,
    accounts: [i64; 6],
    bench_user: i64,
    bases: Bases,
    existing: HashSet<String>,
    customers: usize,
    messages: usize,
    big_messages: usize,
}

struct Produced {
    customers: i64,
    messages: i64,
    big_conversation_id: i64,
}

struct Ident {
    kind: IdentifierKind,
    value: String,
    label: String,
}

struct Cust {
    name: String,
    preferred: Option<ChannelKind>,
    idents: Vec<Ident>,
}

/// One planned message; everything else about it is derived from its id.
#[derive(Clone, Copy)]
struct Msg {
    at: i64,
    cust: u32,
    thread: u32,
    slot: u8,
    flags: u8,
}
const OUT: u8 = 1;
const FIRST: u8 = 2;

/// Per-customer summary, computed from the time-ordered messages.
#[derive(Clone)]
struct Sum {
    first_at: i64,
    last: usize,
    last_in_at: Option<i64>,
    last_in_ch: Option<ChannelKind>,
    last_out_ch: Option<ChannelKind>,
    mask: i64,
    ident_last_in: [Option<i64>; 4],
}

#[derive(Debug)]
struct Stopped;
impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("loading stopped")
    }
}

fn produce(mut ctx: Ctx, tx: mpsc::Sender<Batch>) -> Result<Produced, Stopped> {
    let t0 = Instant::now();
    let mut rng = Rng::new(0x5eed_c0de_2026);
    let n = ctx.customers;
    let big = n - 1;
    let now = ctx.now;
    let b = ctx.bases;

    // How many messages each customer gets: at least one, log-normally skewed.
    let mut counts = vec![1usize; n];
    counts[big] = ctx.big_messages;
    let others = n - 1;
    if others > 0 {
        let total = ctx.messages.saturating_sub(ctx.big_messages).max(others);
        let extra = total - others;
        let weights: Vec<f64> = (0..others).map(|_| (rng.normal() * 1.1).exp()).collect();
        let sum: f64 = weights.iter().sum();
        let mut assigned = 0usize;
        for (c, w) in counts.iter_mut().zip(&weights) {
            let e = (extra as f64 * w / sum).floor() as usize;
            *c += e;
            assigned += e;
        }
        while assigned < extra {
            counts[rng.below(others as u64) as usize] += 1;
            assigned += 1;
        }
    }

    // Customers and their identifiers.
    let mut phone_counter: u64 = 1_000_000;
    let mut custs = Vec::with_capacity(n);
    for i in 0..n {
        let cid = b.customer + i as i64;
        if i == big {
            let phone = next_phone(&mut phone_counter, &ctx.existing);
            let email = unique_value(
                &mut ctx,
                IdentifierKind::Email,
                format!("bench.big.history.{cid}@example.com"),
            );
            let tg = unique_value(
                &mut ctx,
                IdentifierKind::Telegram,
                format!("{}", 600_000_000 + cid),
            );
            custs.push(Cust {
                name: BIG_NAME.to_string(),
                preferred: Some(ChannelKind::Whatsapp),
                idents: vec![
                    Ident {
                        kind: IdentifierKind::Email,
                        label: email.clone(),
                        value: email,
                    },
                    Ident {
                        kind: IdentifierKind::Phone,
                        label: phone_label(&phone),
                        value: phone.clone(),
                    },
                    Ident {
                        kind: IdentifierKind::Whatsapp,
                        label: phone_label(&phone),
                        value: phone,
                    },
                    Ident {
                        kind: IdentifierKind::Telegram,
                        label: tg.clone(),
                        value: tg,
                    },
                ],
            });
            continue;
        }
        let first = FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[rng.below(LAST_NAMES.len() as u64) as usize];
        let k = match rng.below(100) {
            0..=49 => 1,
            50..=84 => 2,
            _ => 3,
        };
        let mut kinds: Vec<IdentifierKind> = Vec::with_capacity(k);
        while kinds.len() < k {
            let kind = pick_kind(&mut rng);
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        let mut phone: Option<String> = None;
        let mut idents = Vec::with_capacity(k);
        for kind in kinds {
            let (value, label) = match kind {
                IdentifierKind::Email => {
                    let local = format!("{}.{}.{cid}", first.to_lowercase(), last.to_lowercase());
                    let v = unique_value(&mut ctx, kind, format!("{local}@example.com"));
                    let label = if v.starts_with(&local) {
                        format!("{first}.{last}.{cid}@example.com")
                    } else {
                        v.clone()
                    };
                    (v, label)
                }
                IdentifierKind::Phone | IdentifierKind::Whatsapp => {
                    // A customer with both uses the same number for SMS and WhatsApp.
                    let p = phone
                        .get_or_insert_with(|| next_phone(&mut phone_counter, &ctx.existing))
                        .clone();
                    (p.clone(), phone_label(&p))
                }
                IdentifierKind::Messenger => {
                    let v = unique_value(&mut ctx, kind, format!("25{cid:012}"));
                    (v.clone(), v)
                }
                IdentifierKind::Instagram => {
                    let v = unique_value(&mut ctx, kind, format!("1784{cid:012}"));
                    (v.clone(), v)
                }
                IdentifierKind::Telegram => {
                    let v = unique_value(&mut ctx, kind, format!("{}", 600_000_000 + cid));
                    (v.clone(), v)
                }
            };
            idents.push(Ident { kind, value, label });
        }
        let preferred = if rng.chance(0.2) {
            Some(channel_of(idents[0].kind))
        } else {
            None
        };
        custs.push(Cust {
            name: format!("{first} {last}"),
            preferred,
            idents,
        });
    }

    // Messages: threads of a few messages on one channel, spread over each customer's history.
    let total_msgs: usize = counts.iter().sum();
    let mut msgs: Vec<Msg> = Vec::with_capacity(total_msgs);
    for (i, &k) in counts.iter().enumerate() {
        let nslots = custs[i].idents.len() as u64;
        if i == big {
            gen_threads(
                &mut rng,
                i as u32,
                k - 1,
                now - SPAN,
                now,
                nslots,
                &mut msgs,
            );
            // Its newest message is an inbound WhatsApp one from a minute ago: top of the inbox.
            msgs.push(Msg {
                at: now - 45_000,
                cust: i as u32,
                thread: rng.next_u32(),
                slot: 2,
                flags: FIRST,
            });
        } else {
            let start = now - SPAN + rng.below((SPAN - DAY) as u64) as i64;
            gen_threads(&mut rng, i as u32, k, start, now, nslots, &mut msgs);
        }
    }
    msgs.sort_unstable_by_key(|m| (m.at, m.cust));

    let mut sums = vec![
        Sum {
            first_at: i64::MAX,
            last: 0,
            last_in_at: None,
            last_in_ch: None,
            last_out_ch: None,
            mask: 0,
            ident_last_in: [None; 4],
        };
        n
    ];
    for (idx, m) in msgs.iter().enumerate() {
        let s = &mut sums[m.cust as usize];
        let ch = channel_of(custs[m.cust as usize].idents[m.slot as usize].kind);
        if s.first_at == i64::MAX {
            s.first_at = m.at;
        }
        s.last = idx;
        s.mask |= ch.bit();
        if m.flags & OUT == 0 {
            s.last_in_at = Some(m.at);
            s.last_in_ch = Some(ch);
            s.ident_last_in[m.slot as usize] = Some(m.at);
        } else {
            s.last_out_ch = Some(ch);
        }
    }
    eprintln!(
        "seed: planned {} messages in {:.1} s",
        msgs.len(),
        t0.elapsed().as_secs_f64()
    );

    let customer_created =
        |i: usize| sums[i].first_at - (mix(b.customer as u64 + i as u64) % HOUR as u64) as i64;

    // customers
    let mut w = Writer::new(
        &tx,
        "customers",
        n,
        "INSERT INTO customers (id, name, preferred_channel, created_at, updated_at) VALUES ",
    );
    for (i, c) in custs.iter().enumerate() {
        let r = w.row();
        let _ = write!(r, "({},", b.customer + i as i64);
        lit(r, &c.name);
        r.push(',');
        opt_lit(r, c.preferred.map(|p| p.as_str()));
        let _ = write!(r, ",{},{})", customer_created(i), msgs[sums[i].last].at);
        w.end_row()?;
    }
    w.flush()?;

    // identifiers
    let total_idents: usize = custs.iter().map(|c| c.idents.len()).sum();
    let mut ident_start = Vec::with_capacity(n);
    let mut w = Writer::new(
        &tx,
        "identifiers",
        total_idents,
        "INSERT INTO identifiers (id, customer_id, kind, value, label, last_inbound_at, created_at) VALUES ",
    );
    let mut next_ident = b.identifier;
    for (i, c) in custs.iter().enumerate() {
        ident_start.push(next_ident);
        for (slot, id) in c.idents.iter().enumerate() {
            let r = w.row();
            let _ = write!(r, "({next_ident},{},", b.customer + i as i64);
            lit(r, id.kind.as_str());
            r.push(',');
            lit(r, &id.value);
            r.push(',');
            lit(r, &id.label);
            r.push(',');
            opt_num(r, sums[i].ident_last_in[slot]);
            let _ = write!(r, ",{})", customer_created(i));
            w.end_row()?;
            next_ident += 1;
        }
    }
    w.flush()?;

    // conversations
    let mut w = Writer::new(
        &tx,
        "conversations",
        n,
        "INSERT INTO conversations (id, customer_id, status, assignee_id, current_channel, last_activity_at, \
         last_inbound_at, last_inbound_channel, last_preview, last_channel, last_direction, channels_mask, created_at) VALUES ",
    );
    for (i, c) in custs.iter().enumerate() {
        let s = &sums[i];
        let last = msgs[s.last];
        let last_out = last.flags & OUT != 0;
        let last_ch = channel_of(c.idents[last.slot as usize].kind);
        let (status, assigned) = if i == big {
            ("open", true)
        } else {
            let awaiting = !last_out && now - last.at < 3 * DAY;
            let status = if awaiting {
                if rng.chance(0.85) {
                    "open"
                } else {
                    "pending"
                }
            } else {
                match rng.below(100) {
                    0..=21 => "open",
                    22..=39 => "pending",
                    _ => "resolved",
                }
            };
            (status, rng.chance(0.3))
        };
        let body = body_text(b.message + s.last as i64, last_out);
        let preview = app::domain::text::preview(&body, 140);
        let r = w.row();
        let _ = write!(
            r,
            "({},{},'{status}',",
            b.conversation + i as i64,
            b.customer + i as i64
        );
        opt_num(r, assigned.then_some(ctx.bench_user));
        r.push(',');
        opt_lit(r, s.last_out_ch.map(|c| c.as_str()));
        let _ = write!(r, ",{},", last.at);
        opt_num(r, s.last_in_at);
        r.push(',');
        opt_lit(r, s.last_in_ch.map(|c| c.as_str()));
        r.push(',');
        lit(r, &preview);
        let _ = write!(
            r,
            ",'{}','{}',{},{})",
            last_ch.as_str(),
            if last_out { "out" } else { "in" },
            s.mask,
            s.first_at
        );
        w.end_row()?;
    }
    w.flush()?;

    // messages
    let mut w = Writer::new(
        &tx,
        "messages",
        msgs.len(),
        "INSERT INTO messages (id, conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, \
         author_user_id, subject, body_text, provider_message_id, delivery_state, failure_reason, created_at, sent_at, \
         delivered_at, updated_at) VALUES ",
    );
    for (idx, m) in msgs.iter().enumerate() {
        let id = b.message + idx as i64;
        let ci = m.cust as usize;
        let kind = custs[ci].idents[m.slot as usize].kind;
        let ch = channel_of(kind);
        let out = m.flags & OUT != 0;
        let body = body_text(id, out);
        let r = w.row();
        let _ = write!(
            r,
            "({id},{},{},'{}','{}',{},{},",
            b.conversation + ci as i64,
            b.customer + ci as i64,
            if out { "out" } else { "in" },
            ch.as_str(),
            ctx.accounts[ch as usize],
            ident_start[ci] + m.slot as i64
        );
        opt_num(r, out.then_some(ctx.bench_user));
        r.push(',');
        if ch == ChannelKind::Email {
            let subject = SUBJECTS[(m.thread as usize) % SUBJECTS.len()];
            if m.flags & FIRST != 0 {
                lit(r, subject);
            } else {
                r.push_str("'Re: ");
                r.push_str(&subject.replace('\'', "''"));
                r.push('\'');
            }
        } else {
            r.push_str("NULL");
        }
        r.push(',');
        lit(r, &body);
        let h = mix(id as u64 ^ 0xde11_7e57);
        if !out {
            let _ = write!(
                r,
                ",'seed-{}-{id}','received',NULL,{},NULL,NULL,{})",
                ctx.run, m.at, m.at
            );
        } else {
            let sent_at = m.at + 500 + (h % 2500) as i64;
            match h % 100 {
                0..=1 => {
                    let _ = write!(
                        r,
                        ",NULL,'failed','The provider rejected the message (seeded failure)',{},NULL,NULL,{})",
                        m.at,
                        m.at + 5_000
                    );
                }
                2..=11 => {
                    let _ = write!(
                        r,
                        ",'seed-{}-{id}','sent',NULL,{},{sent_at},NULL,{sent_at})",
                        ctx.run, m.at
                    );
                }
                _ => {
                    let delivered = (sent_at + 1_000 + ((h >> 16) % 20_000) as i64).min(now);
                    let _ = write!(
                        r,
                        ",'seed-{}-{id}','delivered',NULL,{},{sent_at},{delivered},{delivered})",
                        ctx.run, m.at
                    );
                }
            }
        }
        w.end_row()?;
    }
    w.flush()?;

    // A few timeline events in the big conversation.
    let s = &sums[big];
    let first = s.first_at;
    let span = (msgs[s.last].at - first).max(1);
    let status = |st: &str| format!("{{\"status\":\"{st}\"}}");
    let events: Vec<(f64, &str, Option<&str>, String)> = vec![
        (
            0.05,
            "note",
            Some("Long-time customer. Prefers WhatsApp for quick questions, email for invoices."),
            "{}".into(),
        ),
        (0.20, "status", None, status("pending")),
        (0.35, "status", None, status("resolved")),
        (0.50, "status", None, status("open")),
        (
            0.65,
            "note",
            Some("Escalated the double charge to billing; they'll refund within 5 days."),
            "{}".into(),
        ),
        (0.80, "status", None, status("resolved")),
        (
            0.95,
            "note",
            Some("Checked the order history: no outstanding refunds or replacements."),
            "{}".into(),
        ),
        (0.999, "status", None, status("open")),
    ];
    let mut w = Writer::new(
        &tx,
        "events",
        events.len(),
        "INSERT INTO events (id, conversation_id, kind, actor_user_id, body, data, created_at) VALUES ",
    );
    for (j, (frac, kind, body, data)) in events.iter().enumerate() {
        let r = w.row();
        let _ = write!(
            r,
            "({},{},'{kind}',{},",
            b.event + j as i64,
            b.conversation + big as i64,
            ctx.bench_user
        );
        opt_lit(r, *body);
        r.push(',');
        lit(r, data);
        let _ = write!(r, ",{})", first + (span as f64 * frac) as i64);
        w.end_row()?;
    }
    w.flush()?;

    Ok(Produced {
        customers: n as i64,
        messages: msgs.len() as i64,
        big_conversation_id: b.conversation + big as i64,
    })
}

/// Appends `k` messages of customer `cust` in threads starting between `start` and `now`.
fn gen_threads(
    rng: &mut Rng,
    cust: u32,
    k: usize,
    start: i64,
    now: i64,
    nslots: u64,
    out: &mut Vec<Msg>,
) {
    // Threads that would run past `latest` are moved back to end somewhat before it, so the
    // newest activity is spread out (and the big conversation, at now - 45 s, is the newest).
    let latest = now - 2 * MINUTE;
    let mut left = k;
    while left > 0 {
        let mut len = 1;
        while len < 16 && rng.chance(0.68) {
            len += 1;
        }
        let len = len.min(left);
        let mut t = start + rng.below((latest - start).max(1) as u64) as i64;
        let slot = if nslots == 1 || rng.chance(0.6) {
            0
        } else {
            rng.below(nslots) as u8
        };
        let thread = rng.next_u32();
        let mut is_out = rng.chance(0.06);
        let from = out.len();
        for j in 0..len {
            if j > 0 {
                is_out = if is_out {
                    rng.chance(0.3)
                } else {
                    rng.chance(0.6)
                };
                t += if is_out {
                    rng.range(MINUTE, 3 * HOUR)
                } else {
                    rng.range(30_000, 12 * HOUR)
                };
            }
            let flags = (if is_out { OUT } else { 0 }) | (if j == 0 { FIRST } else { 0 });
            out.push(Msg {
                at: t,
                cust,
                thread,
                slot,
                flags,
            });
        }
        if t > latest {
            let shift = t - latest + rng.below(6 * HOUR as u64) as i64;
            for m in &mut out[from..] {
                m.at -= shift;
            }
        }
        left -= len;
    }
}

fn channel_of(kind: IdentifierKind) -> ChannelKind {
    match kind {
        IdentifierKind::Email => ChannelKind::Email,
        IdentifierKind::Phone => ChannelKind::Sms,
        IdentifierKind::Whatsapp => ChannelKind::Whatsapp,
        IdentifierKind::Messenger => ChannelKind::Messenger,
        IdentifierKind::Instagram => ChannelKind::Instagram,
        IdentifierKind::Telegram => ChannelKind::Telegram,
    }
}

fn pick_kind(rng: &mut Rng) -> IdentifierKind {
    match rng.below(100) {
        0..=33 => IdentifierKind::Email,
        34..=59 => IdentifierKind::Phone,
        60..=79 => IdentifierKind::Whatsapp,
        80..=87 => IdentifierKind::Messenger,
        88..=94 => IdentifierKind::Instagram,
        _ => IdentifierKind::Telegram,
    }
}

fn ident_key(kind: &str, value: &str) -> String {
    format!("{kind}\u{0}{value}")
}

/// `candidate`, or a run-specific variant of it when the database already has that value.
fn unique_value(ctx: &mut Ctx, kind: IdentifierKind, candidate: String) -> String {
    if ctx.existing.is_empty() || !ctx.existing.contains(&ident_key(kind.as_str(), &candidate)) {
        return candidate;
    }
    let mut attempt = 0u64;
    loop {
        let v = match kind {
            IdentifierKind::Email => {
                let (local, domain) = candidate
                    .rsplit_once('@')
                    .unwrap_or((&candidate, "example.com"));
                format!("{local}.r{}{attempt}@{domain}", ctx.run)
            }
            _ => format!("{candidate}{}{attempt}", ctx.run),
        };
        let key = ident_key(kind.as_str(), &v);
        if !ctx.existing.contains(&key) {
            ctx.existing.insert(key);
            return v;
        }
        attempt += 1;
    }
}

/// The next unused `+1555xxxxxxx` number (for both the phone and the WhatsApp kinds).
fn next_phone(counter: &mut u64, existing: &HashSet<String>) -> String {
    for _ in 0..10_000_000u64 {
        let v = format!("+1555{:07}", *counter % 10_000_000);
        *counter += 1;
        if existing.is_empty()
            || !(existing.contains(&ident_key("phone", &v))
                || existing.contains(&ident_key("whatsapp", &v)))
        {
            return v;
        }
    }
    panic!("all +1555 phone numbers are taken");
}

fn phone_label(v: &str) -> String {
    // +1555NNNNNNN -> +1 555 NNN NNNN
    format!("+1 555 {} {}", &v[5..8], &v[8..])
}

// ---------------------------------------------------------------------------------------------
// SQL rendering.

struct Writer<'a> {
    tx: &'a mpsc::Sender<Batch>,
    table: &'static str,
    total: usize,
    header: &'static str,
    buf: String,
    rows: usize,
}

impl<'a> Writer<'a> {
    fn new(
        tx: &'a mpsc::Sender<Batch>,
        table: &'static str,
        total: usize,
        header: &'static str,
    ) -> Self {
        Writer {
            tx,
            table,
            total,
            header,
            buf: String::new(),
            rows: 0,
        }
    }

    /// Starts a row; the caller appends `( ... )`.
    fn row(&mut self) -> &mut String {
        if self.rows == 0 {
            self.buf.reserve(ROWS_PER_INSERT * 256);
            self.buf.push_str(self.header);
        } else {
            self.buf.push(',');
        }
        self.rows += 1;
        &mut self.buf
    }

    fn end_row(&mut self) -> Result<(), Stopped> {
        if self.rows >= ROWS_PER_INSERT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Stopped> {
        if self.rows > 0 {
            let sql = std::mem::take(&mut self.buf);
            let batch = Batch {
                table: self.table,
                rows: self.rows,
                total: self.total,
                sql,
            };
            self.rows = 0;
            self.tx.blocking_send(batch).map_err(|_| Stopped)?;
        }
        Ok(())
    }
}

/// Appends `s` as an SQL string literal.
fn lit(out: &mut String, s: &str) {
    out.push('\'');
    if s.contains('\'') {
        out.push_str(&s.replace('\'', "''"));
    } else {
        out.push_str(s);
    }
    out.push('\'');
}

fn opt_lit(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => lit(out, s),
        None => out.push_str("NULL"),
    }
}

fn opt_num(out: &mut String, n: Option<i64>) {
    match n {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("NULL"),
    }
}

// ---------------------------------------------------------------------------------------------
// Text.

/// A message body of 20 to 400 characters, derived from the message id.
fn body_text(id: i64, out: bool) -> String {
    let salt: u64 = if out { 0xA5A5 << 40 } else { 0x5A5A << 40 };
    let mut rng = Rng::new(id as u64 ^ salt);
    let target = 20 + (rng.unit().powf(1.8) * 380.0) as usize;
    let sentences: &[&str] = if out { OUT_SENTENCES } else { IN_SENTENCES };
    let mut s = String::with_capacity(target + 80);
    if out && rng.chance(0.4) {
        s.push_str(GREETINGS[rng.below(GREETINGS.len() as u64) as usize]);
    }
    while s.len() < target {
        if !s.is_empty() {
            s.push(' ');
        }
        let sentence = sentences[rng.below(sentences.len() as u64) as usize];
        match sentence.split_once("#ORDER") {
            Some((a, b)) => {
                s.push_str(a);
                let _ = write!(s, "#{}", rng.range(10_000, 99_999));
                s.push_str(b);
            }
            None => s.push_str(sentence),
        }
    }
    if s.len() > 400 {
        // ASCII only, so byte and char positions agree.
        let cut = s[..397].rfind(' ').unwrap_or(397);
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

const GREETINGS: &[&str] = &[
    "Hi there!",
    "Hello!",
    "Hi,",
    "Good morning!",
    "Thanks for your message.",
];

const IN_SENTENCES: &[&str] = &[
    "Hi, I ordered a blue rain jacket last week and it still has not arrived.",
    "My order #ORDER shows as delivered but there is nothing at my door.",
    "Can you tell me when the store on Main Street opens on Sunday?",
    "I'd like to change the delivery address for order #ORDER.",
    "The package arrived damaged, the box was completely crushed.",
    "Thanks, that worked perfectly!",
    "Is there any discount for ordering more than ten units?",
    "I was charged twice for the same purchase, can you check?",
    "How do I reset the password on my account?",
    "The size guide says medium but it feels much smaller than expected.",
    "Could you send me the invoice as a PDF?",
    "I'm still waiting for a reply about my refund.",
    "Do you ship to Canada, and how long does it usually take?",
    "The tracking link you sent me doesn't work.",
    "Great, thank you so much for the quick help.",
    "Can I return an item I bought on sale?",
    "The app keeps logging me out every time I open it.",
    "I never received the confirmation email for my booking.",
    "Please cancel my subscription at the end of this month.",
    "What's the warranty on the coffee grinder?",
    "Ok, I'll wait for the courier tomorrow morning.",
    "My promo code says it's expired but the newsletter says it's valid until Friday.",
    "Hello? Is anyone there?",
    "I need to speak to someone about a wrong item in order #ORDER.",
    "The replacement fits much better, thanks again.",
    "Can I pick up my order at the store instead of having it delivered?",
];

const OUT_SENTENCES: &[&str] = &[
    "Thanks for reaching out!",
    "I'm sorry to hear that, let me look into it right away.",
    "I've checked order #ORDER and it left our warehouse yesterday.",
    "You should receive it within two to three business days.",
    "I've issued a full refund, it can take up to five days to show on your statement.",
    "Could you send me a photo of the damaged item?",
    "I've updated the delivery address on your order.",
    "Our stores open at 10 am on Sundays.",
    "Here is a new tracking link for your parcel.",
    "I've reset your account, you should get an email in a few minutes.",
    "Is there anything else I can help you with today?",
    "We ship to Canada, delivery usually takes five to eight business days.",
    "Returns of sale items are accepted within 30 days as long as they're unused.",
    "I've forwarded this to our billing team and they'll get back to you by tomorrow.",
    "The warranty covers two years from the date of purchase.",
    "Your subscription will be cancelled at the end of the current billing period.",
    "Thanks for your patience while we sorted this out.",
    "I've applied the discount manually to order #ORDER.",
    "Have a great day!",
    "Just following up to see whether the issue is resolved.",
    "Store pickup is free, your order will be ready in about two hours.",
];

const SUBJECTS: &[&str] = &[
    "Where is my order?",
    "Refund request",
    "Damaged item",
    "Question about sizes",
    "Change of address",
    "Invoice needed",
    "Account access",
    "Subscription",
    "Wrong item received",
    "Promo code not working",
    "Store opening hours",
    "Shipping to Canada",
    "Customer's feedback",
];

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Edsger",
    "Hedy",
    "Tim",
    "Katherine",
    "Donald",
    "Sophie",
    "Niklaus",
    "Karen",
    "Bjarne",
    "Mary",
    "Guido",
    "Anita",
    "James",
    "Lynn",
    "Brian",
    "Shafi",
    "Leslie",
    "Adele",
    "Robin",
    "Carol",
    "Vint",
    "Jean",
    "Marvin",
    "Elena",
    "Mateo",
    "Aisha",
    "Yuki",
    "Priya",
    "Omar",
    "Lena",
    "Diego",
    "Chloe",
    "Noah",
    "Fatima",
    "Lucas",
    "Ingrid",
    "Kwame",
    "Mei",
    "Pablo",
    "Zara",
    "Hugo",
    "Nadia",
    "Tomas",
    "Amara",
    "Felix",
    "Sana",
    "Ivan",
    "Leila",
    "Oscar",
    "Maya",
    "Rafael",
    "Nora",
    "Emil",
];

const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Backus",
    "Perlman",
    "Dijkstra",
    "Lamarr",
    "Lee",
    "Johnson",
    "Knuth",
    "Wilson",
    "Wirth",
    "Jones",
    "Stroustrup",
    "Keller",
    "Rossum",
    "Borg",
    "Gosling",
    "Conway",
    "Kernighan",
    "Goldwasser",
    "Lamport",
    "Goldberg",
    "Milner",
    "Shaw",
    "Cerf",
    "Bartik",
    "Minsky",
    "Garcia",
    "Martinez",
    "Okafor",
    "Tanaka",
    "Patel",
    "Haddad",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Nguyen",
    "Khan",
    "Silva",
    "Larsen",
    "Mensah",
    "Chen",
    "Ortiz",
    "Ahmed",
    "Moreau",
    "Petrov",
    "Novak",
    "Eze",
    "Fischer",
    "Ali",
    "Ivanova",
    "Mansour",
    "Berg",
    "Costa",
    "Romero",
    "Olsen",
    "O'Brien",
];

// ---------------------------------------------------------------------------------------------
// A small deterministic PRNG (SplitMix64): fast, and the data set is the same on every run.

struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(mix(seed))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_between_20_and_400_chars() {
        for id in 0..5_000 {
            for out in [false, true] {
                let b = body_text(id, out);
                let n = b.chars().count();
                assert!((20..=400).contains(&n), "{n}: {b}");
                assert_eq!(b, body_text(id, out), "bodies are deterministic");
            }
        }
    }

    #[test]
    fn literals_are_escaped() {
        let mut s = String::new();
        lit(&mut s, "it's");
        assert_eq!(s, "'it''s'");
        opt_lit(&mut s, None);
        assert_eq!(s, "'it''s'NULL");
    }

    #[test]
    fn phones_are_unique_and_normalised() {
        let mut existing = HashSet::new();
        existing.insert(ident_key("phone", "+15551000001"));
        let mut c = 1_000_000;
        let a = next_phone(&mut c, &existing);
        let b = next_phone(&mut c, &existing);
        assert_eq!(a, "+15551000000");
        assert_eq!(b, "+15551000002");
        assert_eq!(
            IdentifierKind::Phone.normalize(&phone_label(&b)).unwrap(),
            b
        );
    }

    #[test]
    fn threads_stay_in_the_past() {
        let mut rng = Rng::new(1);
        let now = 1_800_000_000_000;
        let mut out = Vec::new();
        gen_threads(&mut rng, 0, 500, now - SPAN, now, 3, &mut out);
        assert_eq!(out.len(), 500);
        assert!(out
            .iter()
            .all(|m| m.at < now && m.at >= now - SPAN - 60 * DAY && m.slot < 3));
    }
}
