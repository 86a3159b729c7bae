//! Demo data: staff logins and a dozen customers whose histories mix channels. Inbound
//! messages go through the same ingest function as real channels; replies are stored as
//! delivered through the playground accounts.

use app::domain::event;
use app::domain::{ChannelKind, Direction, Role};
use app::ports::InboundMessage;
use app::service::ingest;
use app::store::channel_accounts::{self, AccountRow};
use app::store::{conversations, events, now_ms, users, Db, StoreError};
use sqlx::Row;

pub const DEMO_USERS: &[(&str, &str, Role, &str)] = &[
    (
        "admin@convergence.test",
        "Avery Admin",
        Role::Admin,
        "admin-password-1",
    ),
    (
        "support@convergence.test",
        "Sam Support",
        Role::Support,
        "support-password-1",
    ),
    (
        "support2@convergence.test",
        "Alex Agent",
        Role::Support,
        "support-password-2",
    ),
    (
        "marketing@convergence.test",
        "Morgan Marketing",
        Role::Marketing,
        "marketing-password-1",
    ),
];

/// One step of a demo history: (minutes ago, channel, identifier, inbound?, text).
type Step = (i64, ChannelKind, &'static str, bool, &'static str);

struct DemoCustomer {
    name: &'static str,
    steps: &'static [Step],
    status: &'static str,
    assign_to_sam: bool,
}

use ChannelKind::*;

const CUSTOMERS: &[DemoCustomer] = &[
    DemoCustomer {
        name: "Ada Lovelace",
        status: "open",
        assign_to_sam: true,
        steps: &[
            (4320, Email, "ada.lovelace@example.com", true, "Hello, my order #1042 (the brass gear set) has not arrived yet. Could you check where it is?"),
            (4200, Email, "ada.lovelace@example.com", false, "Hi Ada, thanks for writing. The parcel left our warehouse on Monday; I have asked the carrier for an update and will get back to you."),
            (1500, Sms, "+14155550101", true, "Hi, it's Ada (order 1042). I'm travelling, easier to text me here. Any news?"),
            (1490, Sms, "+14155550101", false, "Hi Ada, the carrier says it will be delivered tomorrow before noon."),
            (60, Whatsapp, "+14155550101", true, "It arrived, thank you! One gear is scratched though, can I send a photo here?"),
        ],
    },
    DemoCustomer {
        name: "Grace Hopper",
        status: "open",
        assign_to_sam: false,
        steps: &[
            (2900, Email, "grace@navy.example.org", true, "Your invoice INV-2231 lists two compilers but we ordered one."),
            (2800, Email, "grace@navy.example.org", false, "Sorry about that, Grace. I have voided INV-2231 and sent a corrected invoice."),
            (45, Telegram, "700100200", true, "Got the new invoice, thanks. Can we also switch to yearly billing?"),
        ],
    },
    DemoCustomer {
        name: "Alan Turing",
        status: "open",
        assign_to_sam: true,
        steps: &[
            (700, Messenger, "4471000001", true, "Hi! Do you ship to Manchester?"),
            (690, Messenger, "4471000001", false, "We do: standard delivery takes 2-3 working days."),
            (30, Sms, "+447700900123", true, "Ordered via the website, can you confirm you received it? Turing"),
        ],
    },
    DemoCustomer {
        name: "Katherine Johnson",
        status: "open",
        assign_to_sam: false,
        steps: &[
            (240, Instagram, "17841400000001", true, "Love the new star charts! Are they available in A2?"),
            (20, Email, "k.johnson@example.net", true, "Following up on my Instagram message: I'd like three A2 star charts."),
        ],
    },
    DemoCustomer {
        name: "Margaret Hamilton",
        status: "pending",
        assign_to_sam: true,
        steps: &[
            (3000, Whatsapp, "+16175550199", true, "The download link for the manual has expired."),
            (2990, Whatsapp, "+16175550199", false, "Here is a fresh link, valid for 7 days. Let us know if it works."),
        ],
    },
    DemoCustomer {
        name: "Dorothy Vaughan",
        status: "open",
        assign_to_sam: false,
        steps: &[(15, Telegram, "700100300", true, "Is there a student discount for the FORTRAN course?")],
    },
    DemoCustomer {
        name: "Claude Shannon",
        status: "open",
        assign_to_sam: false,
        steps: &[
            (5000, Email, "claude@bell.example.com", true, "Please update my address for deliveries."),
            (4900, Email, "claude@bell.example.com", false, "Done. Your new address is saved."),
            (10, Email, "c.shannon@mit.example.edu", true, "Writing from my other address: the juggling kit came with a missing ball."),
        ],
    },
    DemoCustomer {
        name: "Hedy Lamarr",
        status: "open",
        assign_to_sam: false,
        steps: &[
            (600, Instagram, "17841400000002", true, "Do you sell frequency-hopping radio kits?"),
            (8, Sms, "+13105550142", true, "Hedy again, from my phone: still interested in the radio kit."),
        ],
    },
    DemoCustomer {
        name: "Tim Berners-Lee",
        status: "resolved",
        assign_to_sam: false,
        steps: &[
            (9000, Messenger, "4471000002", true, "The link on your About page is broken."),
            (8900, Messenger, "4471000002", false, "Thanks Tim, fixed!"),
        ],
    },
    DemoCustomer {
        name: "Radia Perlman",
        status: "open",
        assign_to_sam: false,
        steps: &[
            (1200, Email, "radia@example.com", true, "Which spanning-tree book edition do you stock?"),
            (5, Sms, "+12025550177", true, "Radia here. Second edition please, if you have it."),
        ],
    },
    DemoCustomer {
        name: "Edsger Dijkstra",
        status: "open",
        assign_to_sam: false,
        steps: &[(3, Sms, "+31205550100", true, "The shortest route to your shop from the station, please?")],
    },
    DemoCustomer {
        name: "Barbara Liskov",
        status: "open",
        assign_to_sam: true,
        steps: &[
            (800, Email, "barbara@example.org", true, "Can I substitute the blue notebook for the red one in my order?"),
            (790, Email, "barbara@example.org", false, "Yes, of course; I've updated your order."),
            (400, Whatsapp, "+16175550111", true, "Thanks! Could you also add a pen?"),
            (1, Telegram, "700100400", true, "Sent you a message on WhatsApp too, whichever is easier :)"),
        ],
    },
];

/// The demo logins that still exist and are enabled, as (role, email, password) for the
/// start-up message (a changed password is not detected: the demo is for trying the app).
pub async fn logins_present(
    db: &Db,
) -> Result<Vec<(&'static str, &'static str, &'static str)>, StoreError> {
    let mut out = Vec::new();
    for (email, _, role, pw) in DEMO_USERS {
        if matches!(users::find_by_email(db, email).await?, Some(u) if !u.disabled) {
            out.push((role.label(), *email, *pw));
        }
    }
    Ok(out)
}

/// Loads the demo data when the database has no users. Returns whether it did.
pub async fn load_if_empty(db: &Db) -> Result<bool, StoreError> {
    if users::count(db).await? > 0 {
        return Ok(false);
    }
    channel_accounts::ensure_playground_accounts(db).await?;
    let mut sam = 0;
    for (email, name, role, pw) in DEMO_USERS {
        let id = users::create_user(db, email, name, *role, pw).await?;
        if *email == "support@convergence.test" {
            sam = id;
        }
    }
    let mut accounts: Vec<(ChannelKind, AccountRow)> = Vec::new();
    for c in ChannelKind::ALL {
        if let Some(a) = channel_accounts::playground_for(db, c).await? {
            accounts.push((c, a));
        }
    }
    let account = |c: ChannelKind| {
        accounts
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, a)| a.clone())
            .ok_or(StoreError::NotFound)
    };
    let now = now_ms();
    for (n, cust) in CUSTOMERS.iter().enumerate() {
        let mut conversation = None;
        let mut customer = None;
        for (i, (ago, channel, ident, inbound, text)) in cust.steps.iter().enumerate() {
            let at = now - ago * 60_000;
            let acc = account(*channel)?;
            if *inbound {
                let r = ingest::ingest_message(
                    db,
                    &acc,
                    None,
                    &InboundMessage {
                        identifier_kind: channel.identifier_kind(),
                        identifier: ident.to_string(),
                        display_name: Some(cust.name.to_string()),
                        provider_message_id: format!("demo-{n}-{i}"),
                        subject: (*channel == Email).then(|| "Re: your order".to_string()),
                        body_text: text.to_string(),
                        body_html: None,
                        received_at: at,
                        thread: Default::default(),
                        automatic: false,
                        meta: None,
                        attachments: Vec::new(),
                        media: Vec::new(),
                    },
                )
                .await?;
                // A customer writing from a new identifier is the same person in the demo:
                // link it to the first customer record (what an agent would do by merging).
                match customer {
                    None => {
                        customer = Some(r.customer_id);
                        conversation = Some(r.conversation_id);
                    }
                    Some(c) if c != r.customer_id => {
                        relink(
                            db,
                            r.customer_id,
                            c,
                            r.conversation_id,
                            conversation.unwrap_or(0),
                        )
                        .await?
                    }
                    _ => {}
                }
            } else {
                let (Some(cid), Some(cust_id)) = (conversation, customer) else {
                    continue;
                };
                reply(db, cid, cust_id, &acc, *channel, ident, sam, text, at).await?;
            }
        }
        if let Some(cid) = conversation {
            let mut tx = db.write.begin().await?;
            sqlx::query("UPDATE conversations SET status = $1, assignee_id = $2 WHERE id = $3")
                .bind(cust.status)
                .bind(cust.assign_to_sam.then_some(sam))
                .bind(cid)
                .execute(&mut *tx)
                .await?;
            if cust.status != "open" {
                events::add(
                    &mut tx,
                    cid,
                    event::STATUS,
                    Some(sam),
                    None,
                    serde_json::json!({ "status": cust.status }),
                )
                .await?;
            }
            if n == 0 {
                events::add(
                    &mut tx,
                    cid,
                    event::NOTE,
                    Some(sam),
                    Some("VIP customer: offer free replacement parts."),
                    serde_json::json!({}),
                )
                .await?;
            }
            // The demo's events (status, note, linking) happened a minute after the last
            // message, not when the demo was loaded.
            let last = cust.steps.iter().map(|s| now - s.0 * 60_000).max();
            sqlx::query(
                "UPDATE events SET created_at = $1 WHERE conversation_id = $2 AND created_at >= $3",
            )
            .bind(last.unwrap_or(now) + 60_000)
            .bind(cid)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
    }
    organise(db, sam).await?;
    campaigns(db).await?;
    // The replies above are written directly with their past times: count them in the reports.
    app::service::reports::rebuild(db).await?;
    Ok(true)
}

/// A draft campaign by the marketing user, so the campaigns page has something to preview
/// and approve: a transactional notice (support consent, which every customer who wrote has
/// unless they opted out), email first, then SMS.
async fn campaigns(db: &Db) -> Result<(), StoreError> {
    use app::domain::campaign::{Definition, EmailContent, Step, Strategy};
    use app::domain::consent::Purpose;
    let Some(morgan) = users::find_by_email(db, "marketing@convergence.test").await? else {
        return Ok(());
    };
    let def = Definition {
        topic: Purpose::Support,
        audience: Default::default(),
        steps: vec![Step {
            email: EmailContent {
                subject: "Our opening hours over the holidays".into(),
                text: "Hello {{customer.first_name}},\n\nWe are closed on 25 and 26 December; orders placed then ship on the 27th.\n\nThe Convergence shop".into(),
                html: String::new(),
            },
            sms: "Hi {{customer.first_name}}, we are closed 25-26 Dec; orders placed then ship on the 27th.".into(),
            ..Step::default()
        }],
        strategy: Strategy {
            channels: vec![ChannelKind::Email, ChannelKind::Sms],
            ..Strategy::default()
        },
    };
    app::service::campaigns::create(db, morgan.id, "Holiday opening hours", &def).await?;
    Ok(())
}

/// Labels on a few conversations and a shared saved view, so the list shows what they do.
async fn organise(db: &Db, sam: i64) -> Result<(), StoreError> {
    use app::service::{labels, views};
    let vip = labels::create(db, "VIP", "purple").await?;
    let billing = labels::create(db, "Billing", "teal").await?;
    labels::create(db, "Waiting on carrier", "orange").await?;
    for (customer, label) in [("Ada Lovelace", vip.id), ("Grace Hopper", billing.id)] {
        let conv: Option<i64> = sqlx::query_scalar(
            "SELECT c.id FROM conversations c JOIN customers cu ON cu.id = c.customer_id \
             WHERE cu.name = $1 ORDER BY c.id LIMIT 1",
        )
        .bind(customer)
        .fetch_optional(&db.read)
        .await?;
        if let Some(conv) = conv {
            labels::set(db, conv, label, true, sam).await?;
        }
    }
    let admin: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")
            .fetch_optional(&db.read)
            .await?;
    if let Some(admin) = admin {
        let who = app::service::canned::Editor {
            user_id: admin,
            admin: true,
        };
        for (shortcut, title, body) in [
            (
                "thanks",
                "Thanks for writing",
                "Hi {{customer.first_name}}, thanks for getting in touch. I'm looking into it now and will get back to you shortly.\n{{agent.first_name}}",
            ),
            (
                "shipping",
                "Shipping times",
                "Hi {{customer.first_name}}, orders leave our warehouse within one business day and usually arrive in 2 to 3 days.",
            ),
            (
                "later",
                "Follow up by this channel",
                "We'll write to you at {{customer.identifier}} as soon as we know more.",
            ),
        ] {
            app::service::canned::save(db, who, None, true, shortcut, title, body).await?;
        }
        views::save(
            db,
            (admin, app::domain::Role::Admin),
            "Open, nobody on it",
            "status:open assignee:none",
            true,
        )
        .await?;
    }
    Ok(())
}

/// Moves everything of customer `from` (created by a new identifier) onto customer `to`.
async fn relink(
    db: &Db,
    from: i64,
    to: i64,
    from_conv: i64,
    to_conv: i64,
) -> Result<(), StoreError> {
    let mut tx = db.write.begin().await?;
    sqlx::query("UPDATE identifiers SET customer_id = $1 WHERE customer_id = $2")
        .bind(to)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE messages SET customer_id = $1, conversation_id = $2 WHERE customer_id = $3",
    )
    .bind(to)
    .bind(to_conv)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM conversations WHERE id = $1")
        .bind(from_conv)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM customers WHERE id = $1")
        .bind(from)
        .execute(&mut *tx)
        .await?;
    conversations::recompute_summary(&mut tx, to_conv).await?;
    tx.commit().await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn reply(
    db: &Db,
    conversation_id: i64,
    customer_id: i64,
    acc: &AccountRow,
    channel: ChannelKind,
    ident: &str,
    author: i64,
    text: &str,
    at: i64,
) -> Result<(), StoreError> {
    let value = channel
        .identifier_kind()
        .normalize(ident)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut tx = db.write.begin().await?;
    let ident_id: i64 = sqlx::query("SELECT id FROM identifiers WHERE kind = $1 AND value = $2")
        .bind(channel.identifier_kind().as_str())
        .bind(value)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
    sqlx::query(
        "INSERT INTO messages (conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, author_user_id, \
           body_text, provider_message_id, delivery_state, created_at, sent_at, delivered_at, updated_at) \
         VALUES ($1, $2, 'out', $3, $4, $5, $6, $7, $8, 'delivered', $9, $9, $9, $9)",
    )
    .bind(conversation_id)
    .bind(customer_id)
    .bind(channel.as_str())
    .bind(acc.id)
    .bind(ident_id)
    .bind(author)
    .bind(text)
    .bind(format!("demo-out-{conversation_id}-{at}"))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    conversations::touch_for_message(
        &mut tx,
        conversation_id,
        channel,
        Direction::Out,
        text,
        at,
        conversations::Writer {
            author: Some(author),
            identifier: Some(ident_id),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
