//! The campaign tests' world: a fake SMS provider, an email account, two marketing users,
//! customers writing in, and helpers to launch a campaign and run its workers.

use app::domain::campaign::{Definition, EmailContent, Step, Strategy};
use app::domain::consent::{source, Purpose};
use app::domain::{ChannelKind, DeliveryState, IdentifierKind, Role};
use app::ports::{InboundMessage, Outbound};
use app::service::campaigns as svc;
use app::service::ingest::ingest_message;
use app::service::search::Searcher;
use app::ssr::live::Hub;
use app::store::channel_accounts::{self, AccountRow};
use app::store::{consent, now_ms, users, Db};
use async_trait::async_trait;
use server::channels::{playground::Playground, Registry, SendError, Sender, Sent};
use server::workers;
use sqlx::Row;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// An SMS provider that refuses the numbers in `fail` and records every send.
#[derive(Default)]
pub struct FakeSms {
    pub fail: Mutex<HashSet<String>>,
    pub sent: Mutex<Vec<String>>,
}

#[async_trait]
impl Sender for FakeSms {
    async fn send(&self, _a: &AccountRow, m: &Outbound) -> Result<Sent, SendError> {
        self.sent.lock().unwrap().push(m.to.clone());
        if self.fail.lock().unwrap().contains(&m.to) {
            return Err(SendError::Permanent(
                "30006: landline or unreachable carrier".into(),
            ));
        }
        Ok(Sent {
            provider_message_id: format!("SM{}", m.message_id),
            state: DeliveryState::Delivered,
            rfc_message_id: None,
        })
    }
}

pub struct World {
    pub db: Db,
    pub hub: Hub,
    pub registry: Registry,
    pub sms: Arc<FakeSms>,
    pub sms_account: AccountRow,
    pub email_account: AccountRow,
    pub author: i64,
    pub approver: i64,
    /// Preference center links, as the campaign worker makes them.
    pub links: Box<dyn Fn(i64, i64) -> String + Send + Sync>,
}

impl World {
    pub async fn new(db: Db) -> World {
        channel_accounts::ensure_playground_accounts(&db)
            .await
            .unwrap();
        let email_account = channel_accounts::playground_for(&db, ChannelKind::Email)
            .await
            .unwrap()
            .unwrap();
        let acc = channel_accounts::create(
            &db,
            ChannelKind::Sms,
            "fakesms",
            "SMS line",
            "+15550100001",
            &serde_json::json!({}),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
        let sms_account = channel_accounts::get(&db, acc).await.unwrap();
        let sms = Arc::new(FakeSms::default());
        let mut registry = Registry::standard(crate::support::TEST_SECRET);
        registry.add("fakesms", Arc::new(Playground), sms.clone());
        let author = users::create_user(
            &db,
            "m1@example.com",
            "Mia Marketing",
            Role::Marketing,
            "password-123",
        )
        .await
        .unwrap();
        let approver = users::create_user(
            &db,
            "m2@example.com",
            "Max Marketing",
            Role::Marketing,
            "password-123",
        )
        .await
        .unwrap();
        World {
            hub: Hub::new(&db),
            db,
            registry,
            links: Box::new(|i, c| {
                app::ssr::pref_token::link(
                    "http://127.0.0.1:3000",
                    crate::support::TEST_SECRET.as_bytes(),
                    i,
                    c,
                    now_ms(),
                )
            }),
            sms,
            sms_account,
            email_account,
            author,
            approver,
        }
    }

    pub fn who(&self, user: i64) -> Searcher<'static> {
        Searcher {
            user_id: user,
            zone: "UTC",
            region: "US",
        }
    }

    /// A customer writing from `phone` (by SMS) and/or `email`; returns (customer, ids).
    pub async fn customer(
        &self,
        name: &str,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> (i64, Vec<i64>) {
        let mut customer = None;
        let mut ids = Vec::new();
        for (account, kind, value) in [
            (&self.sms_account, IdentifierKind::Phone, phone),
            (&self.email_account, IdentifierKind::Email, email),
        ] {
            let Some(value) = value else { continue };
            let r = self
                .inbound(account, kind, value, name, "Hello there")
                .await;
            if let Some(c) = customer {
                if c != r.customer_id {
                    // Join the second identifier to the first customer.
                    let mut tx = self.db.write.begin().await.unwrap();
                    sqlx::query("UPDATE identifiers SET customer_id = $1 WHERE id = $2")
                        .bind(c)
                        .bind(r.identifier_id)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query("UPDATE customers SET merged_into_id = $1 WHERE id = $2")
                        .bind(c)
                        .bind(r.customer_id)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            }
            customer.get_or_insert(r.customer_id);
            ids.push(r.identifier_id);
        }
        (customer.unwrap(), ids)
    }

    pub async fn inbound(
        &self,
        account: &AccountRow,
        kind: IdentifierKind,
        from: &str,
        name: &str,
        text: &str,
    ) -> app::service::ingest::Ingested {
        ingest_message(
            &self.db,
            account,
            None,
            &InboundMessage {
                identifier_kind: kind,
                identifier: from.into(),
                display_name: Some(name.into()),
                provider_message_id: format!("in-{from}-{}", uuid_ish()),
                subject: None,
                body_text: text.into(),
                body_html: None,
                received_at: now_ms(),
                thread: Default::default(),
                automatic: false,
                meta: None,
                attachments: Vec::new(),
                media: Vec::new(),
            },
        )
        .await
        .unwrap()
    }

    pub async fn consent(&self, identifier: i64, granted: bool) {
        let mut tx = self.db.write.begin().await.unwrap();
        consent::record(
            &mut tx,
            identifier,
            Purpose::Marketing,
            granted,
            source::IMPORT,
            Some("test"),
            None,
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    /// Drafts, approves and starts `def`; returns the campaign.
    pub async fn launch(&self, def: &Definition) -> i64 {
        let id = svc::create(&self.db, self.author, "Spring sale", def)
            .await
            .unwrap();
        svc::approve(&self.db, &self.who(self.approver), id)
            .await
            .unwrap();
        svc::start(&self.db, &self.who(self.author), id, None)
            .await
            .unwrap();
        id
    }

    /// Runs the campaign worker and the outbox until nothing moves.
    pub async fn settle(&self) {
        for _ in 0..20 {
            let t = svc::tick(&self.db, "US", Some(&*self.links), now_ms(), 10)
                .await
                .unwrap();
            let n = workers::outbox::deliver_due(&self.db, &self.hub, &self.registry)
                .await
                .unwrap();
            if t.is_idle() && n == 0 {
                return;
            }
        }
        panic!("the campaign did not settle");
    }

    pub async fn recipients(
        &self,
        campaign: i64,
    ) -> Vec<(i64, i64, String, Option<String>, String)> {
        sqlx::query("SELECT step, customer_id, state, channel, tried FROM campaign_recipients WHERE campaign_id = $1 ORDER BY step, customer_id")
            .bind(campaign)
            .fetch_all(&self.db.read)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("step"), r.get("customer_id"), r.get("state"), r.get("channel"), r.get("tried")))
            .collect()
    }

    pub async fn state_of(
        &self,
        campaign: i64,
        step: i64,
        customer: i64,
    ) -> (String, Option<String>, String) {
        let r = self.recipients(campaign).await;
        let (_, _, s, c, t) = r
            .into_iter()
            .find(|(st, cu, ..)| *st == step && *cu == customer)
            .unwrap_or_else(|| panic!("no recipient for customer {customer} at step {step}"));
        (s, c, t)
    }
}

pub fn uuid_ish() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    (now_ms() as u128) << 20 | N.fetch_add(1, Ordering::Relaxed) as u128
}

pub fn definition() -> Definition {
    let step = |text: &str| Step {
        email: EmailContent {
            subject: "Our spring sale".into(),
            text: format!("Hello {{{{customer.first_name}}}}, {text}"),
            html: String::new(),
        },
        sms: format!("Hi {{{{customer.first_name}}}}, {text} Reply STOP to opt out."),
        ..Step::default()
    };
    Definition {
        topic: Purpose::Marketing,
        audience: Default::default(),
        steps: vec![
            step("20% off this week."),
            Step {
                wait_hours: 24,
                ..step("last day of the sale.")
            },
        ],
        strategy: Strategy {
            preferred_first: true,
            ..Strategy::at_once(vec![ChannelKind::Sms, ChannelKind::Email])
        },
    }
}
