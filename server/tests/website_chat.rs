//! The website chat end to end over HTTP, as a browser on an allowed website uses it: a chat
//! saved through the admin form, a session, a visitor message threaded into the inbox, an
//! agent's answer arriving on the widget's stream within a second, "seen" reaching the agent;
//! and the helpers the parts share. The parts: `abuse` (what is refused), `identity`,
//! `continuity` (by email, the continue link, a move to SMS), `processes` (two servers).

use crate::support::{spawn_app, Engine, TestApp};
use app::store::Db;
use serde_json::{json, Value};
use sqlx::Row;
use std::time::{Duration, Instant};

mod abuse;
mod continuity;
mod identity;
mod processes;

pub(crate) const ADMIN: (&str, &str) = ("admin@convergence.test", "admin-password-1");
pub(crate) const SUPPORT: (&str, &str) = ("support@convergence.test", "support-password-1");
pub(crate) const SITE: &str = "https://shop.example.com";
pub(crate) const SECRET: &str = "site-identity-secret-1";

both_engines!(a_visitor_and_an_agent_chat_live);

/// Saves a website chat through the admin form; answers its id.
pub(crate) async fn new_chat(app: &TestApp) -> i64 {
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let r = app
        .call(
            &c,
            "/api/admin/channels/provider/save",
            &[
                ("provider", "chat"),
                ("name", "Shop chat"),
                ("origins", &format!("{SITE}\nhttps://*.example.org")),
                ("greeting", "Hi!"),
                ("offline_message", "Away."),
                ("colour", "#1f5fbf"),
                ("name_field", "optional"),
                ("email_field", "optional"),
                ("phone_field", "off"),
                ("ask_support_consent", "no"),
                ("ask_marketing_consent", "no"),
                ("require_verified_identity", "no"),
                ("identity_secret", SECRET),
            ],
        )
        .await;
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "save the chat: {body}");
    body.trim().parse().unwrap()
}

/// POSTs `body` to the chat API as a script on `origin` would.
pub(crate) async fn api(
    app: &TestApp,
    chat: i64,
    path: &str,
    origin: &str,
    body: Value,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(&format!("/chat/api/{chat}/{path}")))
        .header("Origin", origin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn session(app: &TestApp, chat: i64, token: Option<&str>) -> Value {
    let r = api(
        app,
        chat,
        "session",
        SITE,
        json!({ "site": SITE, "token": token }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], SITE);
    r.json().await.unwrap()
}

pub(crate) async fn say(
    app: &TestApp,
    chat: i64,
    token: &str,
    id: &str,
    text: &str,
) -> reqwest::Response {
    api(
        app,
        chat,
        "messages",
        SITE,
        json!({ "site": SITE, "token": token, "client_id": id, "text": text, "name": "Ada Visitor" }),
    )
    .await
}

/// The chat messages stored for visitor `visitor`: (direction, body, delivery state).
pub(crate) async fn stored(db: &Db, visitor: &str) -> Vec<(String, String, String)> {
    sqlx::query(
        "SELECT m.direction, m.body_text, m.delivery_state FROM messages m \
         JOIN identifiers i ON i.customer_id = m.customer_id \
         WHERE i.kind = 'chat' AND i.value = $1 AND m.channel = 'chat' ORDER BY m.id",
    )
    .bind(visitor)
    .fetch_all(&db.read)
    .await
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r.try_get("direction").unwrap(),
            r.try_get("body_text").unwrap(),
            r.try_get("delivery_state").unwrap(),
        )
    })
    .collect()
}

/// A new visitor of `chat` who writes `message` (the widget's JSON: `client_id`, `text` and any
/// pre-chat fields); answers their token and visitor id once the message is threaded.
pub(crate) async fn visitor_writes(app: &TestApp, chat: i64, message: Value) -> (String, String) {
    let s = session(app, chat, None).await;
    let token = s["token"].as_str().unwrap().to_string();
    let visitor = visitor_of(&token);
    let mut body = message;
    body["site"] = json!(SITE);
    body["token"] = json!(token);
    let r = api(app, chat, "messages", SITE, body).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    crate::support::messages::wait_for("the visitor's message", 5, || async {
        (!stored(&app.state.db, &visitor).await.is_empty()).then_some(())
    })
    .await;
    (token, visitor)
}

pub(crate) fn visitor_of(token: &str) -> String {
    token.split('.').nth(2).unwrap().to_string()
}

/// Reads the stream until an event of `kind` whose data contains `needle`; answers its data.
pub(crate) async fn next_event(
    stream: &mut reqwest::Response,
    buf: &mut String,
    kind: &str,
    needle: &str,
) -> Value {
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let event = block
                    .lines()
                    .find_map(|l| l.strip_prefix("event:"))
                    .map(str::trim)
                    .unwrap_or("message");
                let data = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data:"))
                    .map(str::trim)
                    .unwrap_or("");
                if event == kind && data.contains(needle) {
                    return serde_json::from_str::<Value>(data).unwrap();
                }
            }
            let chunk = stream.chunk().await.unwrap().expect("the stream ended");
            buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {kind} event with {needle:?}; left: {buf:?}"))
}

async fn a_visitor_and_an_agent_chat_live(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;

    let s = session(&app, chat, None).await;
    assert_eq!(s["settings"]["name"], "Shop chat");
    assert_eq!(s["settings"]["greeting"], "Hi!");
    assert_eq!(s["known"], false);
    assert_eq!(s["messages"], json!([]));
    let token = s["token"].as_str().unwrap().to_string();
    let visitor = visitor_of(&token);

    // The widget listens before writing, as the frame does.
    let mut stream = reqwest::Client::new()
        .get(app.url(&format!(
            "/chat/api/{chat}/stream?site={}&token={token}",
            urlencode(SITE)
        )))
        .header("Origin", SITE)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();

    let r = say(
        &app,
        chat,
        &token,
        "w-first-message-1",
        "Hello, is my order shipped?",
    )
    .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    // The visitor's own message comes back on the stream once it is in the conversation.
    let echo = next_event(&mut stream, &mut buf, "message", "w-first-message-1").await;
    assert_eq!(echo["from"], "visitor");
    assert_eq!(echo["text"], "Hello, is my order shipped?");
    assert_eq!(
        stored(db, &visitor).await,
        vec![(
            "in".into(),
            "Hello, is my order shipped?".into(),
            "received".into()
        )]
    );
    let conv: i64 = sqlx::query(
        "SELECT c.id, cu.name AS display_name FROM conversations c JOIN customers cu ON cu.id = c.customer_id \
         JOIN identifiers i ON i.customer_id = c.customer_id WHERE i.kind = 'chat' AND i.value = $1",
    )
    .bind(&visitor)
    .fetch_one(&db.read)
    .await
    .map(|r| {
        assert_eq!(r.try_get::<String, _>("display_name").unwrap(), "Ada Visitor");
        r.try_get("id").unwrap()
    })
    .unwrap();

    // An agent opens the conversation (their presence): the widget shows the message seen.
    app.state
        .hub
        .publish(app::model::LiveEvent {
            kind: app::model::LiveKind::Presence,
            conversation_id: Some(conv),
            message_id: None,
            presence: Some(app::model::Presence {
                user_id: 2,
                name: "Sam Support".into(),
                state: app::model::PresenceState::Viewing,
            }),
        })
        .await;
    let seen = next_event(&mut stream, &mut buf, "seen", "Sam").await;
    assert_eq!(seen["name"], "Sam");

    // The agent answers on the chat; the widget has it within a second.
    let agent = app.login(SUPPORT.0, SUPPORT.1).await;
    let d = app::service::conversations::detail(db, conv).await.unwrap();
    let via = d.default_reply.clone().expect("the chat is a reply option");
    // A chat with a site: the composer offers "Invite to website chat"; with the chat
    // turned off there is nothing to invite to, and the composer does not offer it.
    assert!(d.chat_invite);
    app::store::channel_accounts::set_enabled(db, chat, false)
        .await
        .unwrap();
    let off = app::service::conversations::detail(db, conv).await.unwrap();
    assert!(!off.chat_invite);
    app::store::channel_accounts::set_enabled(db, chat, true)
        .await
        .unwrap();
    let started = Instant::now();
    let r = app
        .call(
            &agent,
            "/api/conversation/reply",
            &[
                ("id", &conv.to_string()),
                ("via", &via),
                ("body", "Yes, it left today."),
            ],
        )
        .await;
    assert!(r.status().is_success(), "reply: {}", r.status());
    let answer = next_event(&mut stream, &mut buf, "message", "it left today").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(answer["from"], "agent");
    assert_eq!(answer["seen"], false);
    let answer_id = answer["id"].as_i64().unwrap();
    // Handed to the widget: delivered; seen by the visitor: read.
    crate::support::messages::wait_for("delivered", 5, || async {
        (stored(db, &visitor).await[1].2 == "delivered").then_some(())
    })
    .await;
    let r = api(
        &app,
        chat,
        "seen",
        SITE,
        json!({ "site": SITE, "token": token, "upto": answer_id }),
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(stored(db, &visitor).await[1].2, "read");

    // A reload: the same token finds the whole thread again, with a fresh expiry.
    let again = session(&app, chat, Some(&token)).await;
    assert_eq!(visitor_of(again["token"].as_str().unwrap()), visitor);
    assert_eq!(again["known"], true);
    let texts: Vec<&str> = again["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Hello, is my order shipped?", "Yes, it left today."]
    );
    assert_eq!(again["messages"][1]["seen"], true);
    assert_eq!(again["messages"][1]["author"], "Sam");

    // While the widget is open the composer says nothing; once the visitor has gone it says
    // where an answer goes.
    let chat_notice = |d: &app::model::ConversationDetail| {
        d.reply_options
            .iter()
            .find(|o| o.channel == app::domain::ChannelKind::Chat)
            .and_then(|o| o.notice.clone())
    };
    let d = app::service::conversations::detail(db, conv).await.unwrap();
    assert_eq!(chat_notice(&d), None);
    sqlx::query("UPDATE chat_visitors SET last_active_at = last_active_at - 120000")
        .execute(&db.write)
        .await
        .unwrap();
    let d = app::service::conversations::detail(db, conv).await.unwrap();
    assert!(
        chat_notice(&d).is_some_and(|n| n.contains("left the chat") && n.contains("no email")),
        "{:?}",
        chat_notice(&d)
    );

    // Without JavaScript, "Invite to website chat" is a page with the signed link, for staff
    // who may reply only.
    let invite = app.url(&format!("/conversations/{conv}/chat-invite"));
    let page = agent.get(&invite).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("You can continue with us in our website chat: https://shop.example.com/?convergence_chat=k1."),
        "{html}"
    );
    let anonymous = app.client().get(&invite).send().await.unwrap();
    assert!(anonymous.status().is_client_error() || anonymous.status().is_redirection());
    let marketing = app
        .login("marketing@convergence.test", "marketing-password-1")
        .await;
    assert_eq!(marketing.get(&invite).send().await.unwrap().status(), 403);

    // Another visitor of the same chat sees none of it.
    let other = session(&app, chat, None).await;
    assert_ne!(visitor_of(other["token"].as_str().unwrap()), visitor);
    assert_eq!(other["messages"], json!([]));
}

pub(crate) fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

pub(crate) async fn owner(db: &Db, kind: &str, value: &str) -> (i64, Option<i64>) {
    let r = sqlx::query(
        "SELECT i.customer_id, c.id AS conv FROM identifiers i          LEFT JOIN conversations c ON c.customer_id = i.customer_id WHERE i.kind = $1 AND i.value = $2",
    )
    .bind(kind)
    .bind(value)
    .fetch_one(&db.read)
    .await
    .unwrap();
    (
        r.try_get("customer_id").unwrap(),
        r.try_get("conv").unwrap(),
    )
}
