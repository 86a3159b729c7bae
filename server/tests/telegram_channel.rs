//! The Telegram channel end to end against the Bot API stand-in: the bot registers our webhook
//! with `setWebhook`, the stand-in posts real updates with the secret header, replies go out
//! with `sendMessage`, and photos come in through `getFile` and the file server.

use crate::support::{spawn_messaging_app, Engine as DbEngine, TestApp};
use ::standin::{Fault, Running};
use app::domain::ChannelKind;
use app::service;
use app::store::{channel_accounts, Db};
use base64::Engine;
use serde_json::{json, Value};
use sqlx::Row;
use std::time::Duration;

const TOKEN: &str = "123456789:AAH-test_Secret-token-XYZ";
const SECRET: &str = "hook-secret_42";
const BOT: &str = "acme_support_bot";

struct Tg {
    app: TestApp,
    standin: Running,
    account: i64,
    http: reqwest::Client,
}

/// The app, the stand-in with a registered bot, and a Telegram account whose webhook is set
/// (with `secret` as the webhook secret; `None` leaves it unconfigured and registers the
/// webhook without one, as an admin could by hand).
async fn setup_with(engine: DbEngine, secret: Option<&str>) -> Tg {
    let app = spawn_messaging_app(engine).await;
    let standin = ::standin::spawn("127.0.0.1:0").await.unwrap();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/_standin/telegram/bot", standin.base_url))
        .json(&json!({"token": TOKEN, "username": BOT}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let mut secrets = json!({"bot_token": TOKEN});
    if let Some(s) = secret {
        secrets["secret_token"] = json!(s);
    }
    let account = channel_accounts::create(
        &app.state.db,
        ChannelKind::Telegram,
        "telegram",
        "Acme bot",
        BOT,
        &json!({"bot_username": BOT, "api_base": standin.base_url}),
        &secrets,
    )
    .await
    .unwrap();
    let row = channel_accounts::get(&app.state.db, account).await.unwrap();
    let hook = format!("{}/webhooks/telegram/{account}", app.addr);
    let client = server::channels::http_client::client(Duration::from_secs(5));
    if secret.is_some() {
        let said = server::channels::telegram::set_webhook(&client, &row, &hook)
            .await
            .unwrap();
        assert_eq!(said, "Webhook was set");
        let info: Value = http
            .post(format!("{}/bot{TOKEN}/getWebhookInfo", standin.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["result"]["url"], json!(hook));
        assert_eq!(
            info["result"]["allowed_updates"],
            json!(["message", "edited_message"])
        );
    } else {
        let refused = server::channels::telegram::set_webhook(&client, &row, &hook).await;
        assert!(refused.unwrap_err().contains("secret"));
        let r = http
            .post(format!("{}/bot{TOKEN}/setWebhook", standin.base_url))
            .form(&[("url", hook.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    Tg {
        app,
        standin,
        account,
        http,
    }
}

async fn setup(engine: DbEngine) -> Tg {
    setup_with(engine, Some(SECRET)).await
}

impl Tg {
    fn db(&self) -> &Db {
        &self.app.state.db
    }

    /// The customer `from` writes to the bot; returns the stand-in's answer.
    async fn customer(&self, from: Value, extra: Value) -> Value {
        let mut req = json!({"token": TOKEN, "from": from});
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        let r = self
            .http
            .post(format!(
                "{}/_standin/telegram/update",
                self.standin.base_url
            ))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.json().await.unwrap()
    }

    async fn says(&self, id: i64, first_name: &str, text: &str) -> Value {
        let a = self
            .customer(
                json!({"id": id, "first_name": first_name}),
                json!({"text": text}),
            )
            .await;
        assert_eq!(a["status"], 200, "{a}");
        a
    }

    /// Posts an exact update (or body) to our webhook; returns (status, body).
    async fn raw(&self, req: Value) -> (u16, String) {
        let mut req = req;
        req["token"] = json!(TOKEN);
        let a: Value = self
            .http
            .post(format!("{}/_standin/telegram/raw", self.standin.base_url))
            .json(&req)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            a["status"].as_u64().unwrap() as u16,
            a["body"].as_str().unwrap_or("").to_string(),
        )
    }

    /// The stored message with this provider id, once the inbound worker stored it.
    async fn message(&self, provider_id: &str) -> Msg {
        let deadline = Deadline::new();
        loop {
            let r = sqlx::query(
                "SELECT id, conversation_id, customer_id, body_text, delivery_state, failure_reason \
                 FROM messages WHERE channel_account_id = $1 AND provider_message_id = $2",
            )
            .bind(self.account)
            .bind(provider_id)
            .fetch_optional(&self.db().read)
            .await
            .unwrap();
            if let Some(r) = r {
                return msg(&r);
            }
            deadline.tick(&format!("message {provider_id}")).await;
        }
    }

    async fn message_by_id(&self, id: i64) -> Msg {
        let r = sqlx::query(
            "SELECT id, conversation_id, customer_id, body_text, delivery_state, failure_reason FROM messages WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.db().read)
        .await
        .unwrap();
        msg(&r)
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query(sql)
            .bind(self.account)
            .fetch_one(&self.db().read)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    async fn messages_in(&self) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM messages WHERE channel_account_id = $1 AND direction = 'in'",
        )
        .await
    }

    async fn raws(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1")
            .await
    }

    /// Queues an agent's reply to the conversation of `inbound` and wakes the outbox.
    async fn reply(&self, inbound: &Msg, text: &str) -> i64 {
        let d = service::conversations::detail(self.db(), inbound.conversation_id)
            .await
            .unwrap();
        let opt = d
            .reply_options
            .iter()
            .find(|o| o.account_id == self.account)
            .expect("a Telegram reply option");
        let me: i64 = sqlx::query("SELECT id FROM users WHERE email = 'support@convergence.test'")
            .fetch_one(&self.db().read)
            .await
            .unwrap()
            .try_get("id")
            .unwrap();
        let id = service::reply::queue_reply(
            self.db(),
            inbound.conversation_id,
            self.account,
            opt.identifier_id,
            me,
            text,
        )
        .await
        .unwrap();
        self.app.state.wake.outbox.notify_one();
        id
    }

    /// Waits until message `id` is in `state`.
    async fn until_state(&self, id: i64, state: &str) -> Msg {
        let deadline = Deadline::new();
        loop {
            let m = self.message_by_id(id).await;
            if m.state == state {
                return m;
            }
            deadline
                .tick(&format!("message {id} to become {state} (now {m:?})"))
                .await;
        }
    }

    fn send_messages(&self) -> Vec<Value> {
        self.standin
            .state
            .requests(Some("telegram"))
            .into_iter()
            .filter(|r| r.path.ends_with("/sendMessage"))
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }

    fn fault(&self, status: u16, body: Value, hang_ms: u64) {
        self.standin.state.add_fault(Fault {
            provider: "telegram".into(),
            status,
            body: body.to_string(),
            hang_ms,
            times: 1,
            ..Default::default()
        });
    }
}

#[derive(Clone, Debug)]
struct Msg {
    id: i64,
    conversation_id: i64,
    customer_id: i64,
    body: String,
    state: String,
    reason: Option<String>,
}

fn msg(r: &sqlx::any::AnyRow) -> Msg {
    Msg {
        id: r.try_get("id").unwrap(),
        conversation_id: r.try_get("conversation_id").unwrap(),
        customer_id: r.try_get("customer_id").unwrap(),
        body: r.try_get("body_text").unwrap(),
        state: r.try_get("delivery_state").unwrap(),
        reason: r.try_get("failure_reason").unwrap(),
    }
}

/// 20 seconds to wait for something, polled every 50 ms.
struct Deadline(tokio::time::Instant);

impl Deadline {
    fn new() -> Deadline {
        Deadline(tokio::time::Instant::now() + Duration::from_secs(20))
    }

    async fn tick(&self, what: &str) {
        assert!(
            tokio::time::Instant::now() < self.0,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn update(update_id: i64, message_id: i64, chat: Value, text: &str) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": message_id,
        "from": {"id": chat["id"], "is_bot": false, "first_name": "Raw"},
        "chat": chat, "date": 1_700_000_000, "text": text}})
}

fn private(id: i64) -> Value {
    json!({"id": id, "first_name": "Raw", "type": "private"})
}

mod scenarios;
mod standin;
