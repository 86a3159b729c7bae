//! Two server processes on one PostgreSQL database share the website chat: a widget's stream
//! held by one process hears the visitor's message taken by the other and the agent's answer,
//! through NOTIFY, within a second or two.

use super::{next_event, urlencode, SITE};
use crate::support::processes::{free_port, healthy, spawn_server};
use crate::support::{run_on, Engine};
use app::domain::{ChannelKind, Role};
use app::store::{channel_accounts, users, Db};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_postgres_share_the_widget_stream() {
    run_on(Engine::Postgres, two_processes).await
}

async fn two_processes(db: Db) {
    let chat = channel_accounts::create(
        &db,
        ChannelKind::Chat,
        "chat",
        "Shop chat",
        SITE,
        &json!({ "origins": SITE, "colour": "#1f5fbf" }),
        &json!({}),
    )
    .await
    .unwrap();
    let agent = users::create_user(
        &db,
        "agent@example.com",
        "Kim Agent",
        Role::Support,
        "password-123",
    )
    .await
    .unwrap();
    let dir =
        std::env::temp_dir().join(format!("convergence_chat_processes_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pa, pb) = (free_port(), free_port());
    let _a = spawn_server(&db.url, &dir, pa, 1);
    let _b = spawn_server(&db.url, &dir, pb, 2);
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    healthy(pa).await;
    healthy(pb).await;
    let http = reqwest::Client::new();
    let post = |base: &str, path: &str, body: Value| {
        http.post(format!("{base}/chat/api/{chat}/{path}"))
            .header("Origin", SITE)
            .json(&body)
            .send()
    };
    // The session and the stream on process A.
    let s: Value = post(&a, "session", json!({ "site": SITE }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = s["token"].as_str().unwrap().to_string();
    let mut stream = http
        .get(format!(
            "{a}/chat/api/{chat}/stream?site={}&token={token}",
            urlencode(SITE)
        ))
        .header("Origin", SITE)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut buf = String::new();
    // The visitor's message reaches process B (another page load, another connection).
    let r = post(&b, "messages", json!({ "site": SITE, "token": token, "client_id": "w-across-00001", "text": "Hello from B" }))
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let echo = next_event(&mut stream, &mut buf, "message", "w-across-00001").await;
    assert_eq!(echo["text"], "Hello from B");
    // An agent answers (queued here, sent by either process's outbox): A's stream hears it.
    let visitor = token.split('.').nth(2).unwrap().to_string();
    let conv = app::store::chat::conversation_of(&db, &visitor)
        .await
        .unwrap()
        .unwrap();
    let d = app::service::conversations::detail(&db, conv)
        .await
        .unwrap();
    let o = d
        .reply_options
        .iter()
        .find(|o| o.channel == ChannelKind::Chat)
        .unwrap();
    app::service::reply::queue_reply(
        &db,
        conv,
        o.account_id,
        o.identifier_id,
        agent,
        "Hello from the team",
    )
    .await
    .unwrap();
    let answer = next_event(&mut stream, &mut buf, "message", "Hello from the team").await;
    assert_eq!(answer["from"], "agent");
    assert_eq!(answer["author"], "Kim");
}
