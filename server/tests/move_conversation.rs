//! Replying on any channel and moving the conversation, through the real router and workers on
//! both engines: the channel picker's unavailable reasons, the default choice, "Move
//! conversation to…" with a handoff on the old channel, the customer's answer on the new
//! channel continuing the same timeline, the converted-preview confirmation, and files sent
//! as expiring links on channels that cannot carry them.

mod links;
mod safety;
mod world;

use crate::support::messages::wait_for;
use crate::support::{spawn_app, Engine};
use app::domain::consent::Purpose;
use app::domain::{ChannelKind, IdentifierKind};
use app::model::TimelineItem;
use app::service;
use app::store::{channel_accounts, consent, mailbox, now_ms, timeline};
use sqlx::Row;
use world::*;

async fn move_with_handoff_and_answer_on_the_new_channel(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.move@example.com").await;
    let c = app.login(SUPPORT.0, SUPPORT.1).await;

    // Before: the default is where she wrote (email); SMS is ready.
    let d = detail(db, a.conv).await;
    assert_eq!(d.default_reply, Some(key(a.email_acc, a.email_ident)));
    let sms = option(&d, a.sms_acc, a.phone_ident);
    assert!(sms.unavailable.is_none(), "{sms:?}");
    assert_eq!(sms.identifier_label, PHONE_LABEL);

    // The page offers the move, with the handoff form, without JavaScript.
    let html = c
        .get(app.url(&format!("/inbox/{}", a.conv)))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("name=\"handoff_text\""),
        "handoff form on the page; the page's main part: {}",
        html.split("<main").nth(1).unwrap_or(&html)
    );
    assert!(html.contains("Tell the customer on Email · ann.move@example.com"));

    // Move to SMS with the standard handoff message (blank text).
    let conv = a.conv.to_string();
    let to = key(a.sms_acc, a.phone_ident);
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[
            ("id", &conv),
            ("to", &to),
            ("handoff", "1"),
            ("handoff_text", ""),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");

    // The handoff went out on the OLD channel (email), through the queue and the outbox.
    let want = app::domain::reply_choice::handoff_text(ChannelKind::Sms, PHONE_LABEL);
    assert!(want.contains("by SMS at +1 415 555 0199"), "{want}");
    let (mid, state) = wait_for("the handoff delivered", 15, || async {
        let r = sqlx::query(
            "SELECT id, channel, channel_account_id, identifier_id, delivery_state FROM messages \
             WHERE conversation_id = $1 AND direction = 'out' AND body_text = $2",
        )
        .bind(a.conv)
        .bind(&want)
        .fetch_optional(&db.read)
        .await
        .unwrap()?;
        assert_eq!(r.try_get::<String, _>("channel").unwrap(), "email");
        assert_eq!(
            r.try_get::<i64, _>("channel_account_id").unwrap(),
            a.email_acc
        );
        assert_eq!(
            r.try_get::<Option<i64>, _>("identifier_id").unwrap(),
            Some(a.email_ident)
        );
        let st: String = r.try_get("delivery_state").unwrap();
        (st == "delivered").then(|| (r.try_get::<i64, _>("id").unwrap(), st))
    })
    .await;
    assert!(mid > 0 && state == "delivered");

    // A channel-switch event on the timeline, and SMS is now the default.
    let page = timeline::page(db, a.conv, None, 50).await.unwrap();
    let ev = page
        .items
        .iter()
        .find_map(|i| match i {
            TimelineItem::Event(e) if e.kind == "channel_switch" => Some(e.clone()),
            _ => None,
        })
        .expect("channel switch event");
    assert_eq!(
        ev.summary,
        "Sam Support moved the conversation from Email · ann.move@example.com to SMS · +1 415 555 0199"
    );
    let d = detail(db, a.conv).await;
    assert_eq!(d.default_reply, Some(to.clone()));
    assert!(option(&d, a.sms_acc, a.phone_ident).moved_here);
    let cur: Option<String> =
        sqlx::query("SELECT current_channel FROM conversations WHERE id = $1")
            .bind(a.conv)
            .fetch_one(&db.read)
            .await
            .unwrap()
            .try_get("current_channel")
            .unwrap();
    assert_eq!(cur.as_deref(), Some("sms"));
    // Sent twice: nothing new.
    let (s, _) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[("id", &conv), ("to", &to)],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM events WHERE conversation_id = $1 AND kind = 'channel_switch'",
            a.conv
        )
        .await,
        1
    );

    // Her answer by SMS continues the same timeline; the move holds.
    let conv2 = customer_writes(
        db,
        ChannelKind::Sms,
        PHONE,
        "sms-1",
        "SMS is easier, thanks",
    )
    .await;
    assert_eq!(conv2, a.conv, "one conversation per customer");
    let page = timeline::page(db, a.conv, None, 50).await.unwrap();
    assert!(page.items.iter().any(|i| matches!(i,
        TimelineItem::Message(m) if m.channel == ChannelKind::Sms && m.body_text == "SMS is easier, thanks")));
    assert_eq!(detail(db, a.conv).await.default_reply, Some(to.clone()));

    // A reply on the default goes out by SMS with channel, account and identifier stored.
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/reply",
        &[
            ("id", &conv),
            ("via", &to),
            ("body", "Great, texting you here."),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let r = sqlx::query("SELECT channel, channel_account_id, identifier_id FROM messages WHERE conversation_id = $1 AND body_text = $2")
        .bind(a.conv)
        .bind("Great, texting you here.")
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(r.try_get::<String, _>("channel").unwrap(), "sms");
    assert_eq!(
        r.try_get::<i64, _>("channel_account_id").unwrap(),
        a.sms_acc
    );
    assert_eq!(
        r.try_get::<Option<i64>, _>("identifier_id").unwrap(),
        Some(a.phone_ident)
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND identifier_id IS NULL",
            a.conv
        )
        .await,
        0,
        "every message names its identifier"
    );

    // She writes by email after the move: the move no longer holds; the default follows her.
    customer_writes(
        db,
        ChannelKind::Email,
        "ann.move@example.com",
        "mid:later",
        "Actually, email me",
    )
    .await;
    let d = detail(db, a.conv).await;
    assert_eq!(d.default_reply, Some(key(a.email_acc, a.email_ident)));
    assert!(d.reply_options.iter().all(|o| !o.moved_here));
    // Her preferred channel, when set and available, comes before the last message.
    sqlx::query("UPDATE customers SET preferred_channel = 'sms' WHERE id = $1")
        .bind(a.customer)
        .execute(&db.write)
        .await
        .unwrap();
    assert_eq!(detail(db, a.conv).await.default_reply, Some(to));
}

async fn move_refusals_and_own_handoff_words(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.refuse@example.com").await;
    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let conv = a.conv.to_string();
    // Unknown option, no identifier of the kind, malformed key.
    let d = detail(db, a.conv).await;
    let none = d
        .reply_options
        .iter()
        .find(|o| o.channel == ChannelKind::Telegram)
        .expect("a Telegram row");
    assert_eq!(none.identifier_id, 0);
    for to in ["999:999".to_string(), none.key(), "nonsense".to_string()] {
        let (s, body) = post(
            &app,
            &c,
            "/api/conversation/move",
            &[("id", &conv), ("to", &to)],
        )
        .await;
        assert_eq!(s, 400, "{to}: {body}");
    }
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[("id", &conv), ("to", &none.key())],
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body.contains("No Telegram chat for this customer."),
        "{body}"
    );
    // Marketing may not move.
    let m = app
        .login("marketing@convergence.test", "marketing-password-1")
        .await;
    let to = key(a.sms_acc, a.phone_ident);
    let (s, _) = post(
        &app,
        &m,
        "/api/conversation/move",
        &[("id", &conv), ("to", &to)],
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM events WHERE conversation_id = $1 AND kind = 'channel_switch'",
            a.conv
        )
        .await,
        0
    );

    // Without a handoff: moved, nothing sent.
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[("id", &conv), ("to", &to)],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'",
            a.conv
        )
        .await,
        0
    );
    assert_eq!(detail(db, a.conv).await.default_reply, Some(to.clone()));

    // Back to email with a handoff the old channel (SMS) refuses: over its limit. Nothing moves.
    let back = key(a.email_acc, a.email_ident);
    let long = "x".repeat(1_700);
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[
            ("id", &conv),
            ("to", &back),
            ("handoff", "1"),
            ("handoff_text", &long),
        ],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("at most 1600 characters"), "{body}");
    assert_eq!(detail(db, a.conv).await.default_reply, Some(to.clone()));
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM events WHERE conversation_id = $1 AND kind = 'channel_switch'",
            a.conv
        )
        .await,
        1
    );

    // With the agent's own words: they go out by SMS (the old channel), and email is the default.
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[
            ("id", &conv),
            ("to", &back),
            ("handoff", "1"),
            ("handoff_text", "Back to email, see you there!"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let r =
        sqlx::query("SELECT channel FROM messages WHERE conversation_id = $1 AND body_text = $2")
            .bind(a.conv)
            .bind("Back to email, see you there!")
            .fetch_one(&db.read)
            .await
            .unwrap();
    assert_eq!(r.try_get::<String, _>("channel").unwrap(), "sms");
    assert_eq!(detail(db, a.conv).await.default_reply, Some(back));
    // An unticked handoff box sends nothing, whatever the text says.
    let (s, _) = post(
        &app,
        &c,
        "/api/conversation/move",
        &[("id", &conv), ("to", &to), ("handoff_text", "ignored")],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND body_text = 'ignored'",
            a.conv
        )
        .await,
        0
    );
}

async fn unavailable_options_say_why(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.why@example.com").await;
    // No identifier of the kind: one row per channel, unavailable, with the reason in words.
    let d = detail(db, a.conv).await;
    let tg = d
        .reply_options
        .iter()
        .find(|o| o.channel == ChannelKind::Telegram)
        .unwrap();
    assert_eq!(
        (tg.identifier_id, tg.unavailable.as_deref()),
        (0, Some("No Telegram chat for this customer."))
    );
    // Ready options come first.
    let first_unavailable = d
        .reply_options
        .iter()
        .position(|o| o.unavailable.is_some())
        .unwrap();
    assert!(d.reply_options[first_unavailable..]
        .iter()
        .all(|o| o.unavailable.is_some()));

    // Opted out for support on the phone.
    let mut tx = db.write.begin().await.unwrap();
    consent::record(
        &mut tx,
        a.phone_ident,
        Purpose::Support,
        false,
        "keyword",
        Some("texted STOP"),
        None,
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // A WhatsApp number whose 24-hour window closed two days ago.
    let wa = add_identifier(
        db,
        a.customer,
        IdentifierKind::Whatsapp,
        "+14155550198",
        "+1 415 555 0198",
        Some(now_ms() - 2 * 86_400_000),
    )
    .await;
    // A mailbox whose last sync failed, and a disabled one.
    let broken = channel_accounts::create(
        db,
        ChannelKind::Email,
        "playground",
        "Broken mailbox",
        "broken@example.com",
        &serde_json::json!({}),
        &serde_json::json!({}),
    )
    .await
    .unwrap();
    mailbox::set_account_state(db, broken, "error", Some("LOGIN refused by the server"))
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
    let why = |acc: i64, ident: i64| option(&d, acc, ident).unavailable.unwrap_or_default();
    assert!(
        why(a.sms_acc, a.phone_ident)
            .to_lowercase()
            .contains("opted out"),
        "{}",
        why(a.sms_acc, a.phone_ident)
    );
    let wa_acc = channel_accounts::playground_for(db, ChannelKind::Whatsapp)
        .await
        .unwrap()
        .unwrap()
        .id;
    assert!(
        why(wa_acc, wa).contains("24-hour WhatsApp window is closed"),
        "{}",
        why(wa_acc, wa)
    );
    // A failing or disabled account is not offered at all (email still has a working one).
    assert!(
        d.reply_options
            .iter()
            .all(|o| o.account_id != broken && o.account_id != off),
        "{:#?}",
        d.reply_options
    );
    assert!(option(&d, a.email_acc, a.email_ident).unavailable.is_none());
    // The default stays on what works.
    assert_eq!(d.default_reply, Some(key(a.email_acc, a.email_ident)));
    // The page (server-rendered, as without JavaScript) lists every option with its reason,
    // and offers the move with its handoff form.
    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let page = c
        .get(app.url(&format!("/inbox/{}", a.conv)))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for want in [
        "Move conversation to…",
        "No Telegram chat for this customer.",
        "24-hour WhatsApp window is closed",
        "name=\"written_for\"",
        // Nothing else is ready: the move has nowhere to go.
        "There is no other channel this customer can be reached on now.",
    ] {
        assert!(html.contains(want), "the page shows {want:?}");
    }
    // And the store refuses what the picker says is unavailable.
    let me = app::store::users::find_by_email(db, SUPPORT.0)
        .await
        .unwrap()
        .unwrap()
        .id;
    let r = service::reply::queue_reply(db, a.conv, a.sms_acc, a.phone_ident, me, "hi").await;
    assert!(matches!(r, Err(app::store::StoreError::Invalid(w)) if w.contains("opted out")));
}

both_engines!(
    move_with_handoff_and_answer_on_the_new_channel,
    move_refusals_and_own_handoff_words,
    unavailable_options_say_why,
);
