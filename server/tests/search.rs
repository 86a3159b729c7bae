//! Search on both engines: words with stemming, phrases, leaving out, subjects, attachment
//! names, notes, customers by name and by identifiers written any way, merged customers,
//! filters, paging without repeats, bad input answered in words, and the index in the plan.

use app::domain::{ChannelKind, IdentifierKind, Role, Status};
use app::model::{Matched, SearchPage};
use app::ports::{InboundMessage, NewAttachment};
use app::service::ingest::{ingest_message, Ingested};
use app::service::search::{search, Searcher, PAGE};
use app::store::{channel_accounts, users, Db};

const DAY: i64 = 86_400_000;
/// 2026-03-02T12:00:00Z.
const T0: i64 = 1_772_452_800_000;

async fn account(db: &Db, ch: ChannelKind) -> channel_accounts::AccountRow {
    channel_accounts::ensure_playground_accounts(db)
        .await
        .unwrap();
    channel_accounts::playground_for(db, ch)
        .await
        .unwrap()
        .unwrap()
}

struct In<'a> {
    kind: IdentifierKind,
    who: &'a str,
    name: &'a str,
    id: &'a str,
    subject: Option<&'a str>,
    text: &'a str,
    at: i64,
    files: &'a [&'a str],
}

async fn ingest(db: &Db, ch: ChannelKind, m: In<'_>) -> Ingested {
    let acc = account(db, ch).await;
    let msg = InboundMessage {
        identifier_kind: m.kind,
        identifier: m.who.into(),
        display_name: Some(m.name.into()),
        provider_message_id: m.id.into(),
        subject: m.subject.map(str::to_string),
        body_text: m.text.into(),
        body_html: None,
        received_at: m.at,
        thread: Default::default(),
        automatic: false,
        meta: None,
        attachments: m
            .files
            .iter()
            .map(|f| NewAttachment {
                filename: f.to_string(),
                content_type: "application/pdf".into(),
                content_id: None,
                data: b"%PDF-1.4".to_vec(),
            })
            .collect(),
        media: Vec::new(),
    };
    ingest_message(db, &acc, None, &msg).await.unwrap()
}

async fn sms(db: &Db, phone: &str, name: &str, id: &str, text: &str, at: i64) -> Ingested {
    ingest(
        db,
        ChannelKind::Sms,
        In {
            kind: IdentifierKind::Phone,
            who: phone,
            name,
            id,
            subject: None,
            text,
            at,
            files: &[],
        },
    )
    .await
}

async fn find(db: &Db, user: i64, q: &str) -> SearchPage {
    find_after(db, user, q, None).await
}

async fn find_after(db: &Db, user: i64, q: &str, after: Option<&str>) -> SearchPage {
    let who = Searcher {
        user_id: user,
        zone: "UTC",
        region: "US",
    };
    search(db, &who, q, after)
        .await
        .unwrap_or_else(|e| panic!("search {q:?}: {e}"))
}

fn names(p: &SearchPage) -> Vec<String> {
    p.items
        .iter()
        .map(|r| r.conversation.customer_name.clone())
        .collect()
}

fn marked(p: &SearchPage, i: usize) -> Vec<String> {
    p.items[i]
        .snippet
        .iter()
        .filter(|(_, on)| *on)
        .map(|(t, _)| t.to_lowercase())
        .collect()
}

async fn agent(db: &Db) -> i64 {
    users::create_user(
        db,
        "sam@example.com",
        "Sam Agent",
        Role::Support,
        "password-123",
    )
    .await
    .unwrap()
}

/// Three customers on SMS and email, with words, subjects, a file and a note.
async fn fixture(db: &Db) -> (i64, [Ingested; 3]) {
    let me = agent(db).await;
    let rita = sms(
        db,
        "+1 415 555 0101",
        "Rita Alvarez",
        "r1",
        "My parcel is late, I want a refund",
        T0,
    )
    .await;
    let _ = sms(
        db,
        "+1 415 555 0101",
        "Rita Alvarez",
        "r2",
        "Spam spam refunds please",
        T0 + 1000,
    )
    .await;
    let omar = ingest(
        db,
        ChannelKind::Email,
        In {
            kind: IdentifierKind::Email,
            who: "Omar.Haddad@Example.com",
            name: "Omar Haddad",
            id: "<o1@example.com>",
            subject: Some("Invoice question"),
            text: "The late parcel arrived broken. Refunded yet?",
            at: T0 + DAY,
            files: &["invoice-2291.pdf"],
        },
    )
    .await;
    let lee = sms(
        db,
        "+44 20 7946 0958",
        "Lee Chen",
        "l1",
        "Where is my order? The courier said tomorrow",
        T0 + 2 * DAY,
    )
    .await;
    (me, [rita, omar, lee])
}

async fn words_stems_phrases_and_leaving_out(db: Db) {
    let (me, [rita, omar, lee]) = fixture(&db).await;
    // Stemming: "refund" finds "refund", "refunds" and "Refunded"; newest first.
    let p = find(&db, me, "refund").await;
    assert_eq!(names(&p), ["Omar Haddad", "Rita Alvarez"], "{p:?}");
    assert_eq!(p.items[0].conversation.id, omar.conversation_id);
    assert_eq!(marked(&p, 0), ["refunded"]);
    // Rita's newest match is her second message.
    assert!(matches!(p.items[1].matched, Matched::Message { .. }));
    assert_eq!(marked(&p, 1), ["refunds"]);

    // A phrase matches the words in order only.
    let p = find(&db, me, "\"late parcel\"").await;
    assert_eq!(names(&p), ["Omar Haddad"]);
    let p = find(&db, me, "parcel late").await;
    assert_eq!(names(&p), ["Omar Haddad", "Rita Alvarez"]);
    // Leaving out: Rita's newest refund message has spam in it, her first does not.
    let p = find(&db, me, "refund -spam").await;
    assert_eq!(names(&p), ["Omar Haddad", "Rita Alvarez"]);
    assert_eq!(marked(&p, 1), ["refund"], "her older message");
    let p = find(&db, me, "parcel -refunds").await;
    assert!(p.items.is_empty(), "{p:?}");
    // OR.
    let p = find(&db, me, "courier OR invoice").await;
    assert_eq!(names(&p), ["Lee Chen", "Omar Haddad"]);
    // Email subjects and attachment names.
    let p = find(&db, me, "invoice question").await;
    assert_eq!(names(&p), ["Omar Haddad"]);
    let p = find(&db, me, "2291").await;
    assert_eq!(names(&p), ["Omar Haddad"], "the file name");
    let p = find(&db, me, "has:attachment").await;
    assert_eq!(names(&p), ["Omar Haddad"]);
    let p = find(&db, me, "refund has:attachment").await;
    assert_eq!(names(&p), ["Omar Haddad"]);
    // Filters on messages.
    let p = find(&db, me, "refund channel:sms").await;
    assert_eq!(names(&p), ["Rita Alvarez"]);
    let p = find(&db, me, "refund from:agent").await;
    assert!(p.items.is_empty());
    let p = find(&db, me, "refund after:2026-03-03").await;
    assert_eq!(names(&p), ["Omar Haddad"]);
    let p = find(&db, me, "refund before:2026-03-03").await;
    assert_eq!(names(&p), ["Rita Alvarez"]);
    assert_eq!(p.filters, ["before 2026-03-03"]);
    let _ = (rita, lee);
}

async fn notes_labels_status_and_assignee(db: Db) {
    let (me, [rita, omar, lee]) = fixture(&db).await;
    app::service::conversations::add_note(
        &db,
        lee.conversation_id,
        "Customer prefers a callback on Fridays",
        me,
    )
    .await
    .unwrap();
    let p = find(&db, me, "callback").await;
    assert_eq!(names(&p), ["Lee Chen"]);
    assert_eq!(p.items[0].matched, Matched::Note);
    let p = find(&db, me, "callback is:note").await;
    assert_eq!(names(&p), ["Lee Chen"]);
    let p = find(&db, me, "refund is:note").await;
    assert!(p.items.is_empty());

    // Labels: put on, found by filter alone and with words; a timeline event each time.
    let vip = app::service::labels::create(&db, "VIP", "purple")
        .await
        .unwrap();
    assert!(
        app::service::labels::set(&db, omar.conversation_id, vip.id, true, me)
            .await
            .unwrap()
    );
    assert!(
        !app::service::labels::set(&db, omar.conversation_id, vip.id, true, me)
            .await
            .unwrap(),
        "once"
    );
    let p = find(&db, me, "label:vip").await;
    assert_eq!(names(&p), ["Omar Haddad"]);
    assert_eq!(p.items[0].conversation.labels[0].name, "VIP");
    assert_eq!(
        names(&find(&db, me, "refund label:VIP").await),
        ["Omar Haddad"]
    );
    let p = find(&db, me, "label:nothing").await;
    assert!(
        p.items.is_empty() && p.notices[0].contains("No label"),
        "{p:?}"
    );
    let events: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM events WHERE conversation_id = $1 ORDER BY id")
            .bind(omar.conversation_id)
            .fetch_all(&db.read)
            .await
            .unwrap();
    assert_eq!(events.iter().filter(|k| *k == "label_added").count(), 1);
    assert!(
        app::service::labels::set(&db, omar.conversation_id, vip.id, false, me)
            .await
            .unwrap()
    );
    assert!(find(&db, me, "label:vip").await.items.is_empty());

    // Status and assignee.
    app::service::conversations::set_status(&db, rita.conversation_id, Status::Resolved, None, me)
        .await
        .unwrap();
    assert_eq!(
        names(&find(&db, me, "refund status:resolved").await),
        ["Rita Alvarez"]
    );
    assert_eq!(
        names(&find(&db, me, "refund status:open").await),
        ["Omar Haddad"]
    );
    app::service::conversations::assign(&db, lee.conversation_id, Some(me), me)
        .await
        .unwrap();
    assert_eq!(names(&find(&db, me, "assignee:me").await), ["Lee Chen"]);
    assert_eq!(
        names(&find(&db, me, "assignee:\"Sam Agent\"").await),
        ["Lee Chen"]
    );
    assert_eq!(
        names(&find(&db, me, "order assignee:me").await),
        ["Lee Chen"]
    );
    assert_eq!(
        names(&find(&db, me, "assignee:none status:open").await),
        ["Omar Haddad"]
    );
}

async fn customers_by_name_and_identifiers_written_any_way(db: Db) {
    let (me, [rita, omar, lee]) = fixture(&db).await;
    for typed in [
        "+1 415 555 0101",
        "(415) 555-0101",
        "415.555.0101",
        "+14155550101",
        "415 555 0101",
    ] {
        let p = find(&db, me, typed).await;
        assert_eq!(names(&p), ["Rita Alvarez"], "{typed}: {p:?}");
        assert_eq!(p.items[0].conversation.id, rita.conversation_id);
        assert_eq!(p.items[0].matched, Matched::Customer);
    }
    let p = find(&db, me, "+44 20 7946 0958").await;
    assert_eq!(names(&p), ["Lee Chen"]);
    // An address in any case; with words, only that customer's messages.
    assert_eq!(
        names(&find(&db, me, "OMAR.HADDAD@example.com").await),
        ["Omar Haddad"]
    );
    assert_eq!(
        names(&find(&db, me, "omar.haddad@example.com refund").await),
        ["Omar Haddad"]
    );
    assert!(find(&db, me, "omar.haddad@example.com courier")
        .await
        .items
        .is_empty());
    // Part of a name, part of an address, part of a number.
    let p = find(&db, me, "alvar").await;
    assert_eq!(names(&p), ["Rita Alvarez"]);
    assert!(
        p.items[0].snippet.iter().any(|(t, on)| *on && t == "Alvar"),
        "{p:?}"
    );
    assert_eq!(names(&find(&db, me, "haddad").await), ["Omar Haddad"]);
    assert_eq!(names(&find(&db, me, "7946").await), ["Lee Chen"]);
    // A number nobody holds is searched as text.
    sms(
        &db,
        "+1 212 555 0199",
        "Ana",
        "a1",
        "Call me back on 312-555-0142 please",
        T0 + 3 * DAY,
    )
    .await;
    assert_eq!(names(&find(&db, me, "(312) 555-0142").await), ["Ana"]);
    let _ = (omar, lee);
}

async fn merged_customers_are_found_as_the_survivor(db: Db) {
    let (me, [rita, omar, _lee]) = fixture(&db).await;
    app::service::merge::merge(&db, rita.customer_id, omar.customer_id, me)
        .await
        .unwrap();
    // Omar's words and Omar's address now lead to Rita's conversation, once.
    let p = find(&db, me, "invoice").await;
    assert_eq!(names(&p), ["Rita Alvarez"]);
    assert_eq!(p.items[0].conversation.id, rita.conversation_id);
    let p = find(&db, me, "omar.haddad@example.com").await;
    assert_eq!(names(&p), ["Rita Alvarez"]);
    let p = find(&db, me, "refund").await;
    assert_eq!(
        names(&p),
        ["Rita Alvarez"],
        "one row for the merged conversation"
    );
    let p = find(&db, me, "haddad").await;
    assert_eq!(
        names(&p),
        ["Rita Alvarez"],
        "the merged name leads to the survivor"
    );
}

async fn pages_hold_every_conversation_once_newest_first(db: Db) {
    let me = agent(&db).await;
    let n = PAGE * 2 + 7;
    for i in 0..n {
        let phone = format!("+1 415 555 {:04}", 1000 + i);
        let at = T0 + (i as i64) * 60_000;
        sms(
            &db,
            &phone,
            &format!("Customer {i:03}"),
            &format!("p{i}"),
            "Where is my shipment",
            at,
        )
        .await;
        if i % 3 == 0 {
            // An older second match in some conversations must not show them twice.
            sms(
                &db,
                &phone,
                &format!("Customer {i:03}"),
                &format!("q{i}"),
                "shipment again",
                at - 30 * DAY,
            )
            .await;
        }
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let p = find_after(&db, me, "shipment", after.as_deref()).await;
        seen.extend(p.items.iter().map(|r| r.conversation.customer_name.clone()));
        match p.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let expected: Vec<String> = (0..n).rev().map(|i| format!("Customer {i:03}")).collect();
    assert_eq!(seen, expected);
    // A damaged cursor is the first page, with a notice.
    let p = find_after(&db, me, "shipment", Some("x.y")).await;
    assert_eq!(p.items.len(), PAGE);
    assert!(p.notices[0].contains("damaged"));
}

async fn bad_input_is_answered_in_words(db: Db) {
    let (me, _) = fixture(&db).await;
    for q in [
        "", "   ", "\"", "OR", "-", "- OR |", "\"\"", "NEAR(", "*", ":", "AND NOT",
    ] {
        let p = find(&db, me, q).await;
        assert!(p.items.len() <= PAGE, "{q:?}");
    }
    let p = find(&db, me, "   ").await;
    assert!(
        p.items.is_empty() && p.notices.is_empty(),
        "blank: nothing, no notice"
    );
    let p = find(&db, me, "-refund").await;
    assert!(
        p.items.is_empty() && p.notices[0].contains("leave out"),
        "{p:?}"
    );
    let p = find(&db, me, "\"late parcel").await;
    assert_eq!(names(&p), ["Omar Haddad"]);
    assert!(p.notices[0].contains("quote"));
    let long = "refund ".repeat(1500);
    let p = find(&db, me, &long).await;
    assert_eq!(names(&p), ["Omar Haddad", "Rita Alvarez"]);
    assert!(
        p.notices.iter().any(|n| n.contains("cut")),
        "{:?}",
        p.notices
    );
    let p = find(&db, me, &"é".repeat(10_000)).await;
    assert!(p.items.is_empty());
    let p = find(&db, me, "refund colour:red priority:high").await;
    assert_eq!(p.ignored, ["colour:red", "priority:high"]);
    assert_eq!(names(&p), ["Omar Haddad", "Rita Alvarez"]);
    let p = find(&db, me, "assignee:nobody-here").await;
    assert!(p.items.is_empty() && p.notices[0].contains("No agent"));
}

async fn the_index_answers_the_query(db: Db) {
    let (me, _) = fixture(&db).await;
    let words = app::store::search::Words {
        fts5: "\"refund\"".into(),
        websearch: "refund".into(),
        rare: false,
    };
    let scope = app::store::search::Scope {
        from: i64::MIN,
        ..Default::default()
    };
    match db.backend {
        app::store::Backend::Sqlite => {
            let plan = app::store::search::plan(&db, &words, &scope).await.unwrap();
            assert!(plan.contains("VIRTUAL TABLE INDEX"), "{plan}");
            assert!(
                !plan.contains("USE TEMP B-TREE FOR ORDER BY"),
                "newest first from the index: {plan}"
            );
        }
        app::store::Backend::Postgres => {
            // The GIN index is usable: the configuration is spelled out, so the expression is
            // immutable (a tiny table prefers a scan, so scans are turned off to ask).
            let mut conn = db.read.acquire().await.unwrap();
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await
                .unwrap();
            let rows: Vec<String> = sqlx::query_scalar(
                "EXPLAIN SELECT id FROM search_docs WHERE tsv @@ websearch_to_tsquery('english'::regconfig, 'refund')",
            )
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *conn)
                .await
                .unwrap();
            let plan = rows.join("\n");
            assert!(plan.contains("search_docs_tsv"), "{plan}");
        }
    }
    let _ = me;
}

async fn saved_views_count_and_belong_to_their_owner(db: Db) {
    use app::service::views;
    let (me, [rita, omar, _lee]) = fixture(&db).await;
    let admin = users::create_user(
        &db,
        "ada@example.com",
        "Ada Admin",
        Role::Admin,
        "password-123",
    )
    .await
    .unwrap();
    let who = Searcher {
        user_id: me,
        zone: "UTC",
        region: "US",
    };
    // Everything is unread for a new agent: the open tab says 3.
    let c = views::counts(&db, &who, Role::Support).await.unwrap();
    assert_eq!(
        c.unread.iter().find(|(s, _)| *s == Status::Open).unwrap().1,
        3
    );
    assert!(c.views.is_empty());
    app::store::conversations::mark_read(&db, me, rita.conversation_id)
        .await
        .unwrap();
    let c = views::counts(&db, &who, Role::Support).await.unwrap();
    assert_eq!(
        c.unread.iter().find(|(s, _)| *s == Status::Open).unwrap().1,
        2
    );

    // A personal view, and a shared one only an admin may make.
    let id = views::save(
        &db,
        (me, Role::Support),
        "Refunds",
        "refund status:open",
        false,
    )
    .await
    .unwrap();
    let refused = views::save(&db, (me, Role::Support), "Team", "refund", true).await;
    assert!(
        matches!(refused, Err(app::store::StoreError::Invalid(_))),
        "{refused:?}"
    );
    views::save(&db, (admin, Role::Admin), "Team refunds", "refund", true)
        .await
        .unwrap();
    assert!(matches!(
        views::save(&db, (me, Role::Support), "Empty", "  -x ", false).await,
        Err(app::store::StoreError::Invalid(_))
    ));
    // The same name again replaces the search.
    assert_eq!(
        views::save(&db, (me, Role::Support), "refunds", "refund", false)
            .await
            .unwrap(),
        id
    );
    let c = views::counts(&db, &who, Role::Support).await.unwrap();
    let names: Vec<(&str, u32, u32, bool)> = c
        .views
        .iter()
        .map(|v| (v.name.as_str(), v.count, v.unread, v.editable))
        .collect();
    assert_eq!(
        names,
        [("Team refunds", 2, 1, false), ("refunds", 2, 1, true)],
        "shared first; Omar's is unread, Rita's read; saved again under another case, renamed"
    );
    let _ = omar;
    // Another agent sees the shared view, not the personal one, and cannot delete either.
    let other = users::create_user(&db, "kim@example.com", "Kim", Role::Support, "password-123")
        .await
        .unwrap();
    let theirs = Searcher {
        user_id: other,
        ..who
    };
    let c = views::counts(&db, &theirs, Role::Support).await.unwrap();
    assert_eq!(c.views.len(), 1);
    assert!(matches!(
        views::delete(&db, (other, Role::Support), id).await,
        Err(app::store::StoreError::NotFound)
    ));
    let shared = c.views[0].id;
    assert!(views::delete(&db, (other, Role::Support), shared)
        .await
        .is_err());
    views::delete(&db, (me, Role::Support), id).await.unwrap();
    views::delete(&db, (admin, Role::Admin), shared)
        .await
        .unwrap();
    assert!(views::counts(&db, &who, Role::Support)
        .await
        .unwrap()
        .views
        .is_empty());
}

both_engines!(
    saved_views_count_and_belong_to_their_owner,
    words_stems_phrases_and_leaving_out,
    notes_labels_status_and_assignee,
    customers_by_name_and_identifiers_written_any_way,
    merged_customers_are_found_as_the_survivor,
    pages_hold_every_conversation_once_newest_first,
    bad_input_is_answered_in_words,
    the_index_answers_the_query,
);
