//! The app, the Meta stand-in, and channel accounts subscribed to it; database polling.

use crate::support::{spawn_messaging_app, Engine, TestApp};
use app::domain::ChannelKind;
use app::service;
use app::store::{channel_accounts, Db};
use serde_json::{json, Value};
use sqlx::Row;
use standin::{Fault, Recorded, Running};

pub const SECRET: &str = "meta-app-secret-4c1d9a";
pub const TOKEN: &str = "EAAGm0PX4ZCpsBA-test-token";
pub const VERIFY: &str = "verify-me-please";

/// One subscribed channel account.
#[derive(Clone)]
pub struct Acc {
    pub provider: &'static str,
    pub id: i64,
    /// The page id or phone number id.
    pub graph_id: String,
}

impl Acc {
    pub fn object(&self) -> &'static str {
        match self.provider {
            "whatsapp" => "whatsapp_business_account",
            "instagram" => "instagram",
            _ => "page",
        }
    }

    /// The identifier kind and value of a customer written as `from`.
    pub fn identifier(&self, from: &str) -> (&'static str, String) {
        match self.provider {
            "whatsapp" => ("whatsapp", format!("+{}", from.trim_start_matches('+'))),
            other => (other, from.to_string()),
        }
    }
}

pub struct Ctx {
    pub app: TestApp,
    pub si: Running,
    pub http: reqwest::Client,
}

impl Ctx {
    pub async fn new(engine: Engine) -> Ctx {
        let si = standin::spawn("127.0.0.1:0").await.unwrap();
        let app = spawn_messaging_app(engine).await;
        Ctx {
            app,
            si,
            http: reqwest::Client::new(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.app.state.db
    }

    /// A `provider` account with every setting, subscribed (and verified) at the stand-in.
    pub async fn account(&self, provider: &'static str) -> Acc {
        self.account_with(provider, json!({"app_secret": SECRET}), "read")
            .await
    }

    /// An account whose secrets are `secrets` plus the token; `receipts` is what the stand-in
    /// posts after a send (`none`, `delivered`, `read`).
    pub async fn account_with(
        &self,
        provider: &'static str,
        mut secrets: Value,
        receipts: &str,
    ) -> Acc {
        let (channel, graph_id, id_key, token_key) = match provider {
            "whatsapp" => (
                ChannelKind::Whatsapp,
                "106540352242922",
                "phone_number_id",
                "access_token",
            ),
            "instagram" => (
                ChannelKind::Instagram,
                "17841405309211844",
                "page_id",
                "page_access_token",
            ),
            _ => (
                ChannelKind::Messenger,
                "104502931234567",
                "page_id",
                "page_access_token",
            ),
        };
        secrets[token_key] = json!(TOKEN);
        let settings = json!({
            id_key: graph_id,
            "verify_token": VERIFY,
            "api_base": format!("{}/v21.0", self.si.base_url),
            "default_region": "US",
        });
        let id = channel_accounts::create(
            self.db(),
            channel,
            provider,
            provider,
            graph_id,
            &settings,
            &secrets,
        )
        .await
        .unwrap();
        let acc = Acc {
            provider,
            id,
            graph_id: graph_id.into(),
        };
        let r = self
            .control("subscribe", json!({
                "object": acc.object(), "id": graph_id, "url": self.hook(&acc), "app_secret": SECRET,
                "access_token": TOKEN, "verify_token": VERIFY, "name": "Acme Shoes",
                "display_phone_number": "+1 555-010-0000", "receipts": receipts,
            }))
            .await;
        assert_eq!(
            r["verified"], true,
            "Meta's verification of our webhook: {r}"
        );
        acc
    }

    pub fn hook(&self, acc: &Acc) -> String {
        self.app
            .url(&format!("/webhooks/{}/{}", acc.provider, acc.id))
    }

    pub async fn control(&self, what: &str, req: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/_standin/meta/{what}", self.si.base_url))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "control {what}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    /// A customer's message through the stand-in; returns its answer (`status`, `id`, …).
    pub async fn inbound(&self, acc: &Acc, mut req: Value) -> Value {
        req["id"] = json!(acc.graph_id);
        let r = self.control("inbound", req).await;
        assert_eq!(r["status"], 200, "{r}");
        r
    }

    /// Posts `body` to `acc`'s webhook through the stand-in (signed unless `signature`).
    pub async fn raw(&self, acc: &Acc, body: &str, signature: Option<&str>) -> (u16, String) {
        let r = self
            .control(
                "raw",
                json!({"id": acc.graph_id, "body": body, "signature": signature}),
            )
            .await;
        (
            r["status"].as_u64().unwrap() as u16,
            r["body"].as_str().unwrap_or("").to_string(),
        )
    }

    pub fn fault(&self, status: u16, body: Value, hang_ms: u64) {
        self.si.state.add_fault(Fault {
            provider: "meta".into(),
            status,
            body: body.to_string(),
            hang_ms,
            times: 1,
            ..Default::default()
        });
    }

    /// The customer `from` writes, then the support user replies `text`; the outbox is woken.
    pub async fn reply_to(&self, acc: &Acc, from: &str, text: &str) -> i64 {
        let r = self
            .inbound(
                acc,
                json!({"from": from, "text": "Hello there", "name": "Ada"}),
            )
            .await;
        let inbound = wait_message(self.db(), r["id"].as_str().unwrap()).await;
        self.reply(acc, inbound.conversation_id, from, text).await
    }

    pub async fn reply(&self, acc: &Acc, conversation_id: i64, from: &str, text: &str) -> i64 {
        let (kind, value) = acc.identifier(from);
        let ident = int(
            self.db(),
            "SELECT id AS n FROM identifiers WHERE kind = $1 AND value = $2",
            &[kind, &value],
        )
        .await;
        let user = int(
            self.db(),
            "SELECT id AS n FROM users WHERE email = $1",
            &["support@convergence.test"],
        )
        .await;
        let mid =
            service::reply::queue_reply(self.db(), conversation_id, acc.id, ident, user, text)
                .await
                .unwrap();
        self.app.state.wake.outbox.notify_one();
        mid
    }

    /// The Send API calls the stand-in received for `acc`.
    pub fn sends(&self, acc: &Acc) -> Vec<Recorded> {
        let path = format!("/v21.0/{}/messages", acc.graph_id);
        self.si
            .state
            .requests(Some("meta"))
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .collect()
    }

    pub async fn raw_count(&self, acc: &Acc) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM raw_inbound WHERE channel_account_id = $1")
            .bind(acc.id)
            .fetch_one(&self.db().read)
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }
}

/// The header `name` of a recorded request.
pub fn header<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn int(db: &Db, sql: &str, binds: &[&str]) -> i64 {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_one(&db.read).await.unwrap().try_get("n").unwrap()
}

pub use crate::support::messages::{message, message_by_id, wait_for, Msg};

/// Waits until the message with `provider_id` is stored.
pub async fn wait_message(db: &Db, provider_id: &str) -> Msg {
    wait_for(&format!("message {provider_id}"), 20, || {
        message(db, provider_id)
    })
    .await
}

/// Waits until message `id` reaches `state`; a failure on the way ends the wait with its reason.
pub async fn wait_state(db: &Db, id: i64, state: &str, secs: u64) -> Msg {
    wait_for(
        &format!("message {id} to be {state}"),
        secs,
        || async move {
            let m = message_by_id(db, id).await;
            if m.state == "failed" && state != "failed" {
                panic!("message {id} failed: {:?}", m.reason);
            }
            (m.state == state).then_some(m)
        },
    )
    .await
}
