//! Merge suggestions: each kind appears with its reason, a dismissal hides it for good, and
//! none is ever applied by itself.

use super::fx;
use app::model::MergeSuggestion;
use app::service;
use app::store::{now_ms, suggestions, Db};

async fn about(db: &Db, customer: i64, other: i64) -> Option<MergeSuggestion> {
    service::suggestions::for_customer(db, customer)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.customer.id == other)
}

async fn the_same_number_on_two_channels(db: Db) {
    let f = fx(db.clone()).await;
    let t = now_ms() - 10_000;
    let p = f.sms_in("+14155550177", "Pat", "s-1", "sms", t).await;
    let q = f
        .whatsapp_in("+1 415 555 0177", "Patricia", "w-1", "whatsapp", t + 1)
        .await;
    assert_ne!(p.customer_id, q.customer_id, "never merged by itself");
    let s = about(&db, p.customer_id, q.customer_id)
        .await
        .expect("suggested");
    assert_eq!(s.customer.name, "Patricia");
    assert_eq!(s.customer.conversation_id, Some(q.conversation_id));
    assert_eq!(
        s.reasons,
        ["+14155550177 is this customer's phone number and their WhatsApp number"]
    );
    assert!(
        about(&db, q.customer_id, p.customer_id).await.is_some(),
        "both ways"
    );
    suggestions::dismiss(&db, p.customer_id, q.customer_id, f.agent)
        .await
        .unwrap();
    suggestions::dismiss(&db, q.customer_id, p.customer_id, f.agent)
        .await
        .unwrap();
    assert!(about(&db, p.customer_id, q.customer_id).await.is_none());
    assert!(about(&db, q.customer_id, p.customer_id).await.is_none());
}

async fn a_reply_from_a_known_customer_into_another_conversation(db: Db) {
    let f = fx(db.clone()).await;
    let t = now_ms() - 10_000;
    let b = f
        .email_in("beth@example.com", "Beth", "b-1", "order question", t, &[])
        .await;
    let a = f
        .email_in(
            "andy@example.com",
            "Andy",
            "a-1",
            "my own thing",
            t + 1,
            &[],
        )
        .await;
    // Andy (known) answers Beth's thread, say as her colleague in copy.
    let r = f
        .email_in(
            "andy@example.com",
            "Andy",
            "a-2",
            "re: order question",
            t + 2,
            &["b-1@example.com"],
        )
        .await;
    assert_eq!(
        r.customer_id, a.customer_id,
        "a known sender stays who they are"
    );
    assert_eq!(r.conversation_id, a.conversation_id);
    let s = about(&db, a.customer_id, b.customer_id)
        .await
        .expect("suggested");
    assert_eq!(
        s.reasons,
        ["Andy wrote from andy@example.com in reply to an email in Beth's conversation"]
    );
    assert!(about(&db, b.customer_id, a.customer_id).await.is_some());
    // A reply inside one's own conversation suggests nothing.
    f.email_in(
        "beth@example.com",
        "Beth",
        "b-2",
        "thanks",
        t + 3,
        &["b-1@example.com"],
    )
    .await;
    assert_eq!(
        service::suggestions::for_customer(&db, b.customer_id)
            .await
            .unwrap()
            .len(),
        1
    );
    // Once merged, the pair is no longer suggested.
    service::merge::merge(&db, b.customer_id, a.customer_id, f.agent)
        .await
        .unwrap();
    assert!(service::suggestions::for_customer(&db, b.customer_id)
        .await
        .unwrap()
        .is_empty());
    assert!(service::suggestions::for_customer(&db, a.customer_id)
        .await
        .unwrap()
        .is_empty());
}

async fn the_same_name_with_a_matching_pattern(db: Db) {
    let f = fx(db.clone()).await;
    let t = now_ms() - 10_000;
    let g1 = f
        .email_in(
            "grace@navy.example.org",
            "Grace Hopper",
            "g-1",
            "one",
            t,
            &[],
        )
        .await;
    let g2 = f
        .email_in(
            "Grace@Example.com",
            "grace  HOPPER",
            "g-2",
            "two",
            t + 1,
            &[],
        )
        .await;
    // The same name alone is not enough.
    let g3 = f
        .email_in(
            "ghopper@example.net",
            "Grace Hopper",
            "g-3",
            "three",
            t + 2,
            &[],
        )
        .await;
    // Phone numbers ending alike, same name.
    let h1 = f
        .sms_in("+447700900123", "Hedy Lamarr", "h-1", "uk", t + 3)
        .await;
    let h2 = f
        .sms_in("+4917700900123", "hedy lamarr", "h-2", "de", t + 4)
        .await;
    let s = about(&db, g1.customer_id, g2.customer_id)
        .await
        .expect("suggested");
    assert_eq!(
        s.reasons,
        ["Same name, and email addresses with the same local part: grace@navy.example.org and grace@example.com"]
    );
    assert!(about(&db, g2.customer_id, g1.customer_id).await.is_some());
    assert!(about(&db, g1.customer_id, g3.customer_id).await.is_none());
    assert!(about(&db, g3.customer_id, g2.customer_id).await.is_none());
    let s = about(&db, h1.customer_id, h2.customer_id)
        .await
        .expect("suggested");
    assert!(s.reasons[0].contains("same nine digits"), "{s:?}");
    suggestions::dismiss(&db, h2.customer_id, h1.customer_id, f.agent)
        .await
        .unwrap();
    assert!(about(&db, h1.customer_id, h2.customer_id).await.is_none());
    // Nothing was merged along the way.
    for c in [g1, g2, g3, h1, h2] {
        assert!(super::listed(&db, f.agent, c.conversation_id)
            .await
            .is_some());
    }
}

crate::both_engines!(
    the_same_number_on_two_channels,
    a_reply_from_a_known_customer_into_another_conversation,
    the_same_name_with_a_matching_pattern,
);
