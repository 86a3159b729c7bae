//! Identity across channels (issue 5): identifiers normalised and edited by agents, merges and
//! their exact undo, merge suggestions, and who may do what. Every test runs on SQLite and on
//! PostgreSQL.

mod http;
mod identifiers;
mod merges;
mod suggestions;

use app::domain::{ChannelKind, IdentifierKind, Role, Status};
use app::model::{
    AssigneeFilter, ConversationDetail, ConversationSummary, CustomerView, ListFilter, TimelineItem,
};
use app::ports::{InboundMessage, ThreadHints};
use app::service;
use app::service::ingest::{ingest_message, Ingested};
use app::store::channel_accounts::{self, AccountRow};
use app::store::{conversations, timeline, users, Db};
use sqlx::Row;

/// Staff and one playground account per channel.
pub struct Fx {
    pub db: Db,
    pub admin: i64,
    pub agent: i64,
    pub sms: AccountRow,
    pub email: AccountRow,
    pub whatsapp: AccountRow,
}

pub async fn fx(db: Db) -> Fx {
    channel_accounts::ensure_playground_accounts(&db)
        .await
        .unwrap();
    let acc = |c| {
        let db = db.clone();
        async move {
            channel_accounts::playground_for(&db, c)
                .await
                .unwrap()
                .unwrap()
        }
    };
    Fx {
        admin: users::create_user(
            &db,
            "lee@example.com",
            "Lee Lead",
            Role::Admin,
            "password-123",
        )
        .await
        .unwrap(),
        agent: users::create_user(
            &db,
            "sam@example.com",
            "Sam Agent",
            Role::Support,
            "password-123",
        )
        .await
        .unwrap(),
        sms: acc(ChannelKind::Sms).await,
        email: acc(ChannelKind::Email).await,
        whatsapp: acc(ChannelKind::Whatsapp).await,
        db,
    }
}

/// An inbound message as a channel adapter would hand it over.
pub fn msg(
    kind: IdentifierKind,
    who: &str,
    name: &str,
    id: &str,
    text: &str,
    at: i64,
) -> InboundMessage {
    InboundMessage {
        identifier_kind: kind,
        identifier: who.into(),
        display_name: Some(name.into()),
        provider_message_id: id.into(),
        subject: None,
        body_text: text.into(),
        body_html: None,
        received_at: at,
        thread: ThreadHints::default(),
        automatic: false,
        meta: None,
        attachments: Vec::new(),
        media: Vec::new(),
    }
}

impl Fx {
    pub async fn sms_in(&self, phone: &str, name: &str, id: &str, text: &str, at: i64) -> Ingested {
        ingest_message(
            &self.db,
            &self.sms,
            None,
            &msg(IdentifierKind::Phone, phone, name, id, text, at),
        )
        .await
        .unwrap()
    }

    /// An email whose own Message-ID is `<id>@example.com`, answering `refs`.
    pub async fn email_in(
        &self,
        from: &str,
        name: &str,
        id: &str,
        text: &str,
        at: i64,
        refs: &[&str],
    ) -> Ingested {
        let mut m = msg(IdentifierKind::Email, from, name, id, text, at);
        m.thread = ThreadHints {
            rfc_message_id: Some(format!("{id}@example.com")),
            refs: refs.iter().map(|r| r.to_string()).collect(),
            token_conversation: None,
        };
        ingest_message(&self.db, &self.email, None, &m)
            .await
            .unwrap()
    }

    pub async fn whatsapp_in(
        &self,
        phone: &str,
        name: &str,
        id: &str,
        text: &str,
        at: i64,
    ) -> Ingested {
        ingest_message(
            &self.db,
            &self.whatsapp,
            None,
            &msg(IdentifierKind::Whatsapp, phone, name, id, text, at),
        )
        .await
        .unwrap()
    }
}

/// The conversation of a customer.
pub async fn conversation_of(db: &Db, customer: i64) -> i64 {
    service::identifiers::conversation_of(db, customer)
        .await
        .unwrap()
        .expect("the customer has a conversation")
}

/// The conversation's line in the inbox list, whatever its status, if it is listed.
pub async fn listed(db: &Db, user: i64, conversation: i64) -> Option<ConversationSummary> {
    for status in [
        Status::Open,
        Status::Pending,
        Status::Snoozed,
        Status::Resolved,
    ] {
        let filter = ListFilter {
            status,
            assignee: AssigneeFilter::All,
            channel: None,
            label: None,
        };
        let page = conversations::list(db, user, &filter, None, 500)
            .await
            .unwrap();
        if let Some(s) = page.items.into_iter().find(|s| s.id == conversation) {
            return Some(s);
        }
    }
    None
}

/// The one integer `sql` selects.
pub async fn scalar(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

/// The whole timeline, oldest first.
pub async fn timeline_of(db: &Db, conversation: i64) -> Vec<TimelineItem> {
    timeline::page(db, conversation, None, 1000)
        .await
        .unwrap()
        .items
}

/// Everything an agent sees of a customer, and the rows behind it, to compare before a merge
/// and after its undo.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub customer: CustomerView,
    pub detail: ConversationDetail,
    /// Reply options as (key, available): their notices speak of the time left in a window.
    pub replies: Vec<(String, bool)>,
    /// Without the merge and unmerge events, which stay on the survivor as its history.
    pub timeline: Vec<TimelineItem>,
    pub listed: Option<ConversationSummary>,
    pub rows: Vec<String>,
}

pub async fn snapshot(db: &Db, customer: i64, viewer: i64) -> Snapshot {
    let conv = conversation_of(db, customer).await;
    let mut detail = service::conversations::detail(db, conv).await.unwrap();
    let replies = std::mem::take(&mut detail.reply_options)
        .into_iter()
        .map(|o| (o.key(), o.unavailable.is_none()))
        .collect();
    detail.default_reply = None;
    let timeline = timeline_of(db, conv)
        .await
        .into_iter()
        .filter(
            |i| !matches!(i, TimelineItem::Event(e) if e.kind == "merge" || e.kind == "unmerge"),
        )
        .collect();
    Snapshot {
        customer: service::customers::customer_view(db, customer)
            .await
            .unwrap(),
        detail,
        replies,
        timeline,
        listed: listed(db, viewer, conv).await,
        rows: rows(db, customer, conv).await,
    }
}

/// The stored rows of a customer: itself, its conversation, identifiers, consent, messages
/// and events, as text.
pub async fn rows(db: &Db, customer: i64, conv: i64) -> Vec<String> {
    let mut out = Vec::new();
    let r = sqlx::query(
        "SELECT name, preferred_channel, merged_into_id, created_at, updated_at FROM customers WHERE id = $1",
    )
    .bind(customer)
    .fetch_one(&db.read)
    .await
    .unwrap();
    out.push(format!(
        "customer {:?} {:?} {:?} {} {}",
        r.get::<String, _>("name"),
        r.get::<Option<String>, _>("preferred_channel"),
        r.get::<Option<i64>, _>("merged_into_id"),
        r.get::<i64, _>("created_at"),
        r.get::<i64, _>("updated_at"),
    ));
    let r = sqlx::query(
        "SELECT id, status, snoozed_until, assignee_id, current_channel, last_activity_at, last_inbound_at, \
         last_inbound_channel, last_preview, last_channel, last_direction, channels_mask, created_at \
         FROM conversations WHERE id = $1",
    )
    .bind(conv)
    .fetch_one(&db.read)
    .await
    .unwrap();
    out.push(format!(
        "conversation {} {} {:?} {:?} {:?} {} {:?} {:?} {:?} {:?} {:?} {} {}",
        r.get::<i64, _>("id"),
        r.get::<String, _>("status"),
        r.get::<Option<i64>, _>("snoozed_until"),
        r.get::<Option<i64>, _>("assignee_id"),
        r.get::<Option<String>, _>("current_channel"),
        r.get::<i64, _>("last_activity_at"),
        r.get::<Option<i64>, _>("last_inbound_at"),
        r.get::<Option<String>, _>("last_inbound_channel"),
        r.get::<String, _>("last_preview"),
        r.get::<Option<String>, _>("last_channel"),
        r.get::<Option<String>, _>("last_direction"),
        r.get::<i64, _>("channels_mask"),
        r.get::<i64, _>("created_at"),
    ));
    for r in sqlx::query(
        "SELECT id, kind, value, label, verified, last_inbound_at, created_at FROM identifiers \
         WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer)
    .fetch_all(&db.read)
    .await
    .unwrap()
    {
        out.push(format!(
            "identifier {} {} {} {:?} {} {:?} {}",
            r.get::<i64, _>("id"),
            r.get::<String, _>("kind"),
            r.get::<String, _>("value"),
            r.get::<String, _>("label"),
            r.get::<i64, _>("verified"),
            r.get::<Option<i64>, _>("last_inbound_at"),
            r.get::<i64, _>("created_at"),
        ));
    }
    for r in sqlx::query(
        "SELECT e.id, e.identifier_id, e.purpose, e.granted, e.source FROM consent_events e \
         JOIN identifiers i ON i.id = e.identifier_id WHERE i.customer_id = $1 ORDER BY e.id",
    )
    .bind(customer)
    .fetch_all(&db.read)
    .await
    .unwrap()
    {
        out.push(format!(
            "consent {} {} {} {} {}",
            r.get::<i64, _>("id"),
            r.get::<i64, _>("identifier_id"),
            r.get::<String, _>("purpose"),
            r.get::<i64, _>("granted"),
            r.get::<String, _>("source"),
        ));
    }
    for r in sqlx::query(
        "SELECT id, conversation_id, customer_id, identifier_id, direction, body_text, created_at, updated_at \
         FROM messages WHERE customer_id = $1 OR conversation_id = $2 ORDER BY id",
    )
    .bind(customer)
    .bind(conv)
    .fetch_all(&db.read)
    .await
    .unwrap()
    {
        out.push(format!(
            "message {} {} {} {:?} {} {:?} {} {}",
            r.get::<i64, _>("id"),
            r.get::<i64, _>("conversation_id"),
            r.get::<i64, _>("customer_id"),
            r.get::<Option<i64>, _>("identifier_id"),
            r.get::<String, _>("direction"),
            r.get::<String, _>("body_text"),
            r.get::<i64, _>("created_at"),
            r.get::<i64, _>("updated_at"),
        ));
    }
    for r in sqlx::query(
        "SELECT id, kind, body, data, actor_user_id, created_at FROM events \
         WHERE conversation_id = $1 AND kind NOT IN ('merge', 'unmerge') ORDER BY id",
    )
    .bind(conv)
    .fetch_all(&db.read)
    .await
    .unwrap()
    {
        out.push(format!(
            "event {} {} {:?} {} {:?} {}",
            r.get::<i64, _>("id"),
            r.get::<String, _>("kind"),
            r.get::<Option<String>, _>("body"),
            r.get::<String, _>("data"),
            r.get::<Option<i64>, _>("actor_user_id"),
            r.get::<i64, _>("created_at"),
        ));
    }
    out
}
