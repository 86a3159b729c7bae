//! What the consent tests share: an app without background workers (the test runs the outbox
//! itself, after the opt-out), a sender that counts its calls, and reading consent back.

use crate::support::{Engine, TestApp, TEST_SECRET};
use app::domain::consent::Purpose;
use app::domain::DeliveryState;
use app::ports::Outbound;
use app::ssr::state::Settings;
use app::store::{channel_accounts, Db};
use async_trait::async_trait;
use server::channels::{playground::Playground, Registry, SendError, Sender, Sent};
use sqlx::Row;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub const SUPPORT: (&str, &str) = ("support@convergence.test", "support-password-1");
pub const MARKETING: (&str, &str) = ("marketing@convergence.test", "marketing-password-1");
pub const ADMIN: (&str, &str) = ("admin@convergence.test", "admin-password-1");

/// The real router on a random port with the demo data, but no workers: nothing is sent
/// until the test calls the outbox.
pub async fn quiet_app(engine: Engine) -> TestApp {
    let t = crate::support::test_db(engine).await;
    channel_accounts::ensure_playground_accounts(&t.db)
        .await
        .unwrap();
    server::demo_data::load_if_empty(&t.db).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let mut options = leptos::config::LeptosOptions::builder()
        .output_name("convergence")
        .build();
    options.site_addr = listener.local_addr().unwrap();
    let state = server::startup::build_state(
        t.db.clone(),
        options,
        Settings {
            public_url: addr.clone(),
            secret_key: TEST_SECRET.into(),
            metrics_token: None,
        },
    );
    let router = server::http::router(state.clone(), Registry::standard(TEST_SECRET));
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    TestApp {
        addr,
        state,
        _db: t,
    }
}

/// A provider that records nothing and counts its calls.
pub struct Counting(pub AtomicUsize);

impl Counting {
    pub fn calls(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Sender for Counting {
    async fn send(
        &self,
        _a: &channel_accounts::AccountRow,
        m: &Outbound,
    ) -> Result<Sent, SendError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Sent {
            provider_message_id: format!("counted-{}", m.message_id),
            state: DeliveryState::Sent,
            rfc_message_id: None,
        })
    }
}

/// Every adapter, with the playground accounts' sender replaced by a counter.
pub fn counting_registry() -> (Registry, Arc<Counting>) {
    let c = Arc::new(Counting(AtomicUsize::new(0)));
    let mut reg = Registry::standard(TEST_SECRET);
    reg.add(
        app::domain::providers::PLAYGROUND,
        Arc::new(Playground),
        c.clone(),
    );
    (reg, c)
}

/// A demo customer: conversation, customer and identifiers by kind.
pub struct Customer {
    pub conversation: i64,
    pub customer: i64,
    /// (identifier id, kind, value)
    pub identifiers: Vec<(i64, String, String)>,
}

impl Customer {
    pub fn id_of(&self, kind: &str) -> i64 {
        self.identifiers
            .iter()
            .find(|(_, k, _)| k == kind)
            .unwrap_or_else(|| panic!("no {kind} identifier"))
            .0
    }
}

pub async fn customer(db: &Db, name: &str) -> Customer {
    let rows = sqlx::query(
        "SELECT cv.id AS conversation, c.id AS customer, i.id, i.kind, i.value FROM customers c \
         JOIN conversations cv ON cv.customer_id = c.id JOIN identifiers i ON i.customer_id = c.id \
         WHERE c.name = $1 ORDER BY i.id",
    )
    .bind(name)
    .fetch_all(&db.read)
    .await
    .unwrap();
    assert!(!rows.is_empty(), "demo customer {name}");
    Customer {
        conversation: rows[0].try_get("conversation").unwrap(),
        customer: rows[0].try_get("customer").unwrap(),
        identifiers: rows
            .iter()
            .map(|r| {
                (
                    r.try_get("id").unwrap(),
                    r.try_get("kind").unwrap(),
                    r.try_get("value").unwrap(),
                )
            })
            .collect(),
    }
}

/// One stored consent change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub granted: bool,
    pub source: String,
    pub detail: Option<String>,
    pub actor: Option<i64>,
    pub at: i64,
}

/// Every change of `identifier` for `purpose`, oldest first.
pub async fn changes(db: &Db, identifier: i64, purpose: Purpose) -> Vec<Change> {
    sqlx::query(
        "SELECT granted, source, detail, actor_user_id, created_at FROM consent_events \
         WHERE identifier_id = $1 AND purpose = $2 ORDER BY id",
    )
    .bind(identifier)
    .bind(purpose.as_str())
    .fetch_all(&db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| Change {
        granted: r.try_get::<i64, _>("granted").unwrap() != 0,
        source: r.try_get("source").unwrap(),
        detail: r.try_get("detail").unwrap(),
        actor: r.try_get("actor_user_id").unwrap(),
        at: r.try_get("created_at").unwrap(),
    })
    .collect()
}

pub async fn count_changes(db: &Db) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM consent_events")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

/// The bodies of the conversation's consent events, oldest first.
pub async fn consent_events(db: &Db, conversation: i64) -> Vec<(Option<i64>, String)> {
    sqlx::query(
        "SELECT actor_user_id, body FROM events WHERE conversation_id = $1 AND kind = 'consent' ORDER BY id",
    )
    .bind(conversation)
    .fetch_all(&db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get("actor_user_id").unwrap(),
            r.try_get::<Option<String>, _>("body").unwrap().unwrap_or_default(),
        )
    })
    .collect()
}

pub async fn user_id(db: &Db, email: &str) -> i64 {
    app::store::users::find_by_email(db, email)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Records a consent change through the server function, as the panel's form does.
pub async fn record(
    app: &TestApp,
    c: &reqwest::Client,
    identifier: i64,
    purpose: &str,
    granted: &str,
    reason: &str,
    all_channels: bool,
) -> (u16, String) {
    let id = identifier.to_string();
    let mut form = vec![
        ("identifier_id", id.as_str()),
        ("purpose", purpose),
        ("granted", granted),
        ("reason", reason),
    ];
    if all_channels {
        form.push(("all_channels", "yes"));
    }
    let r = app.call(c, "/api/customer/consent/record", &form).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}
