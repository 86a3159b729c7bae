//! Campaigns across real server processes against the Twilio stand-in (in this process): a
//! server killed with `kill -9` in the middle of a campaign and started again, and two
//! servers on one database at once. Each customer must get the campaign's SMS exactly once.

use crate::support::messages::wait_for;
use crate::support::processes::{free_port, spawn_server, Guarded};
use crate::support::twilio::{create_account, TOKEN};
use crate::support::{test_db, Engine, TestDb};
use app::domain::campaign::{Definition, Step, Strategy};
use app::domain::consent::Purpose;
use app::domain::{ChannelKind, IdentifierKind, Role};
use app::ports::InboundMessage;
use app::service::campaigns as svc;
use app::service::search::Searcher;
use app::store::{channel_accounts, now_ms, users};
use sqlx::Row;
use standin::{Fault, Running};
use std::collections::HashMap;

both_engines!(a_server_killed_mid_campaign_sends_each_customer_one_sms,);

#[test]
fn two_servers_on_postgres_send_each_customer_one_sms() {
    if std::env::var("CONVERGENCE_TEST_POSTGRES_URL").is_err() {
        eprintln!("skipped: CONVERGENCE_TEST_POSTGRES_URL is not set");
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(two_servers(Engine::Postgres));
}

const CUSTOMERS: usize = 120;

struct World {
    t: TestDb,
    si: Running,
    dir: std::path::PathBuf,
    campaign: i64,
    phones: Vec<String>,
}

impl World {
    async fn new(engine: Engine, tag: &str) -> World {
        let t = test_db(engine).await;
        let si = standin::spawn("127.0.0.1:0").await.unwrap();
        let db = &t.db;
        let acc = create_account(db, &si.base_url, TOKEN).await;
        let account = channel_accounts::get(db, acc).await.unwrap();
        let author =
            users::create_user(db, "m1@example.com", "Mia", Role::Marketing, "password-123")
                .await
                .unwrap();
        let approver =
            users::create_user(db, "m2@example.com", "Max", Role::Marketing, "password-123")
                .await
                .unwrap();
        let mut phones = Vec::new();
        for i in 0..CUSTOMERS {
            let phone = format!("+1415555{:04}", 3000 + i);
            app::service::ingest::ingest_message(
                db,
                &account,
                None,
                &InboundMessage {
                    identifier_kind: IdentifierKind::Phone,
                    identifier: phone.clone(),
                    display_name: Some(format!("Customer {i}")),
                    provider_message_id: format!("SMin{i:030}"),
                    subject: None,
                    body_text: "hello".into(),
                    body_html: None,
                    received_at: now_ms(),
                    thread: Default::default(),
                    automatic: false,
                    meta: None,
                    attachments: Vec::new(),
                    media: Vec::new(),
                },
            )
            .await
            .unwrap();
            phones.push(phone);
        }
        let def = Definition {
            topic: Purpose::Support,
            audience: Default::default(),
            steps: vec![Step {
                sms: "Your order {{customer.first_name}}: the shop is closed on Monday.".into(),
                ..Step::default()
            }],
            strategy: Strategy::at_once(vec![ChannelKind::Sms]),
        };
        let who = |user| Searcher {
            user_id: user,
            zone: "UTC",
            region: "US",
        };
        let campaign = svc::create(db, author, "Closed Monday", &def)
            .await
            .unwrap();
        svc::approve(db, &who(approver), campaign).await.unwrap();
        svc::start(db, &who(author), campaign, None).await.unwrap();
        let dir = std::env::temp_dir().join(format!(
            "convergence_campaign_{tag}_{}_{}",
            std::process::id(),
            campaign + i64::from(matches!(engine, Engine::Postgres)) * 1_000_000
        ));
        std::fs::create_dir_all(&dir).unwrap();
        World {
            t,
            si,
            dir,
            campaign,
            phones,
        }
    }

    /// The server binary on this world's database, in a process group of its own.
    fn spawn(&self, n: usize) -> Guarded {
        spawn_server(&self.t.db.url, &self.dir, free_port(), n)
    }

    fn log(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("server-{n}.log"))).unwrap_or_default()
    }

    /// Messages the stand-in created, by recipient.
    fn created_by_recipient(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for r in self.si.state.requests(Some("twilio")) {
            if r.method == "POST" && r.path.ends_with("/Messages.json") {
                let to = url_param(&r.body, "To").unwrap_or_default();
                *out.entry(to).or_default() += 1;
            }
        }
        out
    }

    async fn status(&self) -> String {
        sqlx::query("SELECT status FROM campaigns WHERE id = $1")
            .bind(self.campaign)
            .fetch_one(&self.t.db.read)
            .await
            .unwrap()
            .get("status")
    }

    async fn wait_done(&self, logs: &[usize]) {
        let w = self;
        let logs = logs.to_vec();
        wait_for("the campaign to end", 120, || {
            let logs = logs.clone();
            async move {
                let s = w.status().await;
                if s == "done" {
                    return Some(());
                }
                assert_ne!(
                    s,
                    "cancelled",
                    "{}",
                    logs.iter().map(|n| w.log(*n)).collect::<String>()
                );
                None
            }
        })
        .await;
    }

    /// Every customer's SMS reached the stand-in (and a moment more for any second one).
    async fn wait_all_sent(&self) {
        let w = self;
        wait_for("every SMS to leave", 60, || async move {
            let n: usize = w.created_by_recipient().values().sum();
            (n >= CUSTOMERS).then_some(())
        })
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }

    /// Each customer: one campaign message, one SMS at the provider.
    async fn assert_once(&self) {
        let per: Vec<i64> = sqlx::query_scalar(
            "SELECT COUNT(*) FROM campaign_messages WHERE campaign_id = $1 GROUP BY customer_id",
        )
        .bind(self.campaign)
        .fetch_all(&self.t.db.read)
        .await
        .unwrap();
        assert_eq!(per.len(), CUSTOMERS);
        assert!(per.iter().all(|n| *n == 1), "{per:?}");
        let sent = self.created_by_recipient();
        for p in &self.phones {
            assert_eq!(sent.get(p).copied(), Some(1), "SMS to {p}: {sent:?}");
        }
        assert_eq!(sent.len(), CUSTOMERS);
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The raw (form-encoded) value of `key` in a form body: an E.164 number's `+` is `%2B`.
fn url_param(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.replace("%2B", "+"))
    })
}

async fn a_server_killed_mid_campaign_sends_each_customer_one_sms(engine: Engine) {
    let w = World::new(engine, "kill").await;
    // The provider answers slowly for a while, so the kill lands mid-campaign with sends in
    // flight.
    w.si.state.add_fault(Fault {
        provider: "twilio".into(),
        status: 0,
        body: String::new(),
        hang_ms: 300,
        times: 30,
        ..Default::default()
    });
    let mut first = w.spawn(1);
    let ww = &w;
    wait_for("a few SMS to reach the stand-in", 60, || async move {
        let n: usize = ww.created_by_recipient().values().sum();
        (n >= 5).then_some(())
    })
    .await;
    first.kill();
    let before: usize = w.created_by_recipient().values().sum();
    assert!(before < CUSTOMERS, "killed mid-campaign ({before} sent)");
    let mut second = w.spawn(2);
    w.wait_done(&[1, 2]).await;
    // The outbox drains after the campaign's last recipient is queued.
    w.wait_all_sent().await;
    second.kill();
    w.assert_once().await;
}

async fn two_servers(engine: Engine) {
    let w = World::new(engine, "two").await;
    let mut a = w.spawn(1);
    let mut b = w.spawn(2);
    w.wait_done(&[1, 2]).await;
    w.wait_all_sent().await;
    a.kill();
    b.kill();
    w.assert_once().await;
}
