//! Mail that is never late. Both races are made certain with a scripted server: a message that
//! arrives while the worker downloads others is announced once, inside the FETCH response, and
//! never again in IDLE; a server may also never announce a message at all. The worker must
//! read the first before it starts IDLE, and find the second by its periodic search.

use crate::support::email::{mail, settings, PASSWORD, SUPPORT};
use crate::support::scripted_imap::ScriptedImap;
use app::domain::ChannelKind;
use app::ssr::live::Hub;
use app::store::{channel_accounts, Db};
use serde_json::json;
use server::channels::email::sync::{run_mailbox, SyncContext, SyncOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

both_engines!(
    mail_announced_during_an_import_is_read_before_idle,
    mail_the_server_never_announces_waits_no_longer_than_the_reconciliation,
);

async fn account(db: &Db, port: u16) -> i64 {
    channel_accounts::create(
        db,
        ChannelKind::Email,
        "email",
        "Support mailbox",
        SUPPORT,
        &serde_json::to_value(settings(port, 1, "INBOX")).unwrap(),
        &json!({ "imap_password": PASSWORD, "smtp_password": "" }),
    )
    .await
    .unwrap()
}

fn options(reconcile: Duration) -> SyncOptions {
    SyncOptions {
        command_timeout: Duration::from_secs(5),
        // Long enough that only the fix (or the reconciliation) can bring the message in.
        idle_timeout: Duration::from_secs(600),
        reconcile_interval: reconcile,
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        ..SyncOptions::default()
    }
}

async fn stored(db: &Db, account: i64) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1")
        .bind(account)
        .fetch_one(&db.read)
        .await
        .unwrap()
}

/// Waits up to `limit` for `n` stored payloads; answers how long it took.
async fn wait_stored(db: &Db, account: i64, n: i64, limit: Duration, what: &str) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if stored(db, account).await >= n {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{what}: {} of {n} messages stored after {limit:?}",
        stored(db, account).await
    );
}

fn message(n: u32) -> Vec<u8> {
    mail(
        &format!("customer{n}@example.com"),
        &format!("Question {n}"),
        Some(&format!("q{n}@example.com")),
        "",
        "Hello",
    )
}

async fn mail_announced_during_an_import_is_read_before_idle(db: Db) {
    let imap = ScriptedImap::start(vec![message(1), message(2)]).await;
    // Lands while the worker downloads the first two; the server says so once, mid-FETCH.
    imap.arrive_mid_import(message(3));
    let acc = account(&db, imap.port).await;
    let worker = tokio::spawn(run_mailbox(
        SyncContext {
            db: db.clone(),
            hub: Hub::new(&db),
            inbound: Arc::new(tokio::sync::Notify::new()),
            opts: options(Duration::from_secs(600)),
            shown: Default::default(),
        },
        acc,
    ));
    let took = wait_stored(
        &db,
        acc,
        3,
        Duration::from_secs(10),
        "the message announced mid-import",
    )
    .await;
    // It was read before the worker went idle: the first IDLE comes after all three.
    let deadline = Instant::now() + Duration::from_secs(5);
    while imap.idles() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(imap.idles(), 1, "idle once everything was read ({took:?})");
    assert_eq!(stored(&db, acc).await, 3, "each message once");
    assert_eq!(imap.logins(), 1, "one session did it all");
    worker.abort();
}

async fn mail_the_server_never_announces_waits_no_longer_than_the_reconciliation(db: Db) {
    let imap = ScriptedImap::start(vec![message(1)]).await;
    let acc = account(&db, imap.port).await;
    let reconcile = Duration::from_secs(2);
    let worker = tokio::spawn(run_mailbox(
        SyncContext {
            db: db.clone(),
            hub: Hub::new(&db),
            inbound: Arc::new(tokio::sync::Notify::new()),
            opts: options(reconcile),
            shown: Default::default(),
        },
        acc,
    ));
    wait_stored(&db, acc, 1, Duration::from_secs(10), "the first message").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while imap.idles() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(imap.idles() >= 1, "the worker is idle");
    imap.arrive_silently(message(2));
    let took = wait_stored(
        &db,
        acc,
        2,
        reconcile + Duration::from_secs(3),
        "the unannounced message",
    )
    .await;
    assert!(
        took <= reconcile + Duration::from_secs(2),
        "found by the periodic search within {reconcile:?} (took {took:?})"
    );
    assert_eq!(imap.logins(), 1, "without reconnecting");
    worker.abort();
}
