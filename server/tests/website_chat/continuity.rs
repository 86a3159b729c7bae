//! The chat continued by email: answers a visitor left before seeing go out as one email once
//! they are gone (never the ones they saw, never while they are there, once only); the email
//! carries a link that opens the chat attached to the customer, where the emails show too.

use super::{api, new_chat, owner, session, visitor_of, visitor_writes, SITE, SUPPORT};
use crate::support::{spawn_app, Engine, TestApp};
use app::service::chat_followup::{FollowUp, Timing, UNSEEN_FOR_MS};
use app::store::now_ms;
use serde_json::{json, Value};
use sqlx::Row;

both_engines!(
    unseen_answers_go_on_by_email_once_and_the_link_continues_the_chat,
    a_chat_moves_to_sms_and_the_widget_says_so,
);

async fn round(app: &TestApp, at: i64) -> Vec<FollowUp> {
    server::workers::chat_followup::round(
        &app.state.db,
        &app.state.hub,
        crate::support::TEST_SECRET.as_bytes(),
        &app.state.wake.outbox,
        Timing::default(),
        at,
    )
    .await
    .unwrap()
}

async fn answer(app: &TestApp, conversation: i64, text: &str) -> i64 {
    let agent = app.login(SUPPORT.0, SUPPORT.1).await;
    let d = app::service::conversations::detail(&app.state.db, conversation)
        .await
        .unwrap();
    let via = d
        .reply_options
        .iter()
        .find(|o| o.channel == app::domain::ChannelKind::Chat)
        .unwrap()
        .key();
    let r = app
        .call(
            &agent,
            "/api/conversation/reply",
            &[
                ("id", &conversation.to_string()),
                ("via", &via),
                ("body", text),
            ],
        )
        .await;
    assert!(r.status().is_success(), "reply: {}", r.status());
    crate::support::messages::wait_for("the answer handed to the chat", 5, || async {
        let row = sqlx::query("SELECT id, delivery_state FROM messages WHERE body_text = $1")
            .bind(text)
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
        let state: String = row.try_get("delivery_state").unwrap();
        (state == "sent").then(|| row.try_get::<i64, _>("id").unwrap())
    })
    .await
}

async fn emails_of(app: &TestApp, conversation: i64) -> Vec<String> {
    sqlx::query("SELECT body_text FROM messages WHERE conversation_id = $1 AND channel = 'email' AND direction = 'out' ORDER BY id")
        .bind(conversation)
        .fetch_all(&app.state.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get("body_text").unwrap())
        .collect()
}

async fn unseen_answers_go_on_by_email_once_and_the_link_continues_the_chat(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let (token, visitor) = visitor_writes(
        &app,
        chat,
        json!({ "client_id": "w-leaving-0001", "text": "Do you ship to Norway?",
                "email": "vera@example.com", "name": "Vera", "page": "https://shop.example.com/cart?step=2" }),
    )
    .await;
    let (_, conv) = owner(db, "chat", &visitor).await;
    let conv = conv.unwrap();

    // Seen in the widget: never emailed.
    let seen = answer(&app, conv, "Yes, within five days.").await;
    let r = api(
        &app,
        chat,
        "seen",
        SITE,
        json!({ "site": SITE, "token": token, "upto": seen }),
    )
    .await;
    assert_eq!(r.status(), 204);
    // Unseen, but the visitor is still there: not yet.
    answer(&app, conv, "Shipping costs 12 euros.").await;
    answer(&app, conv, "Anything else?").await;
    let now = now_ms();
    // Minutes later the widget is still open (its stream's heartbeat): nothing goes.
    app::store::chat::touch(db, chat, &visitor, now + UNSEEN_FOR_MS)
        .await
        .unwrap();
    assert!(
        round(&app, now + UNSEEN_FOR_MS + 1_000).await.is_empty(),
        "the visitor is there"
    );
    // Gone a while, and the answers unseen for minutes: one email with both.
    let later = now + UNSEEN_FOR_MS + 120_000; // gone for two minutes
    let done = round(&app, later).await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].answers.len(), 2);
    let email_id = done[0].outcome.clone().expect("an email was queued");
    let emails = emails_of(&app, conv).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let body = &emails[0];
    assert!(
        body.contains("> Shipping costs 12 euros.") && body.contains("> Anything else?"),
        "{body}"
    );
    assert!(!body.contains("within five days"), "{body}");
    let to: String = sqlx::query(
        "SELECT i.value FROM messages m JOIN identifiers i ON i.id = m.identifier_id WHERE m.id = $1",
    )
    .bind(email_id)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("value")
    .unwrap();
    assert_eq!(to, "vera@example.com");
    // Once only, whichever process looks again.
    assert!(round(&app, later + 60_000).await.is_empty());
    assert_eq!(emails_of(&app, conv).await.len(), 1);

    // The email leaves through the outbox.
    crate::support::messages::wait_for("the email sent", 10, || async {
        let state: String = sqlx::query("SELECT delivery_state FROM messages WHERE id = $1")
            .bind(email_id)
            .fetch_one(&db.read)
            .await
            .unwrap()
            .try_get("delivery_state")
            .unwrap();
        ["sent", "delivered"]
            .contains(&state.as_str())
            .then_some(())
    })
    .await;

    // The link in the email opens the chat attached to the customer, on another device.
    let link = body
        .split_whitespace()
        .find(|w| w.contains("convergence_chat="))
        .expect("a continue link");
    assert!(
        link.starts_with("https://shop.example.com/cart?step=2&convergence_chat="),
        "{link}"
    );
    let invite = link.split("convergence_chat=").nth(1).unwrap();
    let r = api(
        &app,
        chat,
        "session",
        SITE,
        json!({ "site": SITE, "invite": invite }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let other: Value = r.json().await.unwrap();
    let device = visitor_of(other["token"].as_str().unwrap());
    assert_ne!(device, visitor);
    assert_eq!(owner(db, "chat", &device).await.1, Some(conv));
    assert_eq!(other["known"], true);
    let texts: Vec<&str> = other["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"Do you ship to Norway?") && texts.contains(&"Anything else?"),
        "{texts:?}"
    );
    // The email shows in the chat too, marked as an email.
    assert!(other["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["via"] == "email"));
    // An altered link opens an ordinary, empty chat.
    let bad = invite.replacen("k1.", "k1.9", 1);
    let r = api(
        &app,
        chat,
        "session",
        SITE,
        json!({ "site": SITE, "invite": bad }),
    )
    .await;
    let fresh: Value = r.json().await.unwrap();
    assert_eq!(fresh["messages"], json!([]));
}

/// From the chat an agent offers to go on by SMS: "Move conversation to…" sends the handoff in
/// the chat (the widget shows it) and makes SMS the reply channel; consent rules hold as for
/// every move.
async fn a_chat_moves_to_sms_and_the_widget_says_so(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let (token, visitor) = visitor_writes(
        &app,
        chat,
        json!({ "client_id": "w-move-000001", "text": "Can you text me instead?" }),
    )
    .await;
    let (customer, conv) = owner(db, "chat", &visitor).await;
    let conv = conv.unwrap();
    // The agent adds the number the visitor gave in the chat.
    app::service::identifiers::add(
        db,
        customer,
        app::domain::IdentifierKind::Phone,
        "+1 415 555 0142",
        "US",
        1,
    )
    .await
    .unwrap();
    let d = app::service::conversations::detail(db, conv).await.unwrap();
    let sms = d
        .reply_options
        .iter()
        .find(|o| o.channel == app::domain::ChannelKind::Sms && o.unavailable.is_none())
        .expect("an SMS option")
        .key();
    let agent = app.login(SUPPORT.0, SUPPORT.1).await;
    let r = app
        .call(
            &agent,
            "/api/conversation/move",
            &[("id", &conv.to_string()), ("to", &sms), ("handoff", "on")],
        )
        .await;
    assert!(r.status().is_success(), "move: {}", r.text().await.unwrap());
    // The handoff went out in the chat, and the widget shows it.
    let handoff = crate::support::messages::wait_for("the handoff in the chat", 5, || async {
        let again = session(&app, chat, Some(&token)).await;
        again["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["from"] == "agent")
            .map(|m| m["text"].as_str().unwrap().to_string())
    })
    .await;
    assert!(handoff.contains("by SMS at +1 415 555 0142"), "{handoff}");
    let d = app::service::conversations::detail(db, conv).await.unwrap();
    assert_eq!(d.default_reply.as_deref(), Some(sms.as_str()));
}
