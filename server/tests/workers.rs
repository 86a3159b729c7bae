//! The outbox worker, called directly: delivery with retries and backoff through a sender that
//! fails on purpose, lost answers, crashes and leases. (The inbound worker: `inbound_worker`.)

use app::domain::{ChannelKind, DeliveryState, IdentifierKind, Role};
use app::model::OutboxState;
use app::model::TimelineItem;
use app::ports::InboundMessage;
use app::ports::Outbound;
use app::service;
use app::service::ingest::ingest_message;
use app::ssr::live::Hub;
use app::store::{channel_accounts, outbox, timeline, users, Db};
use async_trait::async_trait;
use server::channels::{playground::Playground, Lookup, Registry, SendError, Sender, Sent};
use server::workers;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Fails `temporary` times, then fails permanently if `then_permanent`, else succeeds.
struct Flaky {
    calls: AtomicUsize,
    temporary: usize,
    then_permanent: bool,
}

#[async_trait]
impl Sender for Flaky {
    async fn send(
        &self,
        _a: &channel_accounts::AccountRow,
        m: &Outbound,
    ) -> Result<Sent, SendError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.temporary {
            Err(SendError::Temporary("HTTP 503 from provider".into()))
        } else if self.then_permanent {
            Err(SendError::Permanent(
                "21610: the recipient has opted out".into(),
            ))
        } else {
            Ok(Sent {
                provider_message_id: format!("SM{}", m.message_id),
                state: DeliveryState::Sent,
                rfc_message_id: None,
            })
        }
    }
}

async fn setup(db: &Db, flaky: Arc<dyn Sender>) -> (Registry, i64, i64) {
    let acc = channel_accounts::create(
        db,
        ChannelKind::Sms,
        "flaky",
        "Flaky SMS",
        "+15550100001",
        &serde_json::json!({}),
        &serde_json::json!({"token": "s3cret"}),
    )
    .await
    .unwrap();
    let account = channel_accounts::get(db, acc).await.unwrap();
    let me = users::create_user(db, "w@example.com", "W", Role::Support, "password-123")
        .await
        .unwrap();
    let r = ingest_message(
        db,
        &account,
        None,
        &InboundMessage {
            identifier_kind: IdentifierKind::Phone,
            identifier: "+14155550160".into(),
            display_name: None,
            provider_message_id: "in-1".into(),
            subject: None,
            body_text: "hello".into(),
            body_html: None,
            received_at: 1_000,
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
    let mid = service::reply::queue_reply(db, r.conversation_id, acc, o.identifier_id, me, "reply")
        .await
        .unwrap();
    let mut reg = Registry::standard(crate::support::TEST_SECRET);
    reg.add("flaky", Arc::new(Playground), flaky);
    (reg, r.conversation_id, mid)
}

async fn state_of(db: &Db, conv: i64, mid: i64) -> (DeliveryState, Option<String>) {
    let m = view_of(db, conv, mid).await;
    (m.delivery_state, m.failure_reason)
}

async fn view_of(db: &Db, conv: i64, mid: i64) -> app::model::MessageView {
    let p = timeline::page(db, conv, None, 50).await.unwrap();
    p.items
        .into_iter()
        .find_map(|i| match i {
            TimelineItem::Message(m) if m.id == mid => Some(m),
            _ => None,
        })
        .unwrap()
}

/// A provider whose answers to sends are lost (the request arrives; the connection drops
/// before the answer): `has` says whether the provider then holds the message, and `lookup`
/// what looking it up answers.
struct Lossy {
    sends: AtomicUsize,
    lookups: AtomicUsize,
    /// Answers to sends in order; when exhausted, sends succeed.
    answers: std::sync::Mutex<Vec<SendError>>,
    lookup: std::sync::Mutex<Result<Lookup, SendError>>,
}

impl Lossy {
    fn new(answers: Vec<SendError>, lookup: Result<Lookup, SendError>) -> Arc<Lossy> {
        Arc::new(Lossy {
            sends: AtomicUsize::new(0),
            lookups: AtomicUsize::new(0),
            answers: std::sync::Mutex::new(answers),
            lookup: std::sync::Mutex::new(lookup),
        })
    }
}

fn found(mid: i64) -> Lookup {
    Lookup::Found(Sent {
        provider_message_id: format!("SMfound{mid}"),
        state: DeliveryState::Sent,
        rfc_message_id: None,
    })
}

#[async_trait]
impl Sender for Lossy {
    async fn send(
        &self,
        _a: &channel_accounts::AccountRow,
        m: &Outbound,
    ) -> Result<Sent, SendError> {
        self.sends.fetch_add(1, Ordering::SeqCst);
        let mut a = self.answers.lock().unwrap();
        if a.is_empty() {
            Ok(Sent {
                provider_message_id: format!("SM{}", m.message_id),
                state: DeliveryState::Sent,
                rfc_message_id: None,
            })
        } else {
            Err(a.remove(0))
        }
    }

    async fn lookup(
        &self,
        _a: &channel_accounts::AccountRow,
        _m: &Outbound,
        _since: i64,
    ) -> Result<Lookup, SendError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.lookup.lock().unwrap().clone()
    }
}

async fn due_jobs(db: &Db) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE done_at IS NULL")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .get("n")
}

/// The old rule gave up after 6 attempts, about a minute into an outage. An outage of 40
/// attempts (with the default 24 h horizon, hours of real time) is waited out; the message
/// shows when the next attempt is, and is delivered once when the provider is back.
async fn an_outage_longer_than_the_old_horizon_is_waited_out(db: Db) {
    let flaky = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        temporary: 40,
        then_permanent: false,
    });
    let (reg, conv, mid) = setup(&db, flaky.clone()).await;
    let hub = Hub::new(&db);
    for i in 0..40 {
        assert_eq!(
            workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
            1,
            "attempt {i}"
        );
        let m = view_of(&db, conv, mid).await;
        assert_eq!(m.delivery_state, DeliveryState::Queued, "attempt {i}");
        let Some(OutboxState::Retrying { next_attempt_at }) = m.outbox else {
            panic!("attempt {i}: {:?}", m.outbox)
        };
        assert!(next_attempt_at > app::store::now_ms());
        let reason = m.failure_reason.unwrap();
        assert!(reason.contains("retrying, next attempt at"), "{reason}");
        // The account shows that its provider is failing.
        let h = app::store::outbox::account_health(&db, m_account(&db, mid).await)
            .await
            .unwrap();
        assert_eq!(h.retrying, 1);
        make_due(&db).await;
    }
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    let m = view_of(&db, conv, mid).await;
    assert_eq!(m.delivery_state, DeliveryState::Sent);
    assert_eq!(m.outbox, None);
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 41);
    make_due(&db).await;
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        0,
        "sent exactly once"
    );
    let h = app::store::outbox::account_health(&db, m_account(&db, mid).await)
        .await
        .unwrap();
    assert_eq!(h.retrying, 0, "the provider is fine again");
}

async fn m_account(db: &Db, mid: i64) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT channel_account_id FROM messages WHERE id = $1")
        .bind(mid)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .get("channel_account_id")
}

/// Past the horizon a temporary failure is final; an agent retries the failed message (a new
/// horizon) or cancels it, and an admin retries every failed message of the account.
async fn the_horizon_ends_retries_and_agents_retry_or_cancel(db: Db) {
    let flaky = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        temporary: 3,
        then_permanent: false,
    });
    let (reg, conv, mid) = setup(&db, flaky.clone()).await;
    let hub = Hub::new(&db);
    // The message was queued 25 hours ago.
    sqlx::query("UPDATE outbox SET created_at = created_at - 90000000")
        .execute(&db.write)
        .await
        .unwrap();
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    let m = view_of(&db, conv, mid).await;
    assert_eq!(m.delivery_state, DeliveryState::Failed);
    assert_eq!(m.outbox, Some(OutboxState::Failed));
    assert!(
        m.failure_reason
            .as_deref()
            .unwrap()
            .contains("gave up after 1 attempt since"),
        "{:?}",
        m.failure_reason
    );
    let account = m_account(&db, mid).await;
    assert_eq!(
        app::store::outbox::failed_of_account(&db, account)
            .await
            .unwrap(),
        vec![mid]
    );
    // An agent retries: queued again with a fresh horizon, so the next failure is retried.
    assert!(app::store::outbox::requeue(&db, mid, false).await.unwrap());
    assert!(
        !app::store::outbox::requeue(&db, mid, false).await.unwrap(),
        "a queued message is not queued twice"
    );
    assert_eq!(state_of(&db, conv, mid).await.0, DeliveryState::Queued);
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    let m = view_of(&db, conv, mid).await;
    assert!(
        matches!(m.outbox, Some(OutboxState::Retrying { .. })),
        "{:?}",
        m.outbox
    );
    // The agent cancels while it waits: failed, in words, and no longer retried.
    assert!(
        app::store::outbox::cancel(&db, mid, "Cancelled by W: not sent.")
            .await
            .unwrap()
    );
    let m = view_of(&db, conv, mid).await;
    assert_eq!(m.delivery_state, DeliveryState::Failed);
    assert_eq!(m.outbox, Some(OutboxState::Cancelled));
    assert_eq!(
        m.failure_reason.as_deref(),
        Some("Cancelled by W: not sent.")
    );
    make_due(&db).await;
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        0
    );
    assert!(
        app::store::outbox::failed_of_account(&db, account)
            .await
            .unwrap()
            .is_empty(),
        "a cancelled message is not offered for retry"
    );
    assert!(!app::store::outbox::requeue(&db, mid, true).await.unwrap());
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);
}

/// The answer to a send is lost: the worker asks the provider instead of sending again, and
/// records the message it finds.
async fn a_lost_answer_is_looked_up_not_resent(db: Db) {
    let lossy = Lossy::new(
        vec![SendError::Unknown(
            "connection closed before the answer".into(),
        )],
        Ok(Lookup::NotFound),
    );
    let (reg, conv, mid) = setup(&db, lossy.clone()).await;
    let hub = Hub::new(&db);
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    let (state, reason) = state_of(&db, conv, mid).await;
    assert_eq!(state, DeliveryState::Queued);
    assert!(reason
        .unwrap()
        .contains("checking whether it has the message"));
    // The provider does not list it yet (the request may still be on its way): asked again.
    make_due(&db).await;
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    assert_eq!(lossy.lookups.load(Ordering::SeqCst), 1);
    assert_eq!(lossy.sends.load(Ordering::SeqCst), 1, "not sent again");
    assert_eq!(due_jobs(&db).await, 1);
    // Now it lists it.
    *lossy.lookup.lock().unwrap() = Ok(found(mid));
    make_due(&db).await;
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    assert_eq!(lossy.sends.load(Ordering::SeqCst), 1, "never sent twice");
    let m = view_of(&db, conv, mid).await;
    assert_eq!(m.delivery_state, DeliveryState::Sent);
    assert_eq!(due_jobs(&db).await, 0);
    let pid: String = {
        use sqlx::Row;
        sqlx::query("SELECT provider_message_id FROM messages WHERE id = $1")
            .bind(mid)
            .fetch_one(&db.read)
            .await
            .unwrap()
            .get("provider_message_id")
    };
    assert_eq!(pid, format!("SMfound{mid}"));
}

/// A process died with a send in flight (its job marked, its lease run out): the next worker
/// looks it up. When the provider cannot be asked, the message is "delivery unknown" and the
/// agent's "send again" sends it.
async fn a_send_in_flight_when_the_process_died_is_never_blindly_repeated(db: Db) {
    let lossy = Lossy::new(vec![], Ok(Lookup::Unsupported));
    let (reg, conv, mid) = setup(&db, lossy.clone()).await;
    let hub = Hub::new(&db);
    // The dead process: claimed, marked in flight, then nothing.
    let job = outbox::claim(&db).await.unwrap().unwrap();
    outbox::mark_in_flight(&db, job.outbox_id, app::store::now_ms())
        .await
        .unwrap();
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        0,
        "leased"
    );
    let lease = {
        use sqlx::Row;
        sqlx::query("SELECT locked_until FROM outbox WHERE id = $1")
            .bind(job.outbox_id)
            .fetch_one(&db.read)
            .await
            .unwrap()
            .get::<i64, _>("locked_until")
    };
    assert!(
        lease - app::store::now_ms() <= 15_000,
        "a dead process's lease ends within 15 s"
    );
    sqlx::query("UPDATE outbox SET locked_until = 0 WHERE id = $1")
        .bind(job.outbox_id)
        .execute(&db.write)
        .await
        .unwrap();
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    assert_eq!(lossy.sends.load(Ordering::SeqCst), 0, "not sent blindly");
    assert_eq!(lossy.lookups.load(Ordering::SeqCst), 1);
    let m = view_of(&db, conv, mid).await;
    assert_eq!(m.delivery_state, DeliveryState::Failed);
    assert_eq!(m.outbox, Some(OutboxState::Unknown));
    assert!(
        m.failure_reason
            .as_deref()
            .unwrap()
            .starts_with("Delivery unknown"),
        "{:?}",
        m.failure_reason
    );
    // "Retry all failed" of the admin leaves it to the agent.
    let account = m_account(&db, mid).await;
    assert!(outbox::failed_of_account(&db, account)
        .await
        .unwrap()
        .is_empty());
    make_due(&db).await;
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        0
    );
    // The agent's "Send again".
    assert!(outbox::requeue(&db, mid, true).await.unwrap());
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    assert_eq!(lossy.sends.load(Ordering::SeqCst), 1);
    assert_eq!(state_of(&db, conv, mid).await.0, DeliveryState::Sent);
}

/// A provider that says it has no such message, once the request cannot still be on its way,
/// is believed: the message is sent (once).
async fn a_send_the_provider_never_got_is_sent(db: Db) {
    let lossy = Lossy::new(vec![], Ok(Lookup::NotFound));
    let (reg, conv, mid) = setup(&db, lossy.clone()).await;
    let hub = Hub::new(&db);
    let job = outbox::claim(&db).await.unwrap().unwrap();
    // The request left two minutes ago.
    outbox::mark_in_flight(&db, job.outbox_id, app::store::now_ms() - 120_000)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET locked_until = 0 WHERE id = $1")
        .bind(job.outbox_id)
        .execute(&db.write)
        .await
        .unwrap();
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    assert_eq!(lossy.lookups.load(Ordering::SeqCst), 1);
    assert_eq!(lossy.sends.load(Ordering::SeqCst), 1);
    assert_eq!(state_of(&db, conv, mid).await.0, DeliveryState::Sent);
}

/// A worker told to stop claims nothing more.
async fn a_stopping_worker_claims_nothing(db: Db) {
    let flaky = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        temporary: 0,
        then_permanent: false,
    });
    let (reg, conv, mid) = setup(&db, flaky.clone()).await;
    let hub = Hub::new(&db);
    let (stop, rx) = tokio::sync::watch::channel(true);
    let cfg = workers::outbox::Config::default();
    assert_eq!(
        workers::outbox::deliver_due_with(&db, &hub, &reg, &cfg, Some(&rx))
            .await
            .unwrap(),
        0
    );
    assert_eq!(state_of(&db, conv, mid).await.0, DeliveryState::Queued);
    stop.send(false).unwrap();
    assert_eq!(
        workers::outbox::deliver_due_with(&db, &hub, &reg, &cfg, Some(&rx))
            .await
            .unwrap(),
        1
    );
    assert_eq!(state_of(&db, conv, mid).await.0, DeliveryState::Sent);
}

async fn make_due(db: &Db) {
    sqlx::query("UPDATE outbox SET next_attempt_at = 0")
        .execute(&db.write)
        .await
        .unwrap();
}

async fn temporary_failures_retry_with_backoff_then_succeed(db: Db) {
    let flaky = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        temporary: 2,
        then_permanent: false,
    });
    let (reg, conv, mid) = setup(&db, flaky.clone()).await;
    let hub = Hub::new(&db);
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        1
    );
    let (state, reason) = state_of(&db, conv, mid).await;
    assert_eq!(state, DeliveryState::Queued);
    assert!(reason.unwrap().contains("HTTP 503"), "the agent sees why");
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        0,
        "backoff: not due yet"
    );
    make_due(&db).await;
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    make_due(&db).await;
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    let (state, reason) = state_of(&db, conv, mid).await;
    assert_eq!(state, DeliveryState::Sent);
    assert_eq!(reason, None);
    make_due(&db).await;
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        0,
        "sent exactly once"
    );
}

async fn permanent_failure_marks_the_message_failed_with_the_reason(db: Db) {
    let flaky = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        temporary: 0,
        then_permanent: true,
    });
    let (reg, conv, mid) = setup(&db, flaky.clone()).await;
    let hub = Hub::new(&db);
    workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap();
    let (state, reason) = state_of(&db, conv, mid).await;
    assert_eq!(state, DeliveryState::Failed);
    assert_eq!(
        reason.as_deref(),
        Some("21610: the recipient has opted out")
    );
    make_due(&db).await;
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        0,
        "a failed job is not retried"
    );
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
}

async fn a_crashed_delivery_is_picked_up_after_its_lease(db: Db) {
    let flaky = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        temporary: 0,
        then_permanent: false,
    });
    let (reg, conv, mid) = setup(&db, flaky.clone()).await;
    let hub = Hub::new(&db);
    // A worker claims the job and dies before finishing.
    let job = outbox::claim(&db).await.unwrap().unwrap();
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        0,
        "leased"
    );
    sqlx::query("UPDATE outbox SET locked_until = 0 WHERE id = $1")
        .bind(job.outbox_id)
        .execute(&db.write)
        .await
        .unwrap();
    assert_eq!(
        workers::outbox::deliver_due(&db, &hub, &reg).await.unwrap(),
        1
    );
    assert_eq!(state_of(&db, conv, mid).await.0, DeliveryState::Sent);
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
}

both_engines!(
    an_outage_longer_than_the_old_horizon_is_waited_out,
    the_horizon_ends_retries_and_agents_retry_or_cancel,
    a_lost_answer_is_looked_up_not_resent,
    a_send_in_flight_when_the_process_died_is_never_blindly_repeated,
    a_send_the_provider_never_got_is_sent,
    a_stopping_worker_claims_nothing,
    temporary_failures_retry_with_backoff_then_succeed,
    permanent_failure_marks_the_message_failed_with_the_reason,
    a_crashed_delivery_is_picked_up_after_its_lease,
);
