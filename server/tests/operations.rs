//! Operations: several server processes on one database, mail that is never late, inbound
//! retries that wait, leases.
//!
//! - `mail_timing`: the IDLE race (mail announced mid-import) and a server that never
//!   announces, both on [`ScriptedImap`](crate::support::scripted_imap::ScriptedImap).
//! - `metrics`: `/metrics` behind its token, following webhooks and live streams.
//! - `processes`: three server processes on one PostgreSQL database share a real Dovecot
//!   mailbox: one IMAP session at a time, failover after kill -9, nothing twice.
//! - `account`: passwords and sessions, the user's and the admin's.
//! - `audit`: the audit trail through the HTTP edge: what is recorded, filters, CSV, who may.
//! - `backup`: `server backup` under webhook load, restored and checked.
//! - `two_factor`: TOTP set-up, the second sign-in step, recovery codes, the policy, resets.
//! - this file: the lease and retry rules in storage, on both engines.

mod account;
mod audit;
mod backup;
mod mail_timing;
mod metrics;
mod processes;
mod two_factor;

use crate::support::TestApp;
use app::domain::ChannelKind;
use app::store::{channel_accounts, leases, raw_inbound, Db};
use serde_json::{json, Value};

both_engines!(
    a_lease_has_one_holder_until_it_expires,
    a_payload_goes_to_one_process_and_failures_wait_longer_each_time,
);

async fn a_lease_has_one_holder_until_it_expires(db: Db) {
    let t = 1_000_000;
    assert!(leases::hold(&db, "mailbox:1", "a", t, 20_000)
        .await
        .unwrap());
    assert!(
        !leases::hold(&db, "mailbox:1", "b", t + 1_000, 20_000)
            .await
            .unwrap(),
        "b cannot take a running lease"
    );
    assert!(
        leases::hold(&db, "mailbox:1", "a", t + 10_000, 20_000)
            .await
            .unwrap(),
        "the holder renews"
    );
    // Renewed at t+10 s: still a's at t+25 s, free at t+30 s.
    assert!(!leases::hold(&db, "mailbox:1", "b", t + 25_000, 20_000)
        .await
        .unwrap());
    assert_eq!(
        leases::holder_of(&db, "mailbox:1", t + 25_000)
            .await
            .unwrap()
            .as_deref(),
        Some("a")
    );
    assert!(leases::hold(&db, "mailbox:1", "b", t + 30_000, 20_000)
        .await
        .unwrap());
    assert!(
        !leases::hold(&db, "mailbox:1", "a", t + 31_000, 20_000)
            .await
            .unwrap(),
        "a lost it"
    );
    // Another name is another lease; release frees at once, and only for the holder.
    assert!(leases::hold(&db, "snooze", "a", t, 20_000).await.unwrap());
    leases::release(&db, "mailbox:1", "a").await.unwrap();
    assert!(!leases::hold(&db, "mailbox:1", "c", t + 32_000, 20_000)
        .await
        .unwrap());
    leases::release(&db, "mailbox:1", "b").await.unwrap();
    assert!(leases::hold(&db, "mailbox:1", "c", t + 32_000, 20_000)
        .await
        .unwrap());
    assert_eq!(leases::release_all(&db, "a").await.unwrap(), 1);
    assert_eq!(leases::holder_of(&db, "snooze", t).await.unwrap(), None);
}

async fn a_payload_goes_to_one_process_and_failures_wait_longer_each_time(db: Db) {
    let acc = channel_accounts::create(
        &db,
        ChannelKind::Telegram,
        "telegram",
        "Bot",
        "bot",
        &json!({}),
        &json!({}),
    )
    .await
    .unwrap();
    let raw_inbound::Stored::New(id) =
        raw_inbound::store(&db, acc, "u-1", "application/json", b"{}")
            .await
            .unwrap()
    else {
        panic!("new payload")
    };
    let now = app::store::now_ms();
    // Two processes ask at once: one gets the payload.
    let (a, b) = tokio::join!(
        raw_inbound::claim(&db, now, 10),
        raw_inbound::claim(&db, now, 10)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 1, "claimed by exactly one");
    // Claimed: nobody else gets it until the claim runs out.
    assert!(raw_inbound::claim(&db, now + 1_000, 10)
        .await
        .unwrap()
        .is_empty());
    // Each passing failure waits longer than the one before; none retries within 100 ms.
    let mut waits = Vec::new();
    for attempt in 0..raw_inbound::MAX_ATTEMPTS - 1 {
        raw_inbound::mark_error(&db, id, "database restarting", false)
            .await
            .unwrap();
        let at = app::store::now_ms();
        let due: i64 = sqlx::query_scalar("SELECT next_attempt_at FROM raw_inbound WHERE id = $1")
            .bind(id)
            .fetch_one(&db.read)
            .await
            .unwrap();
        let wait = due - at;
        waits.push(wait);
        assert!(
            raw_inbound::claim(&db, at + wait - 1_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "attempt {attempt}: not before its wait ({wait} ms)"
        );
        let got = raw_inbound::claim(&db, due + 1, 10).await.unwrap();
        assert_eq!(got.len(), 1, "attempt {attempt}: due after {wait} ms");
        assert_eq!(got[0].attempts, attempt + 1);
    }
    assert!(
        waits[0] >= 4_000,
        "the first retry waits seconds: {waits:?}"
    );
    assert!(
        // (each wait is read a moment after it was set: allow the difference)
        waits.windows(2).all(|w| w[1] + 1_000 >= w[0]),
        "waits grow: {waits:?}"
    );
    assert!(
        waits.iter().sum::<i64>() > 3_600_000,
        "retried for over an hour in all: {waits:?}"
    );
    // The last attempt fails it for a person to see and retry.
    raw_inbound::mark_error(&db, id, "database restarting", false)
        .await
        .unwrap();
    let (state, error) = raw_inbound::state_of(&db, id).await.unwrap();
    assert_eq!(
        (state.as_str(), error.as_deref()),
        ("failed", Some("database restarting"))
    );
    raw_inbound::retry(&db, id).await.unwrap();
    assert_eq!(
        raw_inbound::claim(&db, app::store::now_ms(), 10)
            .await
            .unwrap()
            .len(),
        1,
        "a person's retry is due at once"
    );
}

/// One page of the audit trail as the admin client `c` reads it (`form`: the filter).
pub(crate) async fn trail(app: &TestApp, c: &reqwest::Client, form: &[(&str, &str)]) -> Value {
    let r = app.call(c, "/api/admin/audit", form).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The stored action names of a trail page, newest first.
pub(crate) fn actions(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}
