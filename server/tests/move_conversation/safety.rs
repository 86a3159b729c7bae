//! Never send the wrong thing: an unverified identifier (a stranger who quoted one of our
//! Message-IDs) is never the default and a reply to it must be confirmed; one message per
//! draft whatever the clicks or retries; a move goes from the channel the conversation is on
//! to another one, with a handoff text written for that target.

use super::world::*;
use crate::support::{spawn_app, Engine};
use app::domain::{ChannelKind, IdentifierKind};
use app::model::{AssigneeFilter, ListFilter, TimelineItem};
use app::service::ingest::ingest_message;
use app::service::reply::{self, Sending};
use app::store::{channel_accounts, conversations, timeline, users, StoreError};
use sqlx::Row;

const STRANGER: &str = "eve.forwarded@example.net";

/// Ann wrote by email (with a Message-ID); then Eve, whom Ann forwarded our answer to, writes
/// from an address nobody knows, quoting that Message-ID. Returns Eve's identifier.
async fn stranger_joins(app: &crate::support::TestApp, a: &Ann, mid: &str) -> i64 {
    let db = &app.state.db;
    let acc = channel_accounts::playground_for(db, ChannelKind::Email)
        .await
        .unwrap()
        .unwrap();
    sqlx::query("UPDATE messages SET rfc_message_id = $1 WHERE conversation_id = $2")
        .bind(mid)
        .bind(a.conv)
        .execute(&db.write)
        .await
        .unwrap();
    let mut m = inbound(
        IdentifierKind::Email,
        STRANGER,
        "mid:eve-1",
        "Please send the refund to my account instead",
    );
    m.display_name = Some("Eve".into());
    m.thread.refs = vec![mid.to_string()];
    let r = ingest_message(db, &acc, None, &m).await.unwrap();
    assert_eq!(
        r.conversation_id, a.conv,
        "threaded into Ann's conversation"
    );
    let verified: i64 = sqlx::query("SELECT verified FROM identifiers WHERE id = $1")
        .bind(r.identifier_id)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("verified")
        .unwrap();
    assert_eq!(verified, 0, "joined unverified");
    r.identifier_id
}

async fn out_count(db: &app::store::Db, conv: i64) -> i64 {
    count(
        db,
        "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'",
        conv,
    )
    .await
}

async fn an_unverified_identifier_is_never_the_default_and_needs_confirming(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.verified@example.com").await;
    let eve = stranger_joins(&app, &a, "ann-1@example.com").await;
    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let conv = a.conv.to_string();

    // Eve wrote last, but the composer opens on Ann's own address; Eve's is marked.
    let d = detail(db, a.conv).await;
    assert_eq!(d.default_reply, Some(key(a.email_acc, a.email_ident)));
    let o = option(&d, a.email_acc, eve);
    assert!(o.unverified && o.unavailable.is_none(), "{o:?}");
    assert!(o.label.contains("unverified"), "{}", o.label);
    assert!(!option(&d, a.email_acc, a.email_ident).unverified);
    // Even as Ann's preferred channel (email): still Ann's address.
    sqlx::query("UPDATE customers SET preferred_channel = 'email' WHERE id = $1")
        .bind(a.customer)
        .execute(&db.write)
        .await
        .unwrap();
    assert_eq!(
        detail(db, a.conv).await.default_reply,
        Some(key(a.email_acc, a.email_ident))
    );

    // The list says who wrote the preview.
    let me = users::find_by_email(db, SUPPORT.0)
        .await
        .unwrap()
        .unwrap()
        .id;
    let filter = ListFilter {
        status: app::domain::Status::Open,
        assignee: AssigneeFilter::All,
        channel: None,
        label: None,
    };
    let page = conversations::list(db, me, &filter, None, 50)
        .await
        .unwrap();
    let item = page.items.iter().find(|i| i.id == a.conv).unwrap();
    assert_eq!(item.last_unverified_sender.as_deref(), Some(STRANGER));
    assert!(item.preview.contains("refund"), "{}", item.preview);

    // A reply to Eve without the confirmation: refused by the server, nothing stored.
    let to_eve = key(a.email_acc, eve);
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/reply",
        &[("id", &conv), ("via", &to_eve), ("body", "Refund details?")],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("unverified"), "{body}");
    assert_eq!(out_count(db, a.conv).await, 0);
    let r = reply::queue_reply(db, a.conv, a.email_acc, eve, me, "direct").await;
    assert!(
        matches!(&r, Err(StoreError::Invalid(w)) if w.contains("unverified")),
        "{r:?}"
    );
    // Nor can the conversation be moved to her.
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[("id", &conv), ("to", &to_eve)],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    // Confirmed: it goes to Eve's address, once.
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/reply",
        &[
            ("id", &conv),
            ("via", &to_eve),
            ("body", "Refund details?"),
            ("confirm_unverified", "1"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let ident: Option<i64> = sqlx::query(
        "SELECT identifier_id FROM messages WHERE conversation_id = $1 AND direction = 'out'",
    )
    .bind(a.conv)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("identifier_id")
    .unwrap();
    assert_eq!(ident, Some(eve));
    // Confirmed as Ann's (the customer panel's Confirm): an ordinary option again.
    app::store::identifiers::confirm(db, eve).await.unwrap();
    assert!(!option(&detail(db, a.conv).await, a.email_acc, eve).unverified);
}

async fn one_message_per_draft_whatever_the_clicks(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.twice@example.com").await;
    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let conv = a.conv.to_string();
    let sms = key(a.sms_acc, a.phone_ident);
    let send = |key: &'static str, text: &'static str| {
        let (app, c, conv, sms) = (&app, c.clone(), conv.clone(), sms.clone());
        async move {
            post(
                app,
                &c,
                "/api/conversation/reply",
                &[
                    ("id", &conv),
                    ("via", &sms),
                    ("body", text),
                    ("draft_key", key),
                ],
            )
            .await
        }
    };
    // Three clicks within one tick: three requests at once, one draft.
    let (r1, r2, r3) = tokio::join!(
        send("draft-a", "On its way"),
        send("draft-a", "On its way"),
        send("draft-a", "On its way")
    );
    for (s, body) in [r1, r2, r3] {
        assert_eq!(s, 200, "{body}");
    }
    assert_eq!(out_count(db, a.conv).await, 1, "one SMS for three clicks");
    // A retried request (the answer was lost): still one.
    let (s, body) = send("draft-a", "On its way").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(out_count(db, a.conv).await, 1);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.conversation_id = $1", a.conv).await,
        1,
        "one delivery queued"
    );
    // The next draft is another message.
    let (s, body) = send("draft-b", "Anything else?").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(out_count(db, a.conv).await, 2);
    // In the store: the same key answers with the same message.
    let me = users::find_by_email(db, SUPPORT.0)
        .await
        .unwrap()
        .unwrap()
        .id;
    let with = |k: &'static str| Sending {
        draft_key: Some(k),
        unverified_confirmed: false,
    };
    let ids = futures_join(
        reply::queue_agent_reply(
            db,
            a.conv,
            a.sms_acc,
            a.phone_ident,
            me,
            "x",
            &[],
            None,
            with("draft-c"),
        ),
        reply::queue_agent_reply(
            db,
            a.conv,
            a.sms_acc,
            a.phone_ident,
            me,
            "x",
            &[],
            None,
            with("draft-c"),
        ),
    )
    .await;
    assert_eq!(ids.0.unwrap(), ids.1.unwrap());
    assert_eq!(out_count(db, a.conv).await, 3);

    // The no-JavaScript "Send with files" form, submitted twice: one message.
    for _ in 0..2 {
        let form = reqwest::multipart::Form::new()
            .text("via", sms.clone())
            .text("body", "Your label")
            .text("draft_key", "files-1")
            .part(
                "files",
                reqwest::multipart::Part::bytes(b"%PDF-1.4 label".to_vec())
                    .file_name("label.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        let r = c
            .post(app.url(&format!("/conversations/{}/reply-with-files", a.conv)))
            .header("Origin", &app.addr)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
    }
    assert_eq!(out_count(db, a.conv).await, 4);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM attachments t JOIN messages m ON m.id = t.message_id WHERE m.conversation_id = $1",
            a.conv
        )
        .await,
        1
    );

    // The list names the writer of the last message: this agent, by id and name.
    let filter = ListFilter {
        status: app::domain::Status::Open,
        assignee: AssigneeFilter::All,
        channel: None,
        label: None,
    };
    let page = conversations::list(db, me, &filter, None, 50)
        .await
        .unwrap();
    let item = page.items.iter().find(|i| i.id == a.conv).unwrap();
    assert_eq!(item.last_author_id, Some(me));
    assert_eq!(item.last_author_name.as_deref(), Some("Sam Support"));
    assert_eq!(item.last_unverified_sender, None);
}

async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    tokio::join!(a, b)
}

async fn a_move_goes_from_the_channel_it_is_on_to_another(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.twomoves@example.com").await;
    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let conv = a.conv.to_string();
    // A second SMS line.
    let line2 = channel_accounts::create(
        db,
        ChannelKind::Sms,
        "playground",
        "Second line",
        "+14155550100",
        &serde_json::json!({}),
        &serde_json::json!({}),
    )
    .await
    .unwrap();
    let sms = key(a.sms_acc, a.phone_ident);
    let sms2 = key(line2, a.phone_ident);
    let email = key(a.email_acc, a.email_ident);
    let switches = || async {
        let page = timeline::page(db, a.conv, None, 50).await.unwrap();
        page.items
            .iter()
            .filter_map(|i| match i {
                TimelineItem::Event(e) if e.kind == "channel_switch" => Some(e.summary.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };

    // First move: email → SMS, the standard handoff by email, written for that target.
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[
            ("id", &conv),
            ("to", &sms),
            ("handoff", "1"),
            ("handoff_for", &sms),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(detail(db, a.conv).await.default_reply, Some(sms.clone()));

    // Second move to SMS through the other line: the conversation is on SMS already.
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[
            ("id", &conv),
            ("to", &sms2),
            ("handoff", "1"),
            (
                "handoff_text",
                "We'll continue this conversation by email. Please reply there.",
            ),
        ],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("already on SMS"), "{body}");
    // A handoff text written for SMS, sent with email as the target: refused.
    let stale = app::domain::reply_choice::handoff_text(ChannelKind::Sms, PHONE_LABEL);
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[
            ("id", &conv),
            ("to", &email),
            ("handoff", "1"),
            ("handoff_text", &stale),
            ("handoff_for", &sms2),
        ],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("written for another channel"), "{body}");
    assert_eq!(
        out_count(db, a.conv).await,
        1,
        "only the first handoff went out"
    );
    assert_eq!(switches().await.len(), 1);

    // Back to email, the text written for it: it goes out by SMS, recorded from SMS to Email.
    let words =
        app::domain::reply_choice::handoff_text(ChannelKind::Email, "ann.twomoves@example.com");
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[
            ("id", &conv),
            ("to", &email),
            ("handoff", "1"),
            ("handoff_text", &words),
            ("handoff_for", &email),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let ch: String =
        sqlx::query("SELECT channel FROM messages WHERE conversation_id = $1 AND body_text = $2")
            .bind(a.conv)
            .bind(&words)
            .fetch_one(&db.read)
            .await
            .unwrap()
            .try_get("channel")
            .unwrap();
    assert_eq!(ch, "sms");
    assert_eq!(
        switches().await,
        vec![
            format!("Sam Support moved the conversation from Email · ann.twomoves@example.com to SMS · {PHONE_LABEL}"),
            format!("Sam Support moved the conversation from SMS · {PHONE_LABEL} to Email · ann.twomoves@example.com"),
        ]
    );
}

async fn a_disabled_or_failing_account_is_not_offered(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.down@example.com").await;
    let me = users::find_by_email(db, SUPPORT.0)
        .await
        .unwrap()
        .unwrap()
        .id;
    // The only SMS account fails; a second email account is disabled.
    app::store::mailbox::set_account_state(db, a.sms_acc, "error", Some("401 from the provider"))
        .await
        .unwrap();
    let off = channel_accounts::create(
        db,
        ChannelKind::Email,
        "playground",
        "Old mailbox",
        "old@example.com",
        &serde_json::json!({}),
        &serde_json::json!({}),
    )
    .await
    .unwrap();
    channel_accounts::set_enabled(db, off, false).await.unwrap();
    let d = detail(db, a.conv).await;
    assert!(
        d.reply_options.iter().all(|o| o.account_id != off),
        "{:#?}",
        d.reply_options
    );
    assert!(
        d.reply_options
            .iter()
            .filter(|o| o.account_id == a.sms_acc)
            .all(|o| o.identifier_id == 0
                && o.unavailable
                    .as_deref()
                    .is_some_and(|w| w.contains("401 from the provider"))),
        "only a row saying why: {:#?}",
        d.reply_options
    );
    assert_eq!(d.default_reply, Some(key(a.email_acc, a.email_ident)));
    // And the server refuses them.
    for (acc, ident, why) in [
        (a.sms_acc, a.phone_ident, "disconnected"),
        (off, a.email_ident, "disabled"),
    ] {
        let r = reply::queue_reply(db, a.conv, acc, ident, me, "hello").await;
        assert!(
            matches!(&r, Err(StoreError::Invalid(w)) if w.contains(why)),
            "{r:?}"
        );
    }
    assert_eq!(out_count(db, a.conv).await, 0);
}

both_engines!(
    an_unverified_identifier_is_never_the_default_and_needs_confirming,
    one_message_per_draft_whatever_the_clicks,
    a_move_goes_from_the_channel_it_is_on_to_another,
    a_disabled_or_failing_account_is_not_offered,
);
