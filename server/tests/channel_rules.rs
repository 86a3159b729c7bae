//! The channel rules every messaging adapter relies on, with the workers called directly on
//! both engines: SMS keywords change consent and HELP is answered; the outbox refuses a send
//! that consent forbids, whatever was queued before; delivery reports that arrive before their
//! message are applied when the send's answer names it; read receipts by watermark; the 24-hour
//! windows and per-channel text limits; national phone numbers meet their E.164 form.

use app::domain::{ChannelKind, DeliveryState, IdentifierKind, Role};
use app::model::TimelineItem;
use app::ports::InboundMessage;
use app::ports::Outbound;
use app::service;
use app::service::ingest::ingest_message;
use app::ssr::live::Hub;
use app::store::{channel_accounts, messages, raw_inbound, timeline, users, Db, StoreError};
use async_trait::async_trait;
use server::channels::{playground::Playground, Registry, SendError, Sender, Sent};
use server::workers;
use sqlx::Row;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A provider that answers every send with the id `SM<message id>` and counts its calls.
struct Counting(AtomicUsize);

#[async_trait]
impl Sender for Counting {
    async fn send(
        &self,
        _a: &channel_accounts::AccountRow,
        m: &Outbound,
    ) -> Result<Sent, SendError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Sent {
            provider_message_id: format!("SM{}", m.message_id),
            state: DeliveryState::Sent,
            rfc_message_id: None,
        })
    }
}

struct World {
    db: Db,
    hub: Hub,
    reg: Registry,
    sender: Arc<Counting>,
    sms: i64,
    agent: i64,
}

async fn world(db: Db) -> World {
    let sms = channel_accounts::create(
        &db,
        ChannelKind::Sms,
        "counting",
        "SMS line",
        "+15550100001",
        &serde_json::json!({"default_region": "GB", "help_reply": "Acme: reply STOP to opt out."}),
        &serde_json::json!({}),
    )
    .await
    .unwrap();
    let agent = users::create_user(
        &db,
        "rules@example.com",
        "Rae",
        Role::Support,
        "password-123",
    )
    .await
    .unwrap();
    let sender = Arc::new(Counting(AtomicUsize::new(0)));
    let mut reg = Registry::standard(crate::support::TEST_SECRET);
    reg.add("counting", Arc::new(Playground), sender.clone());
    World {
        hub: Hub::new(&db),
        db,
        reg,
        sender,
        sms,
        agent,
    }
}

/// A customer texts `text` from `from` through the SMS account: stored raw, then processed by
/// the inbound worker exactly as a webhook's payload is.
async fn text_in(w: &World, from: &str, text: &str) -> i64 {
    let id = format!("pg-{}", rand_id());
    let body =
        serde_json::json!({"id": id, "from": from, "text": text, "at": app::store::now_ms()});
    raw_inbound::store(
        &w.db,
        w.sms,
        &id,
        "application/json",
        body.to_string().as_bytes(),
    )
    .await
    .unwrap();
    workers::inbound::process_pending(&w.db, &w.hub, &w.reg, 100)
        .await
        .unwrap();
    messages::by_provider_id(&w.db, w.sms, &id)
        .await
        .unwrap()
        .expect("stored")
}

fn rand_id() -> u64 {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::SeqCst)
}

async fn conv_of(db: &Db, message_id: i64) -> (i64, i64) {
    let r = sqlx::query("SELECT conversation_id, identifier_id FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_one(&db.read)
        .await
        .unwrap();
    (
        r.try_get("conversation_id").unwrap(),
        r.try_get("identifier_id").unwrap(),
    )
}

async fn state_of(db: &Db, conv: i64, mid: i64) -> (DeliveryState, Option<String>) {
    timeline::page(db, conv, None, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .find_map(|i| match i {
            TimelineItem::Message(m) if m.id == mid => Some((m.delivery_state, m.failure_reason)),
            _ => None,
        })
        .unwrap()
}

async fn events_of(db: &Db, conv: i64) -> Vec<String> {
    timeline::page(db, conv, None, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|i| match i {
            TimelineItem::Event(e) if e.kind == "consent" => Some(e.summary),
            _ => None,
        })
        .collect()
}

fn refused(r: Result<i64, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid(m)) => m,
        other => panic!("expected a refusal in words, got {other:?}"),
    }
}

async fn stop_blocks_sending_and_start_restores_it(db: Db) {
    let w = world(db).await;
    let first = text_in(&w, "07911 123456", "Where is my parcel?").await;
    let (conv, ident) = conv_of(&w.db, first).await;
    // The national number was read with the account's region (GB).
    let value: String = sqlx::query("SELECT value FROM identifiers WHERE id = $1")
        .bind(ident)
        .fetch_one(&w.db.read)
        .await
        .unwrap()
        .try_get("value")
        .unwrap();
    assert_eq!(value, "+447911123456");

    // A reply queued before the customer opts out...
    let early = service::reply::queue_reply(&w.db, conv, w.sms, ident, w.agent, "It ships today.")
        .await
        .unwrap();
    text_in(&w, "+44 7911 123456", "Stop").await;
    assert_eq!(
        events_of(&w.db, conv).await,
        vec!["Opted out of SMS (texted STOP)".to_string()]
    );
    // ...is refused by the outbox with the reason, and the provider is never asked.
    workers::outbox::deliver_due(&w.db, &w.hub, &w.reg)
        .await
        .unwrap();
    let (state, reason) = state_of(&w.db, conv, early).await;
    assert_eq!(state, DeliveryState::Failed);
    let reason = reason.unwrap();
    assert!(reason.contains("opted out (texted STOP)"), "{reason}");
    assert_eq!(w.sender.0.load(Ordering::SeqCst), 0);
    // A new reply is refused at once, and the composer shows the option as unavailable.
    let why =
        refused(service::reply::queue_reply(&w.db, conv, w.sms, ident, w.agent, "Hello?").await);
    assert!(why.contains("opted out"), "{why}");
    let d = service::conversations::detail(&w.db, conv).await.unwrap();
    let opt = d
        .reply_options
        .iter()
        .find(|o| o.account_id == w.sms)
        .unwrap();
    assert!(opt.unavailable.as_deref().unwrap().contains("opted out"));
    let panel = d
        .customer
        .identifiers
        .iter()
        .find(|i| i.id == ident)
        .unwrap();
    assert!(
        panel
            .consent
            .as_deref()
            .unwrap()
            .starts_with("Opted out (texted STOP)"),
        "{:?}",
        panel.consent
    );

    // START opts back in: replies go out again.
    text_in(&w, "+447911123456", "START").await;
    let again = service::reply::queue_reply(&w.db, conv, w.sms, ident, w.agent, "Welcome back.")
        .await
        .unwrap();
    workers::outbox::deliver_due(&w.db, &w.hub, &w.reg)
        .await
        .unwrap();
    assert_eq!(state_of(&w.db, conv, again).await.0, DeliveryState::Sent);
    assert_eq!(events_of(&w.db, conv).await.len(), 2);
}

async fn help_is_answered_even_after_stop_and_stopall_ends_marketing_everywhere(db: Db) {
    let w = world(db).await;
    let first = text_in(&w, "+447700900200", "hi").await;
    let (conv, ident) = conv_of(&w.db, first).await;
    // The customer also has an email address.
    let customer: i64 = sqlx::query("SELECT customer_id FROM identifiers WHERE id = $1")
        .bind(ident)
        .fetch_one(&w.db.read)
        .await
        .unwrap()
        .try_get("customer_id")
        .unwrap();
    let email_ident: i64 = sqlx::query(
        "INSERT INTO identifiers (customer_id, kind, value, label, created_at) VALUES ($1, 'email', 'x@example.com', 'x@example.com', 0) RETURNING id",
    )
    .bind(customer)
    .fetch_one(&w.db.write)
    .await
    .unwrap()
    .try_get("id")
    .unwrap();

    text_in(&w, "+447700900200", "STOPALL").await;
    text_in(&w, "+447700900200", "help").await;
    workers::outbox::deliver_due(&w.db, &w.hub, &w.reg)
        .await
        .unwrap();
    let automatic: Vec<(String, String)> = sqlx::query(
        "SELECT body_text, delivery_state FROM messages WHERE conversation_id = $1 AND automatic = 1 AND direction = 'out'",
    )
    .bind(conv)
    .fetch_all(&w.db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.try_get("body_text").unwrap(), r.try_get("delivery_state").unwrap()))
    .collect();
    // The account's help text, then the customer's preference center link.
    assert_eq!(automatic.len(), 1, "{automatic:?}");
    let (body, state) = &automatic[0];
    assert_eq!(state, "sent");
    let (help, link) = body
        .split_once(" Choose how we reach you: ")
        .expect("a link");
    assert_eq!(help, "Acme: reply STOP to opt out.");
    let token = link
        .strip_prefix("http://127.0.0.1:3000/p/")
        .expect("our link");
    let claims = app::ssr::pref_token::verify(
        crate::support::TEST_SECRET.as_bytes(),
        token,
        app::store::now_ms(),
    )
    .expect("a genuine link");
    assert_eq!(
        (claims.identifier_id, claims.customer_id),
        (ident, customer)
    );
    use app::domain::consent::Purpose;
    let m = app::store::consent::current(&w.db, email_ident, Purpose::Marketing)
        .await
        .unwrap()
        .unwrap();
    assert!(!m.granted && m.detail.as_deref() == Some("texted STOPALL"));
    // Support by email is untouched.
    assert_eq!(
        app::store::consent::current(&w.db, email_ident, Purpose::Support)
            .await
            .unwrap(),
        None
    );
    let ev = events_of(&w.db, conv).await;
    assert_eq!(ev[0], "Opted out of all messages (texted STOPALL)");
    assert!(ev[1].starts_with("Asked for help"), "{ev:?}");
}

async fn a_report_before_its_message_is_applied_when_the_send_names_it(db: Db) {
    let w = world(db).await;
    let first = text_in(&w, "+447700900300", "hi").await;
    let (conv, ident) = conv_of(&w.db, first).await;
    let mid = service::reply::queue_reply(&w.db, conv, w.sms, ident, w.agent, "On its way.")
        .await
        .unwrap();
    // The provider's "delivered" callback overtakes the send's own answer.
    server::delivery::apply_status(
        &w.db,
        &w.hub,
        w.sms,
        &format!("SM{mid}"),
        DeliveryState::Delivered,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        state_of(&w.db, conv, mid).await.0,
        DeliveryState::Queued,
        "held, not lost"
    );
    workers::outbox::deliver_due(&w.db, &w.hub, &w.reg)
        .await
        .unwrap();
    assert_eq!(state_of(&w.db, conv, mid).await.0, DeliveryState::Delivered);
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM delivery_reports")
        .fetch_one(&w.db.read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(left, 0);
    // A late "sent" does not undo "delivered".
    server::delivery::apply_status(
        &w.db,
        &w.hub,
        w.sms,
        &format!("SM{mid}"),
        DeliveryState::Sent,
        None,
    )
    .await
    .unwrap();
    assert_eq!(state_of(&w.db, conv, mid).await.0, DeliveryState::Delivered);
}

async fn windows_limits_and_read_receipts(db: Db) {
    let w = world(db).await;
    let now = app::store::now_ms();
    let day = 24 * 3_600_000;
    let mut accounts = std::collections::HashMap::new();
    for (channel, kind, who) in [
        (
            ChannelKind::Whatsapp,
            IdentifierKind::Whatsapp,
            "+447700900400",
        ),
        (
            ChannelKind::Messenger,
            IdentifierKind::Messenger,
            "psid-400",
        ),
    ] {
        let acc = channel_accounts::create(
            &w.db,
            channel,
            "counting",
            channel.label(),
            "x",
            &serde_json::json!({}),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
        let account = channel_accounts::get(&w.db, acc).await.unwrap();
        let r = ingest_message(
            &w.db,
            &account,
            None,
            &InboundMessage {
                identifier_kind: kind,
                identifier: who.into(),
                display_name: None,
                provider_message_id: format!("in-{who}"),
                subject: None,
                body_text: "hello".into(),
                body_html: None,
                received_at: now - 2 * day,
                thread: Default::default(),
                automatic: false,
                meta: None,
                attachments: Vec::new(),
                media: Vec::new(),
            },
        )
        .await
        .unwrap();
        // The customer wrote two days ago.
        sqlx::query("UPDATE identifiers SET last_inbound_at = $1 WHERE kind = $2 AND value = $3")
            .bind(now - 2 * day)
            .bind(kind.as_str())
            .bind(who)
            .execute(&w.db.write)
            .await
            .unwrap();
        accounts.insert(channel, (acc, r.conversation_id));
    }
    // WhatsApp: closed after 24 hours, said in words before writing and when queueing.
    let (wa, wa_conv) = accounts[&ChannelKind::Whatsapp];
    let d = service::conversations::detail(&w.db, wa_conv)
        .await
        .unwrap();
    let opt = d.reply_options.iter().find(|o| o.account_id == wa).unwrap();
    assert!(opt
        .unavailable
        .as_deref()
        .unwrap()
        .contains("24-hour WhatsApp window is closed"));
    let why = refused(
        service::reply::queue_reply(&w.db, wa_conv, wa, opt.identifier_id, w.agent, "hi").await,
    );
    assert!(why.contains("template"), "{why}");

    // Messenger: allowed with the human agent tag, and the composer says so.
    let (ms, ms_conv) = accounts[&ChannelKind::Messenger];
    let d = service::conversations::detail(&w.db, ms_conv)
        .await
        .unwrap();
    let opt = d
        .reply_options
        .iter()
        .find(|o| o.account_id == ms)
        .unwrap()
        .clone();
    assert_eq!(opt.unavailable, None);
    assert!(opt.notice.as_deref().unwrap().contains("human agent tag"));
    // Its limit is 2,000 characters.
    let why = refused(
        service::reply::queue_reply(
            &w.db,
            ms_conv,
            ms,
            opt.identifier_id,
            w.agent,
            &"a".repeat(2_001),
        )
        .await,
    );
    assert!(why.contains("at most 2000 characters"), "{why}");
    let mid = service::reply::queue_reply(
        &w.db,
        ms_conv,
        ms,
        opt.identifier_id,
        w.agent,
        "Following up.",
    )
    .await
    .unwrap();
    workers::outbox::deliver_due(&w.db, &w.hub, &w.reg)
        .await
        .unwrap();
    assert_eq!(state_of(&w.db, ms_conv, mid).await.0, DeliveryState::Sent);
    // Messenger reports reads by watermark.
    let account = channel_accounts::get(&w.db, ms).await.unwrap();
    server::delivery::apply_read(
        &w.db,
        &w.hub,
        &account,
        "psid-400",
        app::store::now_ms() + 1000,
    )
    .await
    .unwrap();
    assert_eq!(state_of(&w.db, ms_conv, mid).await.0, DeliveryState::Read);

    // SMS: 1,600 characters at most.
    let first = text_in(&w, "+447700900401", "hi").await;
    let (conv, ident) = conv_of(&w.db, first).await;
    let why = refused(
        service::reply::queue_reply(&w.db, conv, w.sms, ident, w.agent, &"b".repeat(1_601)).await,
    );
    assert!(
        why.contains("SMS messages can be at most 1600 characters"),
        "{why}"
    );
    assert!(
        service::reply::queue_reply(&w.db, conv, w.sms, ident, w.agent, &"b".repeat(1_600))
            .await
            .is_ok()
    );
}

async fn a_sender_that_is_not_a_phone_number_is_kept_raw_with_words(db: Db) {
    let w = world(db).await;
    let body = serde_json::json!({"id": "bad-1", "from": "not a number", "text": "hi", "at": 1});
    raw_inbound::store(
        &w.db,
        w.sms,
        "bad-1",
        "application/json",
        body.to_string().as_bytes(),
    )
    .await
    .unwrap();
    workers::inbound::process_pending(&w.db, &w.hub, &w.reg, 100)
        .await
        .unwrap();
    let r = sqlx::query("SELECT state, error FROM raw_inbound WHERE dedupe_key = 'bad-1'")
        .fetch_one(&w.db.read)
        .await
        .unwrap();
    assert_eq!(r.try_get::<String, _>("state").unwrap(), "failed");
    assert!(r
        .try_get::<String, _>("error")
        .unwrap()
        .contains("is not a phone number"));
    // The admin list of failed events shows it with its words and payload; a retry queues it
    // again (and, still bad, it fails again with the same words).
    let failed = raw_inbound::failed(&w.db, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].account, "SMS line");
    assert!(failed[0].preview.contains("not a number"));
    raw_inbound::retry(&w.db, failed[0].id).await.unwrap();
    assert!(raw_inbound::failed(&w.db, 10).await.unwrap().is_empty());
    assert!(matches!(
        raw_inbound::retry(&w.db, failed[0].id).await,
        Err(StoreError::NotFound)
    ));
    workers::inbound::process_pending(&w.db, &w.hub, &w.reg, 100)
        .await
        .unwrap();
    assert_eq!(
        raw_inbound::failed(&w.db, 10).await.unwrap()[0].error,
        failed[0].error
    );
}

both_engines!(
    stop_blocks_sending_and_start_restores_it,
    help_is_answered_even_after_stop_and_stopall_ends_marketing_everywhere,
    a_report_before_its_message_is_applied_when_the_send_names_it,
    windows_limits_and_read_receipts,
    a_sender_that_is_not_a_phone_number_is_kept_raw_with_words,
);
