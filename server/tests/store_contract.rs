//! One contract, two engines: every store function behaves the same on SQLite and PostgreSQL.

mod plan;
mod raw;

use app::domain::cursor::{ListCursor, TimelineKey};
use app::domain::{ChannelKind, DeliveryState, IdentifierKind, Role, Status};
use app::model::{AssigneeFilter, ListFilter, TimelineItem};
use app::ports::InboundMessage;
use app::service;
use app::service::ingest::{ingest_message, Ingested};
use app::store::{
    channel_accounts, conversations, messages, outbox, raw_inbound, timeline, users, Db, StoreError,
};

async fn account(db: &Db, ch: ChannelKind) -> channel_accounts::AccountRow {
    channel_accounts::ensure_playground_accounts(db)
        .await
        .unwrap();
    channel_accounts::playground_for(db, ch)
        .await
        .unwrap()
        .unwrap()
}

fn msg(kind: IdentifierKind, who: &str, id: &str, text: &str, at: i64) -> InboundMessage {
    InboundMessage {
        identifier_kind: kind,
        identifier: who.into(),
        display_name: Some("Test Customer".into()),
        provider_message_id: id.into(),
        subject: None,
        body_text: text.into(),
        body_html: None,
        received_at: at,
        thread: Default::default(),
        automatic: false,
        meta: None,
        attachments: Vec::new(),
        media: Vec::new(),
    }
}

/// A support agent.
async fn agent(db: &Db, email: &str, name: &str) -> i64 {
    users::create_user(db, email, name, Role::Support, "password-123")
        .await
        .unwrap()
}

/// An inbound SMS from `phone`, stored through the ingest path.
async fn sms_in(
    db: &Db,
    acc: &channel_accounts::AccountRow,
    phone: &str,
    id: &str,
    text: &str,
    at: i64,
) -> Ingested {
    ingest_message(
        db,
        acc,
        None,
        &msg(IdentifierKind::Phone, phone, id, text, at),
    )
    .await
    .unwrap()
}

fn all_open() -> ListFilter {
    ListFilter {
        status: Status::Open,
        assignee: AssigneeFilter::All,
        channel: None,
        label: None,
    }
}

async fn users_are_unique_and_passwords_verify(db: Db) {
    let id = users::create_user(
        &db,
        "Kim@Example.com",
        "Kim",
        Role::Support,
        "correct horse battery",
    )
    .await
    .unwrap();
    let u = users::find_by_email(&db, "kim@example.COM")
        .await
        .unwrap()
        .expect("found by normalised email");
    assert_eq!(u.id, id);
    assert!(
        u.password_hash.starts_with("$argon2id$"),
        "Argon2id hash: {}",
        u.password_hash
    );
    assert!(users::verify_password(
        "correct horse battery",
        &u.password_hash
    ));
    assert!(!users::verify_password(
        "correct horse batterY",
        &u.password_hash
    ));
    let dup = users::create_user(
        &db,
        "kim@example.com",
        "Kim 2",
        Role::Admin,
        "another password",
    )
    .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let short = users::create_user(&db, "x@example.com", "X", Role::Admin, "short").await;
    assert!(matches!(short, Err(StoreError::Invalid(_))));
    users::set_disabled(&db, id, true).await.unwrap();
    assert!(users::get(&db, id).await.unwrap().unwrap().disabled);
    assert!(matches!(
        users::set_disabled(&db, 999_999, true).await,
        Err(StoreError::NotFound)
    ));
}

async fn inbound_threads_by_identifier_and_is_idempotent(db: Db) {
    let sms = account(&db, ChannelKind::Sms).await;
    let a = ingest_message(
        &db,
        &sms,
        None,
        &msg(
            IdentifierKind::Phone,
            "+1 (415) 555-0101",
            "m1",
            "hello",
            1_000,
        ),
    )
    .await
    .unwrap();
    assert!(!a.duplicate);
    // The same number written another way is the same customer and conversation.
    let b = sms_in(&db, &sms, "+14155550101", "m2", "again", 2_000).await;
    assert_eq!(a.customer_id, b.customer_id);
    assert_eq!(a.conversation_id, b.conversation_id);
    assert_ne!(a.message_id, b.message_id);
    // A provider retry of m1 adds nothing.
    let c = sms_in(&db, &sms, "+14155550101", "m1", "hello", 1_000).await;
    assert!(c.duplicate);
    assert_eq!(c.message_id, a.message_id);
    let page = timeline::page(&db, a.conversation_id, None, 50)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    // Another number is another customer.
    let d = sms_in(&db, &sms, "+14155550102", "m3", "hi", 3_000).await;
    assert_ne!(d.customer_id, a.customer_id);
    // Wrong identifier kind for the account is refused, not stored.
    let e = ingest_message(
        &db,
        &sms,
        None,
        &msg(IdentifierKind::Email, "a@b.co", "m4", "x", 4_000),
    )
    .await;
    assert!(matches!(e, Err(StoreError::Invalid(_))));
    let bad = ingest_message(
        &db,
        &sms,
        None,
        &msg(IdentifierKind::Phone, "not a phone", "m5", "x", 4_000),
    )
    .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
}

async fn list_orders_filters_and_pages(db: Db) {
    let sms = account(&db, ChannelKind::Sms).await;
    let mail = account(&db, ChannelKind::Email).await;
    let me = agent(&db, "me@example.com", "Me").await;
    for i in 0..7i64 {
        let (acc, kind, who) = if i % 2 == 0 {
            (&sms, IdentifierKind::Phone, format!("+1415555{:04}", i))
        } else {
            (&mail, IdentifierKind::Email, format!("c{i}@example.com"))
        };
        ingest_message(
            &db,
            acc,
            None,
            &msg(
                kind,
                &who,
                &format!("l{i}"),
                &format!("text {i}"),
                10_000 + i * 100,
            ),
        )
        .await
        .unwrap();
    }
    let page = conversations::list(&db, me, &all_open(), None, 50)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 7);
    let times: Vec<i64> = page.items.iter().map(|c| c.last_activity_at).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest activity first");
    assert!(page.items.iter().all(|c| c.unread), "nobody has read them");
    assert!(page.next.is_none());

    // Keyset pages of 3 cover everything exactly once.
    let mut seen = vec![];
    let mut after = None;
    loop {
        let p = conversations::list(&db, me, &all_open(), after, 3)
            .await
            .unwrap();
        seen.extend(p.items.iter().map(|c| c.id));
        match p.next {
            Some(n) => after = Some(ListCursor::decode(&n).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, page.items.iter().map(|c| c.id).collect::<Vec<_>>());

    let only_sms = ListFilter {
        channel: Some(ChannelKind::Sms),
        ..all_open()
    };
    let p = conversations::list(&db, me, &only_sms, None, 50)
        .await
        .unwrap();
    assert_eq!(p.items.len(), 4);
    assert!(p
        .items
        .iter()
        .all(|c| c.last_channel == Some(ChannelKind::Sms)));

    let first = page.items[0].id;
    service::conversations::assign(&db, first, Some(me), me)
        .await
        .unwrap();
    let mine = ListFilter {
        assignee: AssigneeFilter::Mine,
        ..all_open()
    };
    let p = conversations::list(&db, me, &mine, None, 50).await.unwrap();
    assert_eq!(
        p.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![first]
    );
    assert_eq!(p.items[0].assignee_name.as_deref(), Some("Me"));
    let unassigned = ListFilter {
        assignee: AssigneeFilter::Unassigned,
        ..all_open()
    };
    assert_eq!(
        conversations::list(&db, me, &unassigned, None, 50)
            .await
            .unwrap()
            .items
            .len(),
        6
    );

    conversations::mark_read(&db, me, first).await.unwrap();
    let p = conversations::list(&db, me, &all_open(), None, 50)
        .await
        .unwrap();
    assert!(!p.items.iter().find(|c| c.id == first).unwrap().unread);

    service::conversations::set_status(&db, first, Status::Resolved, None, me)
        .await
        .unwrap();
    assert_eq!(
        conversations::list(&db, me, &all_open(), None, 50)
            .await
            .unwrap()
            .items
            .len(),
        6
    );
    let resolved = ListFilter {
        status: Status::Resolved,
        ..all_open()
    };
    assert_eq!(
        conversations::list(&db, me, &resolved, None, 50)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // The customer writing again reopens it.
    let d = service::conversations::detail(&db, first).await.unwrap();
    let ident = &d.customer.identifiers[0];
    let acc = if ident.kind == IdentifierKind::Phone {
        &sms
    } else {
        &mail
    };
    ingest_message(
        &db,
        acc,
        None,
        &msg(ident.kind, &ident.value, "again", "back", 99_000),
    )
    .await
    .unwrap();
    assert_eq!(
        service::conversations::detail(&db, first)
            .await
            .unwrap()
            .status,
        Status::Open
    );
}

async fn timeline_pages_merge_messages_and_events_without_gaps(db: Db) {
    let sms = account(&db, ChannelKind::Sms).await;
    let me = agent(&db, "t@example.com", "T").await;
    let mut conv = 0;
    for i in 0..120i64 {
        // Several messages share a millisecond to exercise the tie-break.
        let r = ingest_message(
            &db,
            &sms,
            None,
            &msg(
                IdentifierKind::Phone,
                "+14155550199",
                &format!("t{i}"),
                &format!("m{i}"),
                1_000 + i / 3,
            ),
        )
        .await
        .unwrap();
        conv = r.conversation_id;
    }
    for i in 0..15 {
        service::conversations::add_note(&db, conv, &format!("note {i}"), me)
            .await
            .unwrap();
    }
    let mut all: Vec<TimelineItem> = vec![];
    let mut before = None;
    let mut pages = 0;
    loop {
        let p = timeline::page(&db, conv, before, 50).await.unwrap();
        assert!(p.items.len() <= 50);
        pages += 1;
        let mut items = p.items;
        items.append(&mut all);
        all = items;
        match p.older {
            Some(c) => before = Some(TimelineKey::decode(&c).unwrap()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 135, "every message and note exactly once");
    let keys: Vec<_> = all.iter().map(|i| i.key()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "oldest first, no duplicates");
    let notes = all
        .iter()
        .filter(|i| matches!(i, TimelineItem::Event(e) if e.kind == "note"))
        .count();
    assert_eq!(notes, 15);
}

async fn replies_are_queued_with_an_outbox_entry_and_states_only_advance(db: Db) {
    let sms = account(&db, ChannelKind::Sms).await;
    let mail = account(&db, ChannelKind::Email).await;
    let me = agent(&db, "r@example.com", "R").await;
    let r = sms_in(&db, &sms, "+14155550150", "x1", "hi", 1_000).await;
    let d = service::conversations::detail(&db, r.conversation_id)
        .await
        .unwrap();
    let opt = d
        .reply_options
        .iter()
        .find(|o| o.channel == ChannelKind::Sms)
        .expect("sms option");
    assert_eq!(
        d.default_reply.as_deref(),
        Some(opt.key().as_str()),
        "default is where the customer wrote from"
    );
    assert!(
        d.reply_options
            .iter()
            .filter(|o| o.channel == ChannelKind::Email)
            .all(|o| o.identifier_id == 0
                && o.unavailable.as_deref() == Some("No email address for this customer.")),
        "no email identifier: the email channel is listed, unavailable, with the reason"
    );

    let mid = service::reply::queue_reply(
        &db,
        r.conversation_id,
        opt.account_id,
        opt.identifier_id,
        me,
        "  on my way ",
    )
    .await
    .unwrap();
    // Email account with a phone identifier is refused.
    let wrong =
        service::reply::queue_reply(&db, r.conversation_id, mail.id, opt.identifier_id, me, "x")
            .await;
    assert!(matches!(wrong, Err(StoreError::Invalid(_))), "{wrong:?}");
    assert!(matches!(
        service::reply::queue_reply(
            &db,
            r.conversation_id,
            opt.account_id,
            opt.identifier_id,
            me,
            "   "
        )
        .await,
        Err(StoreError::Invalid(_))
    ));

    let job = outbox::claim(&db).await.unwrap().expect("a due job");
    assert_eq!(job.message_id, mid);
    assert_eq!(job.attempt, 1);
    assert!(
        outbox::claim(&db).await.unwrap().is_none(),
        "a leased job is not handed out twice"
    );
    let o = outbox::load(&db, mid).await.unwrap();
    assert_eq!(o.to, "+14155550150");
    assert_eq!(o.body_text, "on my way");

    assert!(
        messages::set_delivery(&db, mid, DeliveryState::Sending, None, None)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        messages::set_delivery(&db, mid, DeliveryState::Delivered, None, Some("SM1"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        messages::set_delivery(&db, mid, DeliveryState::Sent, None, None)
            .await
            .unwrap()
            .is_none(),
        "late report ignored"
    );
    outbox::complete(&db, job.outbox_id).await.unwrap();
    assert_eq!(
        messages::by_provider_id(&db, sms.id, "SM1").await.unwrap(),
        Some(mid)
    );
    let page = timeline::page(&db, r.conversation_id, None, 50)
        .await
        .unwrap();
    let TimelineItem::Message(m) = page.items.last().unwrap() else {
        panic!()
    };
    assert_eq!(m.delivery_state, DeliveryState::Delivered);
    assert_eq!(m.author_name.as_deref(), Some("R"));
    let list = conversations::list(&db, me, &all_open(), None, 10)
        .await
        .unwrap();
    assert_eq!(list.items[0].preview, "on my way");
}

async fn retry_schedules_later_attempt(db: Db) {
    let sms = account(&db, ChannelKind::Sms).await;
    let me = agent(&db, "q@example.com", "Q").await;
    let r = sms_in(&db, &sms, "+14155550151", "y1", "hi", 1_000).await;
    let d = service::conversations::detail(&db, r.conversation_id)
        .await
        .unwrap();
    let o = &d.reply_options[0];
    service::reply::queue_reply(
        &db,
        r.conversation_id,
        o.account_id,
        o.identifier_id,
        me,
        "hello",
    )
    .await
    .unwrap();
    let job = outbox::claim(&db).await.unwrap().unwrap();
    outbox::retry_later(&db, job.outbox_id, 60_000, "provider down")
        .await
        .unwrap();
    assert!(
        outbox::claim(&db).await.unwrap().is_none(),
        "not due before its backoff"
    );
    outbox::retry_later(&db, job.outbox_id, -1, "due now")
        .await
        .unwrap();
    let again = outbox::claim(&db).await.unwrap().unwrap();
    assert_eq!(again.attempt, 2);
}

async fn snoozed_conversations_wake_up(db: Db) {
    let acc = account(&db, ChannelKind::Sms).await;
    let me = agent(&db, "s@example.com", "S").await;
    let r = sms_in(&db, &acc, "+14155550152", "z1", "hi", 1_000).await;
    assert!(
        service::conversations::set_status(&db, r.conversation_id, Status::Snoozed, None, me)
            .await
            .is_err(),
        "snooze needs a time"
    );
    let until = app::store::now_ms() + 60_000;
    service::conversations::set_status(&db, r.conversation_id, Status::Snoozed, Some(until), me)
        .await
        .unwrap();
    // The timeline says who snoozed it, and carries the end as a time of its own (the browser
    // shows it in the agent's zone), not as UTC words.
    let snooze = app::store::timeline::page(&db, r.conversation_id, None, 50)
        .await
        .unwrap()
        .items
        .into_iter()
        .find_map(|i| match i {
            TimelineItem::Event(e) if e.kind == "snooze" => Some(e),
            _ => None,
        })
        .expect("a snooze event");
    assert_eq!(snooze.summary, "S snoozed the conversation");
    assert_eq!(snooze.until, Some(until));
    assert!(service::conversations::wake_snoozed(&db, until - 1)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        service::conversations::wake_snoozed(&db, until)
            .await
            .unwrap(),
        vec![r.conversation_id]
    );
    assert_eq!(
        service::conversations::detail(&db, r.conversation_id)
            .await
            .unwrap()
            .status,
        Status::Open
    );
    let p = timeline::page(&db, r.conversation_id, None, 50)
        .await
        .unwrap();
    let kinds: Vec<String> = p
        .items
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Event(e) => Some(e.kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec!["snooze", "reopen"]);
}

/// The demo's status changes and notes come a minute after their conversation's last message,
/// not at the moment the demo was loaded (which put them after every message, "today").
async fn demo_events_follow_their_conversations_messages(db: Db) {
    server::demo_data::load_if_empty(&db).await.unwrap();
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT e.id, e.created_at, (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = e.conversation_id) \
         FROM events e WHERE e.kind IN ('status', 'note')",
    )
    .fetch_all(&db.read)
    .await
    .unwrap();
    assert!(rows.len() >= 2, "{rows:?}");
    for (id, at, last) in rows {
        assert!(
            at > last && at <= last + 60_000,
            "event {id} at {at}, the conversation's last message at {last}"
        );
    }
}

both_engines!(
    demo_events_follow_their_conversations_messages,
    users_are_unique_and_passwords_verify,
    inbound_threads_by_identifier_and_is_idempotent,
    list_orders_filters_and_pages,
    timeline_pages_merge_messages_and_events_without_gaps,
    replies_are_queued_with_an_outbox_entry_and_states_only_advance,
    retry_schedules_later_attempt,
    snoozed_conversations_wake_up,
);
