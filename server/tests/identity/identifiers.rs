//! Agents add, edit and remove identifiers; values are normalised so written forms meet, and
//! an identifier another customer holds offers a merge.

use super::{fx, scalar, timeline_of};
use app::domain::{ChannelKind, IdentifierKind};
use app::model::TimelineItem;
use app::service;
use app::service::identifiers::{self, Saved};
use app::store::{now_ms, Db, StoreError};

async fn values_of(db: &Db, customer: i64) -> Vec<(IdentifierKind, String)> {
    service::customers::customer_view(db, customer)
        .await
        .unwrap()
        .identifiers
        .into_iter()
        .map(|i| (i.kind, i.value))
        .collect()
}

fn invalid(r: Result<Saved, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid(m)) => m,
        other => panic!("expected a refusal in words, got {other:?}"),
    }
}

async fn identifiers_are_normalised_and_a_taken_one_offers_a_merge(db: Db) {
    let f = fx(db.clone()).await;
    let t = now_ms() - 60_000;
    let alan = f
        .sms_in("+14155550123", "Alan Turing", "a-1", "hi", t)
        .await;
    let bob = f
        .email_in("bob@example.com", "Bob", "b-1", "hello", t + 1, &[])
        .await;

    // The national form an agent types meets the international form the SMS came with.
    match identifiers::add(
        &db,
        bob.customer_id,
        IdentifierKind::Phone,
        "(415) 555-0123",
        "US",
        f.agent,
    )
    .await
    .unwrap()
    {
        Saved::BelongsTo { owner, value } => {
            assert_eq!(owner.id, alan.customer_id);
            assert_eq!(owner.name, "Alan Turing");
            assert_eq!(owner.conversation_id, Some(alan.conversation_id));
            assert_eq!(value, "+14155550123");
        }
        other => panic!("{other:?}"),
    }
    assert!(!values_of(&db, bob.customer_id)
        .await
        .iter()
        .any(|(_, v)| v == "+14155550123"));
    // ... and the panel offers the merge, with the reason.
    let s = service::suggestions::for_customer(&db, bob.customer_id)
        .await
        .unwrap();
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(s[0].customer.id, alan.customer_id);
    assert!(
        s[0].reasons.iter().any(|r| r == "Sam Agent tried to add the phone number +14155550123 to Bob, but Alan Turing has it"),
        "{s:?}"
    );
    assert_eq!(
        service::suggestions::for_customer(&db, alan.customer_id)
            .await
            .unwrap()[0]
            .customer
            .id,
        bob.customer_id
    );

    // Adding what the customer already has (written another way) confirms it, adds nothing.
    assert_eq!(
        identifiers::add(
            &db,
            alan.customer_id,
            IdentifierKind::Phone,
            "415.555.0123",
            "US",
            f.agent
        )
        .await
        .unwrap(),
        Saved::Stored {
            identifier_id: alan.identifier_id
        }
    );
    // The same number as a WhatsApp number is another identifier of the same customer.
    let wa = match identifiers::add(
        &db,
        alan.customer_id,
        IdentifierKind::Whatsapp,
        "+1 (415) 555-0123",
        "GB",
        f.agent,
    )
    .await
    .unwrap()
    {
        Saved::Stored { identifier_id } => identifier_id,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        values_of(&db, alan.customer_id).await,
        [
            (IdentifierKind::Phone, "+14155550123".to_string()),
            (IdentifierKind::Whatsapp, "+14155550123".to_string())
        ]
    );
    // A national number of the configured region.
    identifiers::add(
        &db,
        alan.customer_id,
        IdentifierKind::Phone,
        "020 7946 0958",
        "GB",
        f.agent,
    )
    .await
    .unwrap();
    assert!(values_of(&db, alan.customer_id)
        .await
        .contains(&(IdentifierKind::Phone, "+442079460958".into())));

    // Emails meet whatever their case and Unicode form (composed or decomposed accents).
    identifiers::add(
        &db,
        bob.customer_id,
        IdentifierKind::Email,
        "Rene\u{301}@Example.COM",
        "US",
        f.agent,
    )
    .await
    .unwrap();
    assert!(values_of(&db, bob.customer_id)
        .await
        .contains(&(IdentifierKind::Email, "ren\u{e9}@example.com".into())));
    assert!(matches!(
        identifiers::add(&db, alan.customer_id, IdentifierKind::Email, "REN\u{c9}@example.com", "US", f.agent).await.unwrap(),
        Saved::BelongsTo { owner, .. } if owner.id == bob.customer_id
    ));
    // Provider ids are kept as given.
    identifiers::add(
        &db,
        alan.customer_id,
        IdentifierKind::Telegram,
        " 700100200 ",
        "US",
        f.agent,
    )
    .await
    .unwrap();
    assert!(values_of(&db, alan.customer_id)
        .await
        .contains(&(IdentifierKind::Telegram, "700100200".into())));

    // Bad values are refused in words.
    let m = invalid(
        identifiers::add(
            &db,
            alan.customer_id,
            IdentifierKind::Phone,
            "12",
            "US",
            f.agent,
        )
        .await,
    );
    assert!(m.contains("not a") && m.contains("12"), "{m}");
    let m = invalid(
        identifiers::add(
            &db,
            alan.customer_id,
            IdentifierKind::Email,
            "ada at example",
            "US",
            f.agent,
        )
        .await,
    );
    assert!(m.contains("is not an email address"), "{m}");
    assert!(matches!(
        identifiers::add(
            &db,
            999_999,
            IdentifierKind::Email,
            "x@example.com",
            "US",
            f.agent
        )
        .await,
        Err(StoreError::NotFound)
    ));

    // Removing one without history deletes it; removing again changes nothing.
    identifiers::remove(&db, alan.customer_id, wa)
        .await
        .unwrap();
    identifiers::remove(&db, alan.customer_id, wa)
        .await
        .unwrap();
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT COUNT(*) FROM identifiers WHERE id = {wa}")
        )
        .await,
        0
    );
}

async fn edits_keep_history_with_the_address_it_went_through(db: Db) {
    let f = fx(db.clone()).await;
    let bob = f
        .email_in(
            "bob@example.com",
            "Bob",
            "b-1",
            "hello",
            now_ms() - 1_000,
            &[],
        )
        .await;
    let fresh = match identifiers::add(
        &db,
        bob.customer_id,
        IdentifierKind::Email,
        "bob@exmaple.com",
        "US",
        f.agent,
    )
    .await
    .unwrap()
    {
        Saved::Stored { identifier_id } => identifier_id,
        other => panic!("{other:?}"),
    };
    // A typo fixed: the same row, the new value.
    assert_eq!(
        identifiers::edit(
            &db,
            bob.customer_id,
            fresh,
            "Bob@Example.net",
            "US",
            f.agent
        )
        .await
        .unwrap(),
        Saved::Stored {
            identifier_id: fresh
        }
    );
    // The same value written differently changes only the label.
    identifiers::edit(
        &db,
        bob.customer_id,
        fresh,
        "BOB@example.NET",
        "US",
        f.agent,
    )
    .await
    .unwrap();
    let v = service::customers::customer_view(&db, bob.customer_id)
        .await
        .unwrap();
    let row = v.identifiers.iter().find(|i| i.id == fresh).unwrap();
    assert_eq!(
        (row.value.as_str(), row.label.as_str()),
        ("bob@example.net", "BOB@example.NET")
    );

    // An address that wrote to us keeps its history: the edit detaches it and adds the new one.
    let new_id = match identifiers::edit(
        &db,
        bob.customer_id,
        bob.identifier_id,
        "robert@example.com",
        "US",
        f.agent,
    )
    .await
    .unwrap()
    {
        Saved::Stored { identifier_id } => identifier_id,
        other => panic!("{other:?}"),
    };
    assert_ne!(new_id, bob.identifier_id);
    let values: Vec<String> = service::customers::customer_view(&db, bob.customer_id)
        .await
        .unwrap()
        .identifiers
        .into_iter()
        .map(|i| i.value)
        .collect();
    assert_eq!(values, ["bob@example.net", "robert@example.com"]);
    let old_owner = scalar(
        &db,
        &format!(
            "SELECT customer_id FROM identifiers WHERE id = {}",
            bob.identifier_id
        ),
    )
    .await;
    assert_ne!(old_owner, bob.customer_id);
    // The old message stays in Bob's timeline, shown with the address it came from.
    let items = timeline_of(&db, bob.conversation_id).await;
    assert!(
        matches!(&items[0], TimelineItem::Message(m) if m.identifier.as_deref() == Some("bob@example.com"))
    );
    // Its next message starts a conversation of its own.
    let again = f
        .email_in(
            "bob@example.com",
            "Bob",
            "b-2",
            "hello again",
            now_ms(),
            &[],
        )
        .await;
    assert_eq!(again.customer_id, old_owner);
    assert_ne!(again.conversation_id, bob.conversation_id);

    // Editing someone else's identifier is not found; a value another holds offers a merge.
    assert!(matches!(
        identifiers::edit(
            &db,
            bob.customer_id,
            bob.identifier_id,
            "x@example.com",
            "US",
            f.agent
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        identifiers::edit(&db, bob.customer_id, fresh, "bob@example.com", "US", f.agent).await.unwrap(),
        Saved::BelongsTo { owner, .. } if owner.id == old_owner
    ));
}

async fn the_preferred_channel_is_one_the_customer_can_be_reached_on(db: Db) {
    let f = fx(db.clone()).await;
    let a = f.sms_in("+14155550141", "Ann", "p-1", "hi", now_ms()).await;
    match identifiers::set_preferred_channel(&db, a.customer_id, Some(ChannelKind::Whatsapp)).await
    {
        Err(StoreError::Invalid(m)) => assert_eq!(
            m,
            "Ann has no WhatsApp number to reach them on WhatsApp: add one first."
        ),
        other => panic!("{other:?}"),
    }
    identifiers::set_preferred_channel(&db, a.customer_id, Some(ChannelKind::Sms))
        .await
        .unwrap();
    let v = service::customers::customer_view(&db, a.customer_id)
        .await
        .unwrap();
    assert_eq!(v.preferred_channel, Some(ChannelKind::Sms));
    identifiers::add(
        &db,
        a.customer_id,
        IdentifierKind::Whatsapp,
        "+14155550141",
        "US",
        f.agent,
    )
    .await
    .unwrap();
    identifiers::set_preferred_channel(&db, a.customer_id, Some(ChannelKind::Whatsapp))
        .await
        .unwrap();
    assert_eq!(
        service::customers::customer_view(&db, a.customer_id)
            .await
            .unwrap()
            .preferred_channel,
        Some(ChannelKind::Whatsapp)
    );
    identifiers::set_preferred_channel(&db, a.customer_id, None)
        .await
        .unwrap();
    assert_eq!(
        service::customers::customer_view(&db, a.customer_id)
            .await
            .unwrap()
            .preferred_channel,
        None
    );
}

crate::both_engines!(
    identifiers_are_normalised_and_a_taken_one_offers_a_merge,
    edits_keep_history_with_the_address_it_went_through,
    the_preferred_channel_is_one_the_customer_can_be_reached_on,
);
