//! The harness of the Twilio channel tests (`sms_twilio.rs`): the app and the Twilio stand-in
//! side by side, an SMS account pointing at the stand-in, database probes, and twilio-python's
//! RequestValidator run through scripts/twilio_sign.py.

use crate::support::{spawn_messaging_app, Engine, TestApp};
use app::domain::ChannelKind;
use app::service;
use app::store::channel_accounts::{self, AccountRow};
use app::store::Db;
use serde_json::{json, Value};
use server::channels::twilio::{form, signature};
use sqlx::Row;
use standin::Running;

pub const SID: &str = "AC5ef872f6da5a21de157d80997a64bd33";
pub const TOKEN: &str = "9f2a61c4d5e8b7a30c1d2e3f4a5b6c7d";
pub const NUMBER: &str = "+15550100000";

pub struct Ctx {
    pub app: TestApp,
    pub si: Running,
    pub account: i64,
    pub http: reqwest::Client,
}

impl Ctx {
    pub async fn new(engine: Engine) -> Ctx {
        let si = standin::spawn("127.0.0.1:0").await.unwrap();
        let app = spawn_messaging_app(engine).await;
        let account = create_account(&app.state.db, &si.base_url, TOKEN).await;
        Ctx {
            app,
            si,
            account,
            http: reqwest::Client::new(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.app.state.db
    }

    pub fn hook(&self) -> String {
        self.app.url(&format!("/webhooks/twilio/{}", self.account))
    }

    /// A customer texts us through the stand-in (signed like Twilio); returns its answer.
    pub async fn inbound(&self, mut req: Value) -> Value {
        let defaults =
            json!({"url": self.hook(), "auth_token": TOKEN, "account_sid": SID, "to": NUMBER});
        for (k, v) in defaults.as_object().unwrap() {
            req.as_object_mut().unwrap().entry(k).or_insert(v.clone());
        }
        self.control("inbound", req).await
    }

    pub async fn control(&self, what: &str, req: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/_standin/twilio/{what}", self.si.base_url))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "control {what}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        ct: &str,
        body: Vec<u8>,
    ) -> (u16, String) {
        let mut req = self.http.post(url).header("content-type", ct).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts `params` to our webhook signed with `token` (after `tamper` changed the body).
    pub async fn post_signed(
        &self,
        token: &str,
        params: &[(String, String)],
        tamper: impl FnOnce(&mut Vec<u8>),
    ) -> (u16, String) {
        let sig = signature::signature(token, &self.hook(), params);
        let mut body =
            form::encode(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))).into_bytes();
        tamper(&mut body);
        self.post(
            &self.hook(),
            &[("X-Twilio-Signature", &sig)],
            "application/x-www-form-urlencoded",
            body,
        )
        .await
    }

    pub async fn raw_count(&self, account: i64) -> i64 {
        scalar(
            self.db(),
            "SELECT COUNT(*) AS n FROM raw_inbound WHERE channel_account_id = $1",
            account,
        )
        .await
    }

    /// A reply from the support user to the customer at `to` (who wrote first); returns the
    /// message id once queued and the outbox woken.
    pub async fn reply_to(&self, to: &str, text: &str) -> i64 {
        let r = self
            .inbound(json!({"from": to, "body": "Hello there"}))
            .await;
        let sid = r["message_sid"].as_str().unwrap().to_string();
        let m = wait_for("the inbound message", 15, || message(self.db(), &sid)).await;
        let ident: i64 = scalar_str(
            self.db(),
            "SELECT id AS n FROM identifiers WHERE kind = 'phone' AND value = $1",
            to,
        )
        .await;
        let user: i64 = scalar_str(
            self.db(),
            "SELECT id AS n FROM users WHERE email = $1",
            "support@convergence.test",
        )
        .await;
        let mid = service::reply::queue_reply(
            self.db(),
            m.conversation_id,
            self.account,
            ident,
            user,
            text,
        )
        .await
        .unwrap();
        self.app.state.wake.outbox.notify_one();
        mid
    }

    /// The SIDs of the messages the stand-in created (what customers got), oldest first.
    pub fn created(&self) -> Vec<String> {
        self.si
            .state
            .config(&format!("twilio:messages:{SID}"))
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["sid"].as_str().map(str::to_string))
            .collect()
    }

    /// The Messages.json requests the stand-in received.
    pub fn sends(&self) -> Vec<standin::Recorded> {
        self.si
            .state
            .requests(Some("twilio"))
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/Messages.json"))
            .collect()
    }
}

pub async fn create_account(db: &Db, api_base: &str, token: &str) -> i64 {
    let secrets = if token.is_empty() {
        json!({})
    } else {
        json!({"auth_token": token})
    };
    channel_accounts::create(
        db,
        ChannelKind::Sms,
        "twilio",
        "SMS",
        NUMBER,
        &json!({"phone_number": NUMBER, "account_sid": SID, "api_base": api_base, "default_region": "US"}),
        &secrets,
    )
    .await
    .unwrap()
}

pub async fn scalar(db: &Db, sql: &str, bind: i64) -> i64 {
    sqlx::query(sql)
        .bind(bind)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

pub async fn scalar_str(db: &Db, sql: &str, bind: &str) -> i64 {
    sqlx::query(sql)
        .bind(bind)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

pub use crate::support::messages::{message, message_by_id, wait_for, Msg};

/// Waits until message `id` reaches `state` (failing fast on another final state).
pub async fn wait_state(c: &Ctx, id: i64, state: &str, secs: u64) -> Msg {
    wait_for(&format!("message {id} to be {state}"), secs, || async {
        let m = message_by_id(c.db(), id).await;
        if m.state != state && (m.state == "failed" || m.state == "delivered") {
            panic!(
                "message {id} ended {} ({:?}), not {state}",
                m.state, m.reason
            );
        }
        (m.state == state).then_some(m)
    })
    .await
}

pub fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn inbound_params(sid: &str, body: &str) -> Vec<(String, String)> {
    params(&[
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", NUMBER),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", SID),
        ("From", "+15005550006"),
        ("ApiVersion", "2010-04-01"),
    ])
}

pub const SMS_SID: &str = "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0";

pub fn twilio_error(code: u32, status: u16, message: &str) -> String {
    json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}).to_string()
}

pub fn official_signatures(
    token: &str,
    requests: &[(String, Vec<(String, String)>)],
) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let python = std::env::var_os("CONVERGENCE_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/testenv/py/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh test (it installs the twilio package)",
        python.display()
    );
    let input = json!({
        "auth_token": token,
        "requests": requests.iter().map(|(url, p)| json!({"url": url, "params": p})).collect::<Vec<_>>(),
    });
    let mut child = std::process::Command::new(&python)
        .arg(root.join("scripts/twilio_sign.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "twilio_sign.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    v.into_iter()
        .map(|r| {
            assert_eq!(r["valid"], true, "the library validates its own signature");
            r["signature"].as_str().unwrap().to_string()
        })
        .collect()
}

pub fn row(api_base: &str, token: &str) -> AccountRow {
    AccountRow {
        id: 1,
        channel: ChannelKind::Sms,
        provider: "twilio".into(),
        name: "SMS".into(),
        address: NUMBER.into(),
        settings: json!({"account_sid": SID, "phone_number": NUMBER, "api_base": api_base})
            .to_string(),
        secrets: json!({"auth_token": token}).to_string(),
        enabled: true,
        state: "ok".into(),
        state_detail: None,
    }
}
