//! The website chat end to end over HTTP, as a browser on an allowed website uses it: a chat
//! saved through the admin form, a session, a visitor message threaded into the inbox, an
//! agent's answer arriving on the widget's stream within a second, "seen" reaching the agent;
//! and what must be refused: other websites (CORS, the frame's `frame-ancestors`), forged,
//! expired and foreign tokens, markup, oversize messages and floods (limits kept in the
//! database, so they hold across processes).

use crate::support::{spawn_app, Engine, TestApp};
use app::store::Db;
use serde_json::{json, Value};
use sqlx::Row;
use std::time::{Duration, Instant};

mod continuity;
mod processes;

const ADMIN: (&str, &str) = ("admin@convergence.test", "admin-password-1");
pub(crate) const SUPPORT: (&str, &str) = ("support@convergence.test", "support-password-1");
pub(crate) const SITE: &str = "https://shop.example.com";
const SECRET: &str = "site-identity-secret-1";

both_engines!(
    a_visitor_and_an_agent_chat_live,
    other_websites_and_bad_tokens_are_refused,
    floods_markup_and_oversize_messages_are_stopped,
    a_verified_sign_in_joins_the_customer_and_a_forged_one_is_refused,
    a_typed_email_only_suggests,
);

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

async fn other_websites_and_bad_tokens_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let s = session(&app, chat, None).await;
    let token = s["token"].as_str().unwrap().to_string();

    // Another website: refused in words, and no CORS header lets its script read anything.
    for (origin, site) in [
        ("https://evil.example.net", "https://evil.example.net"),
        ("https://evil.example.net", SITE),
        (SITE, "https://evil.example.net"),
    ] {
        let r = api(&app, chat, "session", origin, json!({ "site": site })).await;
        assert_eq!(r.status(), 403, "{origin} {site}");
        assert!(r.headers().get("access-control-allow-origin").is_none());
        let words: Value = r.json().await.unwrap();
        assert!(
            words["error"]
                .as_str()
                .unwrap()
                .contains("not one of the websites"),
            "{words}"
        );
    }
    // A subdomain of a wildcard site is allowed.
    let sub = "https://help.example.org";
    let r = api(&app, chat, "session", sub, json!({ "site": sub })).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], sub);

    // Preflight: the allowed site only.
    let pre = |origin: &'static str| {
        reqwest::Client::new()
            .request(
                reqwest::Method::OPTIONS,
                app.url(&format!("/chat/api/{chat}/messages")),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = pre(SITE).await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], SITE);
    let no = pre("https://evil.example.net").await.unwrap();
    assert_eq!(no.status(), 403);
    assert!(no.headers().get("access-control-allow-origin").is_none());

    // The frame: embeddable by the allowed websites only, and refused for any other site.
    let frame = reqwest::get(app.url(&format!("/chat/frame/{chat}?site={}", urlencode(SITE))))
        .await
        .unwrap();
    assert_eq!(frame.status(), 200);
    let csp = frame.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors https://shop.example.com https://*.example.org"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(frame.headers().get("x-frame-options").is_none());
    let refused = reqwest::get(app.url(&format!(
        "/chat/frame/{chat}?site=https%3A%2F%2Fevil.example.net"
    )))
    .await
    .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("evil.example.net is not one of the websites"));
    // An unknown chat, or an account that is not a chat.
    for id in ["999999", "1", "x"] {
        let r = reqwest::get(app.url(&format!("/chat/frame/{id}?site={}", urlencode(SITE))))
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{id}");
    }

    // The widget's code (script, frame page, its script and style) is small on the wire.
    let mut total = 0;
    for path in [
        "/chat/widget.js".to_string(),
        format!("/chat/frame/{chat}?site={}", urlencode(SITE)),
        "/chat/frame.js".into(),
        "/chat/frame.css".into(),
    ] {
        let r = reqwest::Client::new()
            .get(app.url(&path))
            .header("Accept-Encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-encoding"], "br", "{path}");
        total += r.bytes().await.unwrap().len();
    }
    assert!(total < 40 * 1024, "the widget is {total} bytes brotli");

    // Tokens: forged, altered, made for another chat, or expired are refused.
    let key = crate::support::TEST_SECRET.as_bytes();
    let visitor = visitor_of(&token);
    let forged =
        server::channels::chat::token::visitor_token(b"not-our-key", chat, &visitor, i64::MAX / 2);
    let other_chat =
        server::channels::chat::token::visitor_token(key, chat + 1, &visitor, i64::MAX / 2);
    let expired = server::channels::chat::token::visitor_token(key, chat, &visitor, 1);
    let altered = token.replacen(&visitor, &"a".repeat(26), 1);
    for bad in [
        forged,
        other_chat,
        expired,
        altered,
        "v1.garbage".into(),
        "x".repeat(5000),
    ] {
        let r = say(&app, chat, &bad, "w-forged-message", "hi").await;
        assert_eq!(r.status(), 401, "{bad}");
        let r = reqwest::get(app.url(&format!(
            "/chat/api/{chat}/stream?site={}&token={bad}",
            urlencode(SITE)
        )))
        .await
        .unwrap();
        assert_eq!(r.status(), 401, "stream with {bad}");
    }
    // A token of another visitor's session is never told about this one: a fresh session.
    let fresh = session(&app, chat, Some("v1.1.abc.1.00")).await;
    assert_ne!(visitor_of(fresh["token"].as_str().unwrap()), visitor);
}

async fn floods_markup_and_oversize_messages_are_stopped(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let s = session(&app, chat, None).await;
    let token = s["token"].as_str().unwrap().to_string();
    let visitor = visitor_of(&token);

    // Markup is text, for the visitor and for the agent.
    let markup = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    assert_eq!(
        say(&app, chat, &token, "w-markup-0001", markup)
            .await
            .status(),
        202
    );
    // The same message sent twice (a retry) is stored once.
    let again = say(&app, chat, &token, "w-markup-0001", markup).await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.json::<Value>().await.unwrap()["duplicate"], true);
    crate::support::messages::wait_for("the message", 5, || async {
        (!stored(db, &visitor).await.is_empty()).then_some(())
    })
    .await;
    let row = sqlx::query(
        "SELECT body_text, body_html FROM messages WHERE provider_message_id = 'w-markup-0001'",
    )
    .fetch_all(&db.read)
    .await
    .unwrap();
    assert_eq!(row.len(), 1);
    assert_eq!(row[0].try_get::<String, _>("body_text").unwrap(), markup);
    assert_eq!(
        row[0].try_get::<Option<String>, _>("body_html").unwrap(),
        None
    );

    // Too long, empty, or without a valid id: refused in words, nothing stored.
    for (id, text, words) in [
        ("w-long-000001", "x".repeat(4_001), "4000 characters"),
        ("w-empty-00001", "  \n ".to_string(), "Write a message"),
        ("bad id!", "hello".to_string(), "valid id"),
    ] {
        let r = say(&app, chat, &token, id, &text).await;
        assert_eq!(r.status(), 400, "{id}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(words), "{body}");
    }
    // A body over the limit is refused before it is read.
    let r = say(&app, chat, &token, "w-huge-000001", &"y".repeat(40_000)).await;
    assert_eq!(r.status(), 413);

    // One visitor may send 20 messages a minute; the 21st is refused with Retry-After.
    let mut sent = 2; // the markup message and its retry: every request counts
    let mut refused = None;
    for n in 0..25 {
        let r = say(&app, chat, &token, &format!("w-flood-{n:05}"), "again").await;
        if r.status() == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status(), 202);
        sent += 1;
    }
    let refused = refused.expect("the flood was stopped");
    assert_eq!(sent, server::http::chat::MESSAGES_PER_VISITOR);
    assert_eq!(refused.headers()["retry-after"], "60");
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("wait a minute"),
        "{body}"
    );
    // The limit is in the database: another process (a second app on the same database would
    // read the same counter); here, the counter row itself.
    let hits: i64 = sqlx::query("SELECT hits FROM rate_counters WHERE key LIKE 'chat-msg:%'")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("hits")
        .unwrap();
    assert!(hits > server::http::chat::MESSAGES_PER_VISITOR);

    // A token opening streams without end is stopped too.
    let stream_url = app.url(&format!(
        "/chat/api/{chat}/stream?site={}&token={token}",
        urlencode(SITE)
    ));
    let mut statuses = Vec::new();
    for _ in 0..=server::http::chat::STREAMS_PER_VISITOR {
        let r = reqwest::Client::new()
            .get(&stream_url)
            .header("Origin", SITE)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count() as i64,
        server::http::chat::STREAMS_PER_VISITOR
    );
    assert_eq!(statuses.last(), Some(&429));

    // New visitors per address are limited too.
    let mut starts = 1;
    loop {
        let r = api(&app, chat, "session", SITE, json!({ "site": SITE })).await;
        if r.status() == 429 {
            break;
        }
        assert_eq!(r.status(), 200);
        starts += 1;
        assert!(
            starts <= server::http::chat::NEW_VISITORS_PER_ADDRESS,
            "no limit on new visitors"
        );
    }
    // A known visitor still gets a session.
    let known = api(
        &app,
        chat,
        "session",
        SITE,
        json!({ "site": SITE, "token": token }),
    )
    .await;
    assert_eq!(known.status(), 200);
}

fn hash(id: &str) -> String {
    server::channels::chat::token::identity_hash(SECRET.as_bytes(), id)
}

/// The customer holding `kind:value` (merged customers followed), and their conversation.
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

async fn identify(app: &TestApp, chat: i64, token: &str, body: Value) -> reqwest::Response {
    let mut body = body;
    body["site"] = json!(SITE);
    body["token"] = json!(token);
    api(app, chat, "identify", SITE, body).await
}

async fn a_verified_sign_in_joins_the_customer_and_a_forged_one_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let (ada, ada_conv) = owner(db, "email", "ada.lovelace@example.com").await;

    // An anonymous visitor writes first.
    let s = session(&app, chat, None).await;
    let token = s["token"].as_str().unwrap().to_string();
    let visitor = visitor_of(&token);
    assert_eq!(
        say(&app, chat, &token, "w-before-signin", "Hi, it's me")
            .await
            .status(),
        202
    );
    crate::support::messages::wait_for("the visitor's message", 5, || async {
        (!stored(db, &visitor).await.is_empty()).then_some(())
    })
    .await;
    let (anon, _) = owner(db, "chat", &visitor).await;
    assert_ne!(anon, ada);

    // A forged hash, a hash for another id, or none where one is required: refused, nothing joins.
    for (id, h) in [
        ("user-1042", "00".repeat(32)),
        ("user-1042", hash("user-9999")),
        ("user-1042", "zz".into()),
    ] {
        let r = identify(
            &app,
            chat,
            &token,
            json!({ "id": id, "email": "ada.lovelace@example.com", "hash": h }),
        )
        .await;
        assert_eq!(r.status(), 403, "{h}");
        let words: Value = r.json().await.unwrap();
        assert!(
            words["error"]
                .as_str()
                .unwrap()
                .contains("hash does not match"),
            "{words}"
        );
    }
    assert_eq!(owner(db, "chat", &visitor).await.0, anon);

    // The site signs its user in: the visitor joins Ada, through a merge on her timeline.
    let r = identify(
        &app,
        chat,
        &token,
        json!({ "id": "user-1042", "email": "Ada.Lovelace@example.com", "name": "Ada L.", "hash": hash("user-1042") }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "verified": true, "joined": true })
    );
    assert_eq!(owner(db, "chat", &visitor).await.0, ada);
    let merge: String = sqlx::query(
        "SELECT body FROM events WHERE conversation_id = $1 AND kind = 'merge' ORDER BY id DESC LIMIT 1",
    )
    .bind(ada_conv.unwrap())
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("body")
    .unwrap();
    assert!(
        merge.starts_with(
            "The website chat (a verified sign-in as ada.lovelace@example.com) merged"
        ),
        "{merge}"
    );
    // Her anonymous message is in her conversation now, and the widget keeps showing it.
    let again = session(&app, chat, Some(&token)).await;
    assert_eq!(again["messages"][0]["text"], "Hi, it's me");
    // The merge is reversible like any other.
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let r = app
        .call(
            &admin,
            "/api/customer/unmerge",
            &[("customer", &anon.to_string())],
        )
        .await;
    assert!(r.status().is_success(), "undo: {}", r.text().await.unwrap());
    assert_eq!(owner(db, "chat", &visitor).await.0, anon);

    // The same signed-in user on another device joins the same customer, even without email.
    let phone = session(&app, chat, None).await;
    let phone_token = phone["token"].as_str().unwrap().to_string();
    let r = identify(
        &app,
        chat,
        &phone_token,
        json!({ "id": "user-1042", "hash": hash("user-1042") }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(owner(db, "chat", &visitor_of(&phone_token)).await.0, ada);
}

async fn a_typed_email_only_suggests(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let (grace, _) = owner(db, "email", "grace@navy.example.org").await;
    // Grace's address typed into the pre-chat form: a suggestion, never a join.
    let (_, visitor) = visitor_writes(
        &app,
        chat,
        json!({ "client_id": "w-prechat-0001", "text": "Invoice question",
                "name": "G. Hopper", "email": "grace@navy.example.org" }),
    )
    .await;
    let (mine, _) = owner(db, "chat", &visitor).await;
    assert_ne!(mine, grace);
    let suggestion: String = sqlx::query(
        "SELECT detail FROM merge_suggestions WHERE reason = 'conflict' AND          ((customer_a = $1 AND customer_b = $2) OR (customer_a = $2 AND customer_b = $1))",
    )
    .bind(mine)
    .bind(grace)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("detail")
    .unwrap();
    assert!(
        suggestion.contains("grace@navy.example.org") && suggestion.contains("not verified"),
        "{suggestion}"
    );
    assert_eq!(owner(db, "email", "grace@navy.example.org").await.0, grace);
    let name: String = sqlx::query("SELECT name FROM customers WHERE id = $1")
        .bind(mine)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("name")
        .unwrap();
    assert_eq!(name, "G. Hopper");

    // A new address nobody has: the visitor's, unverified; an unsigned identify() the same.
    let other = session(&app, chat, None).await;
    let t2 = other["token"].as_str().unwrap().to_string();
    let r = identify(
        &app,
        chat,
        &t2,
        json!({ "email": "new.person@example.com" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "verified": false, "joined": false })
    );
    let (who, _) = owner(db, "email", "new.person@example.com").await;
    assert_eq!(who, owner(db, "chat", &visitor_of(&t2)).await.0);
    let verified: i64 = sqlx::query("SELECT verified FROM identifiers WHERE kind = 'email' AND value = 'new.person@example.com'")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("verified")
        .unwrap();
    assert_eq!(verified, 0);
    // A bad address is refused in words before the message is stored.
    let r = api(
        &app,
        chat,
        "messages",
        SITE,
        json!({ "site": SITE, "token": t2, "client_id": "w-prechat-0002", "text": "hi", "email": "not an email" }),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("does not look like an email address"));
}
