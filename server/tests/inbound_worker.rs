//! The inbound worker, called directly: good, duplicate and bad payloads, and a parser that
//! panics.

use app::domain::ChannelKind;
use app::service;
use app::store::{channel_accounts, raw_inbound, Db};
use server::channels::{playground::Playground, Registry};
use server::workers;
use std::sync::Arc;

/// The Telegram playground account, with `payloads` (dedupe key, bytes) stored raw: the
/// account's id and the payloads' ids.
async fn telegram_payloads(db: &Db, payloads: &[(&str, &[u8])]) -> (i64, Vec<i64>) {
    channel_accounts::ensure_playground_accounts(db)
        .await
        .unwrap();
    let acc = channel_accounts::playground_for(db, ChannelKind::Telegram)
        .await
        .unwrap()
        .unwrap();
    let mut ids = Vec::new();
    for (key, bytes) in payloads {
        match raw_inbound::store(db, acc.id, key, "application/json", bytes)
            .await
            .unwrap()
        {
            raw_inbound::Stored::New(id) => ids.push(id),
            other => panic!("{key} was not stored as new: {other:?}"),
        }
    }
    (acc.id, ids)
}

async fn inbound_worker_ingests_good_payloads_and_keeps_bad_ones_visible(db: Db) {
    let (hub, mut rx) = crate::support::live_hub(&db).await;
    let good: &[u8] =
        br#"{"id":"u1","from":"700100999","name":"Tg User","text":"hi from telegram","at":5000}"#;
    let wrong: &[u8] = br#"{"id":"u3","from":"has space","text":"x","at":1}"#;
    let (account, ids) =
        telegram_payloads(&db, &[("u1", good), ("u2", b"{not json"), ("u3", wrong)]).await;
    let (good_id, bad_id, wrong_id) = (ids[0], ids[1], ids[2]);
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
        raw_inbound::store(&db, account, "u1", "application/json", good)
            .await
            .unwrap(),
        raw_inbound::Stored::Duplicate
    );
}

/// A receiver that panics on the payload `boom` (a parser bug) and reads others as the
/// playground does.
struct PanicsOnBoom;

impl server::channels::Receiver for PanicsOnBoom {
    fn parse(
        &self,
        account: &channel_accounts::AccountRow,
        raw: &app::ports::RawInbound,
    ) -> Result<Vec<app::ports::InboundEvent>, server::channels::ParseError> {
        if raw.payload == b"boom" {
            panic!("index out of bounds in the test parser");
        }
        server::channels::Receiver::parse(&Playground, account, raw)
    }
}

async fn a_parser_that_panics_fails_its_payload_in_words_and_the_batch_goes_on(db: Db) {
    let (hub, _rx) = crate::support::live_hub(&db).await;
    let good: &[u8] =
        br#"{"id":"p2","from":"700100998","name":"After Boom","text":"still here","at":5000}"#;
    let (_, ids) = telegram_payloads(&db, &[("p1", b"boom"), ("p2", good)]).await;
    let (boom, good_id) = (ids[0], ids[1]);
    let mut reg = Registry::standard(crate::support::TEST_SECRET);
    reg.add(
        app::domain::providers::PLAYGROUND,
        Arc::new(PanicsOnBoom),
        Arc::new(Playground),
    );
    assert_eq!(
        workers::inbound::process_pending(&db, &hub, &reg, 10)
            .await
            .unwrap(),
        2
    );
    let (state, err) = raw_inbound::state_of(&db, boom).await.unwrap();
    assert_eq!(state, "failed");
    let err = err.unwrap();
    assert!(
        err.contains("parser failed on this payload") && err.contains("index out of bounds"),
        "{err}"
    );
    assert_eq!(
        raw_inbound::state_of(&db, good_id).await.unwrap().0,
        "processed"
    );
    // Kept as it arrived, and not picked up again.
    let kept: Vec<u8> = sqlx::query_scalar("SELECT payload FROM raw_inbound WHERE id = $1")
        .bind(boom)
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(kept, b"boom");
    assert_eq!(
        workers::inbound::process_pending(&db, &hub, &reg, 10)
            .await
            .unwrap(),
        0
    );
}

both_engines!(
    inbound_worker_ingests_good_payloads_and_keeps_bad_ones_visible,
    a_parser_that_panics_fails_its_payload_in_words_and_the_batch_goes_on,
);
