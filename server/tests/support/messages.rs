//! Reading back what the messaging adapters stored: one message row, and polling until a
//! condition holds. Shared by the provider test suites.

use app::store::Db;
use serde_json::{json, Value};
use sqlx::Row;
use std::future::Future;
use std::time::Duration;

#[derive(Debug)]
pub struct Msg {
    pub id: i64,
    pub conversation_id: i64,
    pub customer_id: i64,
    pub direction: String,
    pub body: String,
    pub state: String,
    pub reason: Option<String>,
    pub provider_id: Option<String>,
}

pub async fn message_where(db: &Db, clause: &str, bind: Value) -> Option<Msg> {
    let sql = format!(
        "SELECT id, conversation_id, customer_id, direction, body_text, delivery_state, failure_reason, provider_message_id FROM messages WHERE {clause}"
    );
    let q = sqlx::query(&sql);
    let q = match bind {
        Value::String(s) => q.bind(s),
        other => q.bind(other.as_i64().unwrap()),
    };
    let r = q.fetch_optional(&db.read).await.unwrap()?;
    Some(Msg {
        id: r.try_get("id").unwrap(),
        conversation_id: r.try_get("conversation_id").unwrap(),
        customer_id: r.try_get("customer_id").unwrap(),
        direction: r.try_get("direction").unwrap(),
        body: r.try_get("body_text").unwrap(),
        state: r.try_get("delivery_state").unwrap(),
        reason: r.try_get("failure_reason").unwrap(),
        provider_id: r.try_get("provider_message_id").unwrap(),
    })
}

pub async fn message(db: &Db, provider_id: &str) -> Option<Msg> {
    message_where(db, "provider_message_id = $1", json!(provider_id)).await
}

pub async fn message_by_id(db: &Db, id: i64) -> Msg {
    message_where(db, "id = $1", json!(id)).await.unwrap()
}

/// Polls `f` until it gives a value, for at most `secs` seconds.
pub async fn wait_for<T, F, Fut>(what: &str, secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
