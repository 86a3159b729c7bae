//! Helpers for the email channel tests: messages, a connected support mailbox, and waiting for
//! the sync and delivery workers.

use super::mail::MailServers;
use super::TestApp;
use app::domain::email_account::{EmailSettings, TlsMode};
use app::domain::ChannelKind;
use app::store::{channel_accounts, mailbox, Db};
use serde_json::json;
use sqlx::Row;
use std::time::Duration;

pub const SUPPORT: &str = "support@shop.test";
pub const PASSWORD: &str = "mailbox-password";

/// A small RFC 5322 message.
pub fn mail(
    from: &str,
    subject: &str,
    message_id: Option<&str>,
    headers: &str,
    body: &str,
) -> Vec<u8> {
    let mid = message_id
        .map(|m| format!("Message-ID: <{m}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n{mid}{headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

pub fn settings(imap_port: u16, smtp_port: u16, folder: &str) -> EmailSettings {
    EmailSettings {
        from_name: "Shop Support".into(),
        imap_host: "127.0.0.1".into(),
        imap_port,
        imap_tls: TlsMode::None,
        imap_user: SUPPORT.into(),
        imap_folder: folder.into(),
        import_since: None,
        smtp_host: "127.0.0.1".into(),
        smtp_port,
        smtp_tls: TlsMode::None,
        smtp_user: String::new(),
    }
}

/// Connects the support mailbox to the app and tells the supervisor.
pub async fn connect_mailbox(app: &TestApp, s: EmailSettings) -> i64 {
    let id = channel_accounts::create(
        &app.state.db,
        ChannelKind::Email,
        "email",
        "Support mailbox",
        SUPPORT,
        &serde_json::to_value(&s).unwrap(),
        &json!({ "imap_password": PASSWORD, "smtp_password": "" }),
    )
    .await
    .unwrap();
    app.state.channels.accounts_changed();
    id
}

pub async fn servers() -> MailServers {
    let m = MailServers::start().await;
    m.add_user(SUPPORT, PASSWORD);
    m
}

/// Polls `f` until it returns `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn count(db: &Db, sql: &str, account: i64) -> i64 {
    sqlx::query(sql)
        .bind(account)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

pub async fn messages_of(db: &Db, account: i64) -> i64 {
    count(
        db,
        "SELECT COUNT(*) FROM messages WHERE channel_account_id = $1 AND direction = 'in'",
        account,
    )
    .await
}

pub async fn wait_messages(db: &Db, account: i64, n: i64) {
    eventually(30, &format!("{n} inbound messages"), || async {
        (messages_of(db, account).await >= n).then_some(())
    })
    .await;
    // And no more than that, once the worker has settled.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages_of(db, account).await, n);
}

/// The conversation id of the customer who has `email`.
pub async fn conversation_of(db: &Db, email: &str) -> i64 {
    sqlx::query(
        "SELECT c.id FROM conversations c JOIN identifiers i ON i.customer_id = c.customer_id \
         WHERE i.kind = 'email' AND i.value = $1",
    )
    .bind(email)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("id")
    .unwrap()
}

pub async fn phase(db: &Db, account: i64) -> String {
    mailbox::status(db, account)
        .await
        .unwrap()
        .map(|s| s.phase)
        .unwrap_or_default()
}

pub async fn reply(app: &TestApp, account: i64, email: &str, text: &str) -> i64 {
    let db = &app.state.db;
    let r = sqlx::query(
        "SELECT c.id AS conversation, i.id AS identifier FROM conversations c \
         JOIN identifiers i ON i.customer_id = c.customer_id WHERE i.kind = 'email' AND i.value = $1",
    )
    .bind(email)
    .fetch_one(&db.read)
    .await
    .unwrap();
    let conversation: i64 = r.try_get("conversation").unwrap();
    let identifier: i64 = r.try_get("identifier").unwrap();
    let c = app
        .login("support@convergence.test", "support-password-1")
        .await;
    let resp = app
        .call(
            &c,
            "/api/conversation/reply",
            &[
                ("id", &conversation.to_string()),
                ("via", &format!("{account}:{identifier}")),
                ("body", text),
            ],
        )
        .await;
    assert!(resp.status().is_success(), "reply: {}", resp.status());
    sqlx::query(
        "SELECT MAX(id) AS id FROM messages WHERE conversation_id = $1 AND direction = 'out'",
    )
    .bind(conversation)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("id")
    .unwrap()
}

pub async fn delivery(db: &Db, message: i64) -> (String, Option<String>, Option<String>) {
    let r = sqlx::query(
        "SELECT delivery_state, failure_reason, rfc_message_id FROM messages WHERE id = $1",
    )
    .bind(message)
    .fetch_one(&db.read)
    .await
    .unwrap();
    (
        r.try_get("delivery_state").unwrap(),
        r.try_get("failure_reason").unwrap(),
        r.try_get("rfc_message_id").unwrap(),
    )
}
