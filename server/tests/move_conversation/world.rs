//! The test world: a customer who emailed, with a phone number the agent knows too, and
//! helpers to read back what the app stored.

use crate::support::TestApp;
use app::domain::{ChannelKind, IdentifierKind};
use app::model::{ConversationDetail, ReplyOption};
use app::ports::{InboundMessage, ThreadHints};
use app::service;
use app::service::ingest::ingest_message;
use app::store::{channel_accounts, now_ms, Db};
use sqlx::Row;

pub const SUPPORT: (&str, &str) = ("support@convergence.test", "support-password-1");
pub const PHONE: &str = "+14155550199";
pub const PHONE_LABEL: &str = "+1 415 555 0199";

/// A customer who emailed, with a phone number the agent knows too.
pub struct Ann {
    pub conv: i64,
    pub customer: i64,
    pub email_acc: i64,
    pub sms_acc: i64,
    pub email_ident: i64,
    pub phone_ident: i64,
}

pub fn inbound(kind: IdentifierKind, from: &str, id: &str, text: &str) -> InboundMessage {
    InboundMessage {
        identifier_kind: kind,
        identifier: from.into(),
        display_name: Some("Ann Move".into()),
        provider_message_id: id.into(),
        subject: None,
        body_text: text.into(),
        body_html: None,
        received_at: now_ms(),
        thread: ThreadHints::default(),
        automatic: false,
        meta: None,
        attachments: Vec::new(),
        media: Vec::new(),
    }
}

pub async fn customer_writes(
    db: &Db,
    channel: ChannelKind,
    from: &str,
    id: &str,
    text: &str,
) -> i64 {
    let acc = channel_accounts::playground_for(db, channel)
        .await
        .unwrap()
        .unwrap();
    ingest_message(
        db,
        &acc,
        None,
        &inbound(channel.identifier_kind(), from, id, text),
    )
    .await
    .unwrap()
    .conversation_id
}

pub async fn add_identifier(
    db: &Db,
    customer: i64,
    kind: IdentifierKind,
    value: &str,
    label: &str,
    last_in: Option<i64>,
) -> i64 {
    sqlx::query(
        "INSERT INTO identifiers (customer_id, kind, value, label, last_inbound_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(customer)
    .bind(kind.as_str())
    .bind(value)
    .bind(label)
    .bind(last_in)
    .bind(now_ms())
    .fetch_one(&db.write)
    .await
    .unwrap()
    .try_get("id")
    .unwrap()
}

pub async fn ann(app: &TestApp, email: &str) -> Ann {
    let db = &app.state.db;
    let conv = customer_writes(
        db,
        ChannelKind::Email,
        email,
        &format!("mid:{email}"),
        "Hello, where is my order?",
    )
    .await;
    let customer: i64 = sqlx::query("SELECT customer_id FROM conversations WHERE id = $1")
        .bind(conv)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("customer_id")
        .unwrap();
    let email_ident: i64 =
        sqlx::query("SELECT id FROM identifiers WHERE customer_id = $1 AND kind = 'email'")
            .bind(customer)
            .fetch_one(&db.read)
            .await
            .unwrap()
            .try_get("id")
            .unwrap();
    let phone_ident = add_identifier(
        db,
        customer,
        IdentifierKind::Phone,
        PHONE,
        PHONE_LABEL,
        None,
    )
    .await;
    let acc = |c| async move {
        channel_accounts::playground_for(db, c)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    Ann {
        conv,
        customer,
        email_acc: acc(ChannelKind::Email).await,
        sms_acc: acc(ChannelKind::Sms).await,
        email_ident,
        phone_ident,
    }
}

pub async fn detail(db: &Db, conv: i64) -> ConversationDetail {
    service::conversations::detail(db, conv).await.unwrap()
}

pub fn option(d: &ConversationDetail, account: i64, identifier: i64) -> ReplyOption {
    d.reply_options
        .iter()
        .find(|o| o.account_id == account && o.identifier_id == identifier)
        .cloned()
        .unwrap_or_else(|| panic!("no option {account}:{identifier} in {:#?}", d.reply_options))
}

pub fn key(account: i64, identifier: i64) -> String {
    format!("{account}:{identifier}")
}

pub async fn count(db: &Db, sql: &str, id: i64) -> i64 {
    sqlx::query(sql)
        .bind(id)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

pub async fn post(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let r = app.call(c, path, form).await;
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}
