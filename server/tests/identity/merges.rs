//! Merging two customers into one timeline, and undoing it exactly.

use super::{conversation_of, fx, listed, scalar, snapshot, timeline_of};
use app::domain::{ChannelKind, IdentifierKind, Status};
use app::model::TimelineItem;
use app::service;
use app::store::{now_ms, Db, StoreError};

/// Consent events on a timeline.
fn consent_events(items: &[TimelineItem]) -> usize {
    items
        .iter()
        .filter(|i| matches!(i, TimelineItem::Event(e) if e.kind == "consent"))
        .count()
}

fn texts(items: &[TimelineItem]) -> Vec<String> {
    items
        .iter()
        .map(|i| match i {
            TimelineItem::Message(m) => m.body_text.clone(),
            TimelineItem::Event(e) => e.body.clone().unwrap_or_else(|| e.kind.clone()),
        })
        .collect()
}

async fn merge_then_unmerge_restores_both_customers_exactly(db: Db) {
    let f = fx(db.clone()).await;
    let t0 = now_ms() - 3_600_000;

    // The survivor: texts, got a reply, has a note, is pending and assigned, prefers SMS.
    let s = f
        .sms_in(
            "+14155550101",
            "Ada Lovelace",
            "s-1",
            "Hi, it's Ada by SMS",
            t0,
        )
        .await;
    let (survivor, sc) = (s.customer_id, s.conversation_id);
    service::reply::queue_reply(&db, sc, f.sms.id, s.identifier_id, f.agent, "Hello Ada")
        .await
        .unwrap();
    service::conversations::add_note(&db, sc, "VIP customer", f.agent)
        .await
        .unwrap();
    service::conversations::set_status(&db, sc, Status::Pending, None, f.agent)
        .await
        .unwrap();
    service::conversations::assign(&db, sc, Some(f.agent), f.agent)
        .await
        .unwrap();
    service::identifiers::set_preferred_channel(&db, survivor, Some(ChannelKind::Sms))
        .await
        .unwrap();

    // The one merged in: two emails (one quoting), a colleague's address that joined by
    // threading (unverified), a WhatsApp number an agent added, consent, a note, snoozed,
    // assigned to someone else, prefers email.
    let m1 = f
        .email_in(
            "Ada@Example.com",
            "A. Lovelace",
            "m-1",
            "Email one",
            t0 + 1_000,
            &[],
        )
        .await;
    let (merged, mc) = (m1.customer_id, m1.conversation_id);
    assert_ne!(merged, survivor);
    f.email_in(
        "ada@example.com",
        "A. Lovelace",
        "m-2",
        "Email two\n\n> quoted history",
        t0 + 2_000,
        &[],
    )
    .await;
    let w = f
        .email_in(
            "ada.work@example.org",
            "Ada at work",
            "m-3",
            "From work",
            t0 + 3_000,
            &["m-1@example.com"],
        )
        .await;
    assert_eq!(
        w.customer_id, merged,
        "a reply from an unknown address threads"
    );
    service::identifiers::add(
        &db,
        merged,
        IdentifierKind::Whatsapp,
        "+1 415 555 0199",
        "US",
        f.agent,
    )
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO consent_events (identifier_id, purpose, granted, source, detail, created_at) \
         VALUES ($1, 'marketing', 1, 'agent', 'asked by phone', $2)",
    )
    .bind(m1.identifier_id)
    .bind(t0 + 4_000)
    .execute(&db.write)
    .await
    .unwrap();
    service::conversations::add_note(&db, mc, "Prefers mornings", f.agent)
        .await
        .unwrap();
    service::conversations::set_status(
        &db,
        mc,
        Status::Snoozed,
        Some(now_ms() + 86_400_000),
        f.agent,
    )
    .await
    .unwrap();
    service::conversations::assign(&db, mc, Some(f.admin), f.agent)
        .await
        .unwrap();
    service::identifiers::set_preferred_channel(&db, merged, Some(ChannelKind::Email))
        .await
        .unwrap();

    let before_s = snapshot(&db, survivor, f.agent).await;
    let before_m = snapshot(&db, merged, f.agent).await;
    assert!(before_m.listed.is_some() && before_s.listed.is_some());

    let out = service::merge::merge(&db, survivor, merged, f.admin)
        .await
        .unwrap();
    assert_eq!(out.survivor_conversation, sc);

    // One customer, one timeline in time order, with everything of both.
    let view = service::customers::customer_view(&db, survivor)
        .await
        .unwrap();
    let values: Vec<&str> = view.identifiers.iter().map(|i| i.value.as_str()).collect();
    for v in [
        "+14155550101",
        "ada@example.com",
        "ada.work@example.org",
        "+14155550199",
    ] {
        assert!(values.contains(&v), "{v} missing from {values:?}");
    }
    assert_eq!(view.merges.len(), 1);
    assert_eq!(view.merges[0].customer.name, "A. Lovelace");
    assert_eq!(
        view.preferred_channel,
        Some(ChannelKind::Sms),
        "the survivor keeps its own"
    );
    let items = timeline_of(&db, sc).await;
    let keys: Vec<_> = items.iter().map(|i| i.key()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "one timeline in time order");
    let t = texts(&items);
    for want in [
        "Hi, it's Ada by SMS",
        "Email one",
        "From work",
        "VIP customer",
        "Prefers mornings",
        "Hello Ada",
    ] {
        assert!(t.iter().any(|x| x == want), "{want:?} missing from {t:?}");
    }
    let merge_event = items
        .iter()
        .find_map(|i| match i {
            TimelineItem::Event(e) if e.kind == "merge" => Some(e.clone()),
            _ => None,
        })
        .expect("the merge is on the timeline");
    let body = merge_event.body.unwrap();
    assert!(body.contains("Lee Lead merged A. Lovelace"), "{body}");
    assert!(
        body.contains("ada@example.com") || body.contains("Ada@Example.com"),
        "{body}"
    );
    // Consent follows its identifier.
    let consent_owner: i64 = scalar(
        &db,
        "SELECT i.customer_id FROM consent_events e JOIN identifiers i ON i.id = e.identifier_id",
    )
    .await;
    assert_eq!(consent_owner, survivor);
    // The merged conversation is gone from the list, and says where it went.
    assert!(listed(&db, f.agent, mc).await.is_none());
    let old = service::conversations::detail(&db, mc).await.unwrap();
    assert_eq!(
        old.customer.merged_into.as_ref().map(|c| c.id),
        Some(survivor)
    );
    assert_eq!(
        old.customer
            .merged_into
            .as_ref()
            .and_then(|c| c.conversation_id),
        Some(sc)
    );
    assert!(timeline_of(&db, mc).await.is_empty());
    // Sent twice, the same merge; the other way round, refused in words.
    assert_eq!(
        service::merge::merge(&db, survivor, merged, f.admin)
            .await
            .unwrap()
            .merge_id,
        out.merge_id
    );
    match service::merge::merge(&db, merged, survivor, f.admin).await {
        Err(StoreError::Invalid(m)) => assert!(m.contains("was merged into Ada Lovelace"), "{m}"),
        other => panic!("{other:?}"),
    }
    match service::identifiers::add(
        &db,
        merged,
        IdentifierKind::Email,
        "x@example.com",
        "US",
        f.agent,
    )
    .await
    {
        Err(StoreError::Invalid(m)) => assert!(m.contains("merged into"), "{m}"),
        other => panic!("{other:?}"),
    }

    service::merge::unmerge(&db, merged, f.agent).await.unwrap();
    let after_s = snapshot(&db, survivor, f.agent).await;
    let after_m = snapshot(&db, merged, f.agent).await;
    assert_eq!(before_m, after_m);
    assert_eq!(before_s, after_s);
    // The survivor keeps the history of what happened.
    let kinds: Vec<String> = timeline_of(&db, sc)
        .await
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Event(e) if e.kind.contains("merge") => Some(e.kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["merge", "unmerge"]);
    assert!(
        service::merge::unmerge(&db, merged, f.agent).await.is_err(),
        "nothing left to undo"
    );
}

async fn messages_after_the_merge_go_back_to_their_customer(db: Db) {
    let f = fx(db.clone()).await;
    let t0 = now_ms() - 600_000;
    let s = f
        .sms_in("+14155550111", "Grace Hopper", "g-1", "SMS before", t0)
        .await;
    let m = f
        .email_in(
            "grace@navy.example.org",
            "G. Hopper",
            "g-2",
            "Email before",
            t0 + 1_000,
            &[],
        )
        .await;
    service::conversations::set_status(&db, m.conversation_id, Status::Resolved, None, f.agent)
        .await
        .unwrap();
    service::merge::merge(&db, s.customer_id, m.customer_id, f.agent)
        .await
        .unwrap();

    // After the merge, both customers' identifiers lead to the survivor's conversation.
    let late_email = f
        .email_in(
            "grace@navy.example.org",
            "G. Hopper",
            "g-3",
            "Email after",
            now_ms(),
            &[],
        )
        .await;
    let late_sms = f
        .sms_in("+14155550111", "Grace Hopper", "g-4", "SMS after", now_ms())
        .await;
    assert_eq!(late_email.conversation_id, s.conversation_id);
    assert_eq!(late_email.customer_id, s.customer_id);
    assert_eq!(late_sms.conversation_id, s.conversation_id);
    // A reply to the merged customer's address, and a note, on the one conversation.
    let reply = service::reply::queue_reply(
        &db,
        s.conversation_id,
        f.email.id,
        m.identifier_id,
        f.agent,
        "Reply by email after",
    )
    .await
    .unwrap();
    service::conversations::add_note(&db, s.conversation_id, "Note after", f.agent)
        .await
        .unwrap();

    // The merged customer's address unsubscribes while merged: the consent event is written on
    // the survivor's timeline, and goes back with the address.
    service::consent::unsubscribe(&db, m.identifier_id, false)
        .await
        .unwrap();
    assert_eq!(
        consent_events(&timeline_of(&db, s.conversation_id).await),
        1
    );

    service::merge::unmerge(&db, m.customer_id, f.agent)
        .await
        .unwrap();

    let back_items = timeline_of(&db, m.conversation_id).await;
    assert_eq!(consent_events(&back_items), 1, "the unsubscribe came back");
    let back: Vec<String> = back_items
        .iter()
        .filter(|i| !matches!(i, TimelineItem::Event(e) if e.kind == "consent"))
        .map(|i| texts(std::slice::from_ref(i)).remove(0))
        .collect();
    // Its status change from before the merge came back with it.
    assert_eq!(
        back,
        [
            "Email before",
            "status",
            "Email after",
            "Reply by email after"
        ]
    );
    let stay = texts(&timeline_of(&db, s.conversation_id).await);
    assert!(
        stay.contains(&"SMS after".to_string()) && stay.contains(&"Note after".to_string()),
        "{stay:?}"
    );
    assert!(!stay.iter().any(|t| t.contains("Email")), "{stay:?}");
    assert_eq!(
        consent_events(&timeline_of(&db, s.conversation_id).await),
        0
    );
    let owner: i64 = scalar(
        &db,
        &format!("SELECT customer_id FROM messages WHERE id = {reply}"),
    )
    .await;
    assert_eq!(owner, m.customer_id);
    // The merged customer wrote while merged: their conversation is open again, listed, with
    // the newest message as its preview.
    let line = listed(&db, f.agent, m.conversation_id)
        .await
        .expect("listed again");
    assert_eq!(line.status, Status::Open);
    assert_eq!(line.preview, "Reply by email after");
    assert_eq!(line.last_channel, Some(ChannelKind::Email));
    let s_line = listed(&db, f.agent, s.conversation_id).await.unwrap();
    assert_eq!(s_line.preview, "SMS after");
}

async fn a_merge_into_a_customer_merged_later_is_undone_last(db: Db) {
    let f = fx(db.clone()).await;
    let t0 = now_ms() - 600_000;
    let a = f.sms_in("+14155550121", "A", "n-1", "a", t0).await;
    let b = f.sms_in("+14155550122", "B", "n-2", "b", t0 + 1).await;
    let c = f.sms_in("+14155550123", "C", "n-3", "c", t0 + 2).await;
    service::merge::merge(&db, a.customer_id, b.customer_id, f.agent)
        .await
        .unwrap();
    service::merge::merge(&db, c.customer_id, a.customer_id, f.agent)
        .await
        .unwrap();
    // Everything is with C now, B's message included.
    assert_eq!(
        texts(&timeline_of(&db, c.conversation_id).await)
            .iter()
            .filter(|t| t.len() == 1)
            .count(),
        3
    );
    match service::merge::unmerge(&db, b.customer_id, f.agent).await {
        Err(StoreError::Invalid(m)) => {
            assert!(m.contains("undo the later merge first"), "{m}");
            assert!(m.contains("A was merged into C"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // B's panel points at the customer holding everything now.
    let view = service::customers::customer_view(&db, b.customer_id)
        .await
        .unwrap();
    assert_eq!(view.merged_into.map(|c| c.name), Some("C".to_string()));
    service::merge::unmerge(&db, a.customer_id, f.agent)
        .await
        .unwrap();
    assert_eq!(
        texts(&timeline_of(&db, a.conversation_id).await)
            .iter()
            .filter(|t| t.len() == 1)
            .count(),
        2
    );
    service::merge::unmerge(&db, b.customer_id, f.agent)
        .await
        .unwrap();
    for (r, text) in [(&a, "a"), (&b, "b"), (&c, "c")] {
        let t = texts(&timeline_of(&db, r.conversation_id).await);
        assert_eq!(
            t.iter().filter(|t| t.len() == 1).collect::<Vec<_>>(),
            [text]
        );
        assert!(listed(&db, f.agent, r.conversation_id).await.is_some());
    }
    assert!(
        service::merge::merge(&db, a.customer_id, a.customer_id, f.agent)
            .await
            .is_err()
    );
}

async fn a_customer_without_a_conversation_merges_and_comes_back_without_one(db: Db) {
    let f = fx(db.clone()).await;
    let s = f
        .sms_in("+14155550131", "Kim", "k-1", "hello", now_ms() - 1_000)
        .await;
    let other = f
        .email_in(
            "kim@example.com",
            "Kim",
            "k-2",
            "by email",
            now_ms() - 500,
            &[],
        )
        .await;
    // Removing an address with history gives it a customer of its own, with no conversation.
    service::identifiers::remove(&db, other.customer_id, other.identifier_id)
        .await
        .unwrap();
    let detached: i64 = scalar(
        &db,
        &format!(
            "SELECT customer_id FROM identifiers WHERE id = {}",
            other.identifier_id
        ),
    )
    .await;
    assert_ne!(detached, other.customer_id);
    assert!(service::identifiers::conversation_of(&db, detached)
        .await
        .unwrap()
        .is_none());
    // Merged and separated with nothing new: it has no conversation again.
    service::merge::merge(&db, s.customer_id, detached, f.agent)
        .await
        .unwrap();
    service::merge::unmerge(&db, detached, f.agent)
        .await
        .unwrap();
    assert!(service::identifiers::conversation_of(&db, detached)
        .await
        .unwrap()
        .is_none());
    service::merge::merge(&db, s.customer_id, detached, f.agent)
        .await
        .unwrap();
    let back = f
        .email_in("kim@example.com", "Kim", "k-3", "again", now_ms(), &[])
        .await;
    assert_eq!(back.conversation_id, s.conversation_id);
    service::merge::unmerge(&db, detached, f.agent)
        .await
        .unwrap();
    // The message that came while merged needs the conversation, so it stays.
    let c = conversation_of(&db, detached).await;
    assert_eq!(texts(&timeline_of(&db, c).await), ["again"]);
}

crate::both_engines!(
    merge_then_unmerge_restores_both_customers_exactly,
    messages_after_the_merge_go_back_to_their_customer,
    a_merge_into_a_customer_merged_later_is_undone_last,
    a_customer_without_a_conversation_merges_and_comes_back_without_one,
);
