//! The background workers, called directly: delivery with retries and backoff through a
//! sender that fails on purpose, and inbound processing of good, duplicate and bad payloads.

use app::domain::{ChannelKind, DeliveryState, IdentifierKind, Role};
use app::model::TimelineItem;
use app::ports::InboundMessage;
use app::ports::Outbound;
use app::service;
use app::service::ingest::ingest_message;
use app::ssr::live::Hub;
use app::store::{channel_accounts, outbox, raw_inbound, timeline, users, Db};
use async_trait::async_trait;
use server::channels::{playground::Playground, Registry, SendError, Sender, Sent};
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

async fn setup(db: &Db, flaky: Arc<Flaky>) -> (Registry, i64, i64) {
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
    let p = timeline::page(db, conv, None, 50).await.unwrap();
    p.items
        .into_iter()
        .find_map(|i| match i {
            TimelineItem::Message(m) if m.id == mid => Some((m.delivery_state, m.failure_reason)),
            _ => None,
        })
        .unwrap()
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

async fn inbound_worker_ingests_good_payloads_and_keeps_bad_ones_visible(db: Db) {
    channel_accounts::ensure_playground_accounts(&db)
        .await
        .unwrap();
    let acc = channel_accounts::playground_for(&db, ChannelKind::Telegram)
        .await
        .unwrap()
        .unwrap();
    let (hub, mut rx) = crate::support::live_hub(&db).await;
    let good =
        br#"{"id":"u1","from":"700100999","name":"Tg User","text":"hi from telegram","at":5000}"#;
    let raw_inbound::Stored::New(good_id) =
        raw_inbound::store(&db, acc.id, "u1", "application/json", good)
            .await
            .unwrap()
    else {
        panic!()
    };
    let raw_inbound::Stored::New(bad_id) =
        raw_inbound::store(&db, acc.id, "u2", "application/json", b"{not json")
            .await
            .unwrap()
    else {
        panic!()
    };
    let raw_inbound::Stored::New(wrong_id) = raw_inbound::store(
        &db,
        acc.id,
        "u3",
        "application/json",
        br#"{"id":"u3","from":"has space","text":"x","at":1}"#,
    )
    .await
    .unwrap() else {
        panic!()
    };
    let reg = Registry::standard(crate::support::TEST_SECRET);
    assert_eq!(
        workers::inbound::process_pending(&db, &hub, &reg, 10)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        raw_inbound::state_of(&db, good_id).await.unwrap().0,
        "processed"
    );
    let (state, err) = raw_inbound::state_of(&db, bad_id).await.unwrap();
    assert_eq!(state, "failed");
    assert!(err.unwrap().contains("not valid"));
    let (state, err) = raw_inbound::state_of(&db, wrong_id).await.unwrap();
    assert_eq!(state, "failed");
    assert!(err.unwrap().contains("provider id"));
    let ev = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("a live event for the new message")
        .unwrap();
    assert_eq!(ev.kind, app::model::LiveKind::Message);
    let d = service::conversations::detail(&db, ev.conversation_id.unwrap())
        .await
        .unwrap();
    assert_eq!(d.customer.name, "Tg User");
    // Nothing left to do; a replayed payload is refused at the door.
    assert_eq!(
        workers::inbound::process_pending(&db, &hub, &reg, 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        raw_inbound::store(&db, acc.id, "u1", "application/json", good)
            .await
            .unwrap(),
        raw_inbound::Stored::Duplicate
    );
}

both_engines!(
    temporary_failures_retry_with_backoff_then_succeed,
    permanent_failure_marks_the_message_failed_with_the_reason,
    a_crashed_delivery_is_picked_up_after_its_lease,
    inbound_worker_ingests_good_payloads_and_keeps_bad_ones_visible,
);
