//! The outbox across real processes: the server binary is spawned against a database and the
//! Twilio stand-in (in this process), the stand-in holds the send, and the server is killed
//! with `kill -9` (then restarted) or stopped with SIGTERM. The stand-in must receive the send
//! at most once, and the message must end reconciled (sent, with the provider's id).

use crate::support::messages::{message_by_id, wait_for};
use crate::support::processes::{free_port, spawn_server, Guarded};
use crate::support::twilio::{create_account, SID, TOKEN};
use crate::support::{test_db, Engine, TestDb};
use app::domain::{IdentifierKind, Role};
use app::ports::InboundMessage;
use app::service;
use app::store::{channel_accounts, users};
use sqlx::Row;
use standin::{Fault, Running};
use std::time::{Duration, Instant};

both_engines!(
    a_kill_with_a_send_in_flight_sends_it_at_most_once,
    sigterm_lets_the_send_in_flight_finish,
);

struct World {
    t: TestDb,
    si: Running,
    mid: i64,
    dir: std::path::PathBuf,
    port: u16,
}

impl World {
    async fn new(engine: Engine) -> World {
        let t = test_db(engine).await;
        let si = standin::spawn("127.0.0.1:0").await.unwrap();
        let db = &t.db;
        let acc = create_account(db, &si.base_url, TOKEN).await;
        let account = channel_accounts::get(db, acc).await.unwrap();
        let me = users::create_user(db, "p@example.com", "P", Role::Support, "password-123")
            .await
            .unwrap();
        let r = service::ingest::ingest_message(
            db,
            &account,
            None,
            &InboundMessage {
                identifier_kind: IdentifierKind::Phone,
                identifier: "+15005550006".into(),
                display_name: None,
                provider_message_id: "SMinbound0000000000000000000000001".into(),
                subject: None,
                body_text: "hello".into(),
                body_html: None,
                received_at: app::store::now_ms(),
                thread: Default::default(),
                automatic: false,
                meta: None,
                attachments: Vec::new(),
                media: Vec::new(),
            },
        )
        .await
        .unwrap();
        let d = service::conversations::detail(db, r.conversation_id)
            .await
            .unwrap();
        let o = d
            .reply_options
            .iter()
            .find(|o| o.account_id == acc)
            .unwrap();
        let mid = service::reply::queue_reply(
            db,
            r.conversation_id,
            acc,
            o.identifier_id,
            me,
            "Your parcel leaves today",
        )
        .await
        .unwrap();
        let dir = std::env::temp_dir().join(format!(
            "convergence_outbox_{}_{}",
            std::process::id(),
            mid + i64::from(matches!(engine, Engine::Postgres)) * 1_000_000
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        World {
            t,
            si,
            mid,
            dir,
            port,
        }
    }

    /// The server binary on this world's database and port, in a process group of its own
    /// that dies with the test.
    fn spawn(&self, n: usize) -> Guarded {
        spawn_server(&self.t.db.url, &self.dir, self.port, n)
    }

    fn log(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("server-{n}.log"))).unwrap_or_default()
    }

    /// The sends (`POST .../Messages.json`) the stand-in received.
    fn posts(&self) -> usize {
        self.si
            .state
            .requests(Some("twilio"))
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/Messages.json"))
            .count()
    }

    /// The messages the stand-in created (what the customer gets).
    fn created(&self) -> Vec<String> {
        self.si
            .state
            .config(&format!("twilio:messages:{SID}"))
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["sid"].as_str().map(str::to_string))
            .collect()
    }

    fn hold_next_send(&self, ms: u64) {
        self.si.state.add_fault(Fault {
            provider: "twilio".into(),
            status: 0,
            body: String::new(),
            hang_ms: ms,
            times: 1,
            ..Default::default()
        });
    }

    async fn wait_for_post(&self, n: usize) {
        let w = self;
        wait_for("the send to reach the stand-in", 60, || async move {
            (w.posts() >= 1).then_some(())
        })
        .await;
        assert_eq!(self.posts(), 1, "{}", self.log(n));
    }

    async fn job(&self) -> (Option<i64>, Option<i64>, Option<i64>) {
        let r = sqlx::query(
            "SELECT done_at, locked_until, in_flight_at FROM outbox WHERE message_id = $1",
        )
        .bind(self.mid)
        .fetch_one(&self.t.db.read)
        .await
        .unwrap();
        (
            r.get("done_at"),
            r.get("locked_until"),
            r.get("in_flight_at"),
        )
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn a_kill_with_a_send_in_flight_sends_it_at_most_once(engine: Engine) {
    let w = World::new(engine).await;
    // The stand-in holds the send for 4 s, then creates the message (as Twilio does with a
    // request whose client went away).
    w.hold_next_send(4_000);
    let mut first = w.spawn(1);
    w.wait_for_post(1).await;
    let (_, _, in_flight) = w.job().await;
    assert!(
        in_flight.is_some(),
        "the job records the send before it leaves"
    );
    first.kill();
    let killed_at = Instant::now();
    // The held request creates the message although its client is dead.
    let ww = &w;
    wait_for("the held send to create the message", 15, || async move {
        (!ww.created().is_empty()).then_some(())
    })
    .await;
    let mut second = w.spawn(2);
    let mid = w.mid;
    let db = &w.t.db;
    let m = wait_for("the message to be reconciled", 40, || async move {
        let m = message_by_id(db, mid).await;
        (m.state != "queued" && m.state != "sending").then_some(m)
    })
    .await;
    let took = killed_at.elapsed();
    second.kill();
    assert_eq!(w.posts(), 1, "sent at most once: {}", w.log(2));
    let created = w.created();
    assert_eq!(created.len(), 1, "the customer got it once");
    assert!(
        m.state == "sent" || m.state == "delivered",
        "{m:?}\n{}",
        w.log(2)
    );
    assert_eq!(m.provider_id.as_deref(), Some(created[0].as_str()));
    // The dead process's lease (15 s at most, renewed while the send ran) was taken over.
    assert!(
        took < Duration::from_secs(25),
        "reconciled {took:?} after the kill"
    );
    let (done, locked, in_flight) = w.job().await;
    assert!(done.is_some() && locked.is_none() && in_flight.is_none());
}

async fn sigterm_lets_the_send_in_flight_finish(engine: Engine) {
    let w = World::new(engine).await;
    w.hold_next_send(3_000);
    let mut server = w.spawn(1);
    w.wait_for_post(1).await;
    let pid = server.child.id();
    let st = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not stop: {}",
            w.log(1)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}: {}", w.log(1));
    // It waited for the held send rather than dying in the middle of it.
    assert!(
        started.elapsed() >= Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    let m = message_by_id(&w.t.db, w.mid).await;
    assert!(m.state == "sent" || m.state == "delivered", "{m:?}");
    assert_eq!(w.posts(), 1);
    let (done, locked, in_flight) = w.job().await;
    assert!(done.is_some(), "finished");
    assert!(locked.is_none(), "no lease left behind");
    assert!(in_flight.is_none());
    server.kill();
}
