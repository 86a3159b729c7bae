//! Raw payloads and batched ingest: stored once, deduplicated, and a bad message in a batch
//! leaves the others stored.

use super::*;
use app::service;

pub async fn raw_inbound_is_deduplicated_and_errors_are_kept(db: Db) {
    let acc = account(&db, ChannelKind::Telegram).await;
    let a = raw_inbound::store(&db, acc.id, "upd-1", "application/json", b"{}")
        .await
        .unwrap();
    let raw_inbound::Stored::New(id) = a else {
        panic!("first store is new")
    };
    assert_eq!(
        raw_inbound::store(&db, acc.id, "upd-1", "application/json", b"{}")
            .await
            .unwrap(),
        raw_inbound::Stored::Duplicate
    );
    assert_eq!(raw_inbound::pending(&db, 10).await.unwrap().len(), 1);
    raw_inbound::mark_error(&db, id, "bad json", true)
        .await
        .unwrap();
    assert!(raw_inbound::pending(&db, 10).await.unwrap().is_empty());
    let (state, err) = raw_inbound::state_of(&db, id).await.unwrap();
    assert_eq!(state, "failed");
    assert_eq!(err.as_deref(), Some("bad json"));
}

pub async fn a_burst_of_payloads_is_stored_at_once_and_deduplicated(db: Db) {
    let sms = account(&db, ChannelKind::Sms).await;
    let tg = account(&db, ChannelKind::Telegram).await;
    raw_inbound::store(&db, tg.id, "seen-before", "application/json", b"{}")
        .await
        .unwrap();
    let raw = |account_id: i64, key: &str| app::ports::NewRaw {
        account_id,
        dedupe_key: key.into(),
        content_type: "application/json".into(),
        payload: key.as_bytes().to_vec(),
    };
    let stored = raw_inbound::store_many(
        &db,
        vec![
            raw(sms.id, "a"),
            raw(tg.id, "a"),           // same key, another account: new
            raw(sms.id, "a"),          // repeated within the burst
            raw(tg.id, "seen-before"), // stored earlier
            raw(sms.id, "b"),
        ],
    )
    .await
    .unwrap();
    let new_ids: Vec<i64> = stored
        .iter()
        .filter_map(|s| match s {
            raw_inbound::Stored::New(id) => Some(*id),
            raw_inbound::Stored::Duplicate => None,
        })
        .collect();
    assert_eq!(
        stored
            .iter()
            .map(|s| matches!(s, raw_inbound::Stored::New(_)))
            .collect::<Vec<_>>(),
        vec![true, true, false, false, true]
    );
    let pending = raw_inbound::pending(&db, 10).await.unwrap();
    let by_id: std::collections::HashMap<i64, &app::ports::RawInbound> =
        pending.iter().map(|r| (r.id, r)).collect();
    // Each answer names its own row: account and payload match.
    for (s, (acc, key)) in
        stored
            .iter()
            .zip([(sms.id, "a"), (tg.id, "a"), (0, ""), (0, ""), (sms.id, "b")])
    {
        if let raw_inbound::Stored::New(id) = s {
            let r = by_id[id];
            assert_eq!(
                (r.channel_account_id, r.payload.as_slice()),
                (acc, key.as_bytes())
            );
        }
    }
    assert_eq!(new_ids.len(), 3);
    assert_eq!(pending.len(), 4, "three new and the one stored before");
}

pub async fn a_batch_keeps_its_good_messages_when_one_is_bad_or_repeated(db: Db) {
    let acc = account(&db, ChannelKind::Sms).await;
    let before = sms_in(&db, &acc, "+14155550170", "dup-1", "first", 1_000).await;
    let mut raw_ids = Vec::new();
    for key in ["r1", "r2", "r3", "r4"] {
        let raw_inbound::Stored::New(id) = raw_inbound::store(&db, acc.id, key, "text/plain", b"x")
            .await
            .unwrap()
        else {
            panic!("new raw row")
        };
        raw_ids.push(id);
    }
    let good = msg(
        IdentifierKind::Phone,
        "+14155550171",
        "new-1",
        "hello",
        2_000,
    );
    let wrong_kind = msg(IdentifierKind::Email, "a@example.com", "new-2", "hi", 2_001);
    let repeated = msg(
        IdentifierKind::Phone,
        "+14155550170",
        "dup-1",
        "first",
        1_000,
    );
    let good2 = msg(
        IdentifierKind::Phone,
        "+14155550170",
        "new-3",
        "again",
        2_002,
    );
    let items = [
        (Some(raw_ids[0]), &good),
        (Some(raw_ids[1]), &wrong_kind),
        (Some(raw_ids[2]), &repeated),
        (Some(raw_ids[3]), &good2),
    ];
    let out = service::ingest::ingest_batch(&db, &acc, &items)
        .await
        .unwrap();
    assert_eq!(out.len(), 4);
    let first = out[0].as_ref().expect("good message stored");
    assert!(!first.duplicate);
    assert!(
        matches!(&out[1], Err(StoreError::Invalid(w)) if w.contains("cannot receive")),
        "wrong identifier kind refused in words: {:?}",
        out[1]
    );
    let dup = out[2].as_ref().unwrap();
    assert!(dup.duplicate);
    assert_eq!(dup.message_id, before.message_id);
    let last = out[3].as_ref().unwrap();
    assert!(!last.duplicate);
    assert_eq!(
        last.conversation_id, before.conversation_id,
        "same customer, same conversation"
    );
    // Raw rows of stored messages are processed; the others wait for the worker's verdict.
    let states: Vec<String> = {
        let mut v = Vec::new();
        for id in &raw_ids {
            v.push(raw_inbound::state_of(&db, *id).await.unwrap().0);
        }
        v
    };
    assert_eq!(states, vec!["processed", "pending", "pending", "processed"]);
    let p = timeline::page(&db, before.conversation_id, None, 50)
        .await
        .unwrap();
    assert_eq!(p.items.len(), 2, "the repeat added nothing: {:?}", p.items);
}

both_engines!(
    raw_inbound_is_deduplicated_and_errors_are_kept,
    a_burst_of_payloads_is_stored_at_once_and_deduplicated,
    a_batch_keeps_its_good_messages_when_one_is_bad_or_repeated,
);
