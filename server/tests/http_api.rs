//! The real router on a random port: authorization of every role against every protected
//! endpoint, CSRF origin checks, sessions, health, and the live path from the playground to
//! the browser's event stream.

use crate::support::{spawn_app, Engine, TestApp};
use app::domain::{Permission, Role};
use app::service;
use std::time::Duration;

mod campaigns;
mod organise;
mod sessions;

const ADMIN: (&str, &str) = ("admin@convergence.test", "admin-password-1");
const SUPPORT: (&str, &str) = ("support@convergence.test", "support-password-1");
const MARKETING: (&str, &str) = ("marketing@convergence.test", "marketing-password-1");

/// Every protected server function, with arguments that are valid for the demo data, and the
/// permission it needs.
async fn endpoints(app: &TestApp) -> Vec<(&'static str, Vec<(&'static str, String)>, Permission)> {
    let conv = first_conversation(app).await.to_string();
    let d = service::conversations::detail(&app.state.db, conv.parse().unwrap())
        .await
        .unwrap();
    let via = d.reply_options[0].key();
    // Somewhere else the conversation can move to (the second mover finds it moved: no-op).
    let move_to = d
        .reply_options
        .iter()
        .find(|o| o.unavailable.is_none() && Some(o.key()) != d.default_reply)
        .expect("a second ready channel for the demo conversation")
        .key();
    // A failed inbound payload for the retry endpoint (the admin, first in the loop, retries it).
    let failed = match app::store::raw_inbound::store(
        &app.state.db,
        d.reply_options[0].account_id,
        "matrix-failed",
        "application/json",
        b"{",
    )
    .await
    .unwrap()
    {
        app::store::raw_inbound::Stored::New(id) => id,
        other => panic!("{other:?}"),
    };
    app::store::raw_inbound::mark_error(&app.state.db, failed, "bad payload", true)
        .await
        .unwrap();
    let mailbox = service::channel_accounts::save_email(
        &app.state.db,
        None,
        "Matrix mailbox",
        "matrix@example.com",
        &app::domain::email_account::EmailSettings {
            imap_host: "127.0.0.1".into(),
            imap_port: 1,
            imap_tls: app::domain::email_account::TlsMode::None,
            imap_user: "matrix".into(),
            imap_folder: "INBOX".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 1,
            smtp_tls: app::domain::email_account::TlsMode::None,
            ..Default::default()
        },
        &app::domain::email_account::EmailSecrets {
            imap_password: "matrix-imap-pw".into(),
            smtp_password: String::new(),
        },
    )
    .await
    .unwrap()
    .to_string();
    // An outgoing message of the demo data, for the delivery actions (a no-op when it is not
    // failed: answered `false`, not refused).
    let outgoing: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM messages WHERE direction = 'out' ORDER BY id LIMIT 1")
            .fetch_one(&app.state.db.read)
            .await
            .unwrap()
            .get("id")
    };
    let mut eps = vec![
        (
            "/api/message/retry",
            vec![("id", outgoing.to_string())],
            Permission::Reply,
        ),
        (
            "/api/message/cancel",
            vec![("id", outgoing.to_string())],
            Permission::Reply,
        ),
        (
            "/api/admin/channels/retry-failed",
            vec![("id", d.reply_options[0].account_id.to_string())],
            Permission::ManageChannels,
        ),
        (
            "/api/conversations/list",
            vec![
                ("status", "open".into()),
                ("assignee", "all".into()),
                ("channel", "".into()),
            ],
            Permission::ReadConversations,
        ),
        (
            "/api/conversation",
            vec![("id", conv.clone())],
            Permission::ReadConversations,
        ),
        (
            "/api/conversation/timeline",
            vec![("id", conv.clone())],
            Permission::ReadConversations,
        ),
        (
            "/api/conversation/read",
            vec![("id", conv.clone())],
            Permission::ReadConversations,
        ),
        (
            "/api/conversation/status",
            vec![("id", conv.clone()), ("status", "pending".into())],
            Permission::ManageConversations,
        ),
        (
            "/api/conversation/assign",
            vec![("id", conv.clone()), ("assignee", "".into())],
            Permission::ManageConversations,
        ),
        (
            "/api/conversation/note",
            vec![("id", conv.clone()), ("body", "a note".into())],
            Permission::WriteNotes,
        ),
        (
            "/api/customer/identifier/confirm",
            vec![("id", d.customer.identifiers[0].id.to_string())],
            Permission::ManageConversations,
        ),
        (
            "/api/conversation/reply",
            vec![("id", conv.clone()), ("via", via), ("body", "hello".into())],
            Permission::Reply,
        ),
        (
            "/api/conversation/move",
            vec![("id", conv.clone()), ("to", move_to)],
            Permission::Reply,
        ),
        (
            "/api/playground/send",
            vec![
                ("channel", "sms".into()),
                ("identifier", "+14155550177".into()),
                ("name", "P".into()),
                ("body", "hi".into()),
            ],
            Permission::UsePlayground,
        ),
        (
            "/api/playground/thread",
            vec![
                ("channel", "sms".into()),
                ("identifier", "+14155550177".into()),
            ],
            Permission::UsePlayground,
        ),
        ("/api/admin/users", vec![], Permission::ManageUsers),
        (
            "/api/admin/users/create",
            vec![
                ("email", "new@convergence.test".into()),
                ("name", "New".into()),
                ("role", "support".into()),
                ("password", "a-long-password".into()),
            ],
            Permission::ManageUsers,
        ),
        ("/api/admin/channels", vec![], Permission::ManageChannels),
        (
            "/api/admin/channels",
            vec![("edit", mailbox.clone())],
            Permission::ManageChannels,
        ),
        (
            "/api/admin/channels/email/save",
            email_form(Some(&mailbox)),
            Permission::ManageChannels,
        ),
        (
            "/api/admin/channels/test",
            email_form(None),
            Permission::ManageChannels,
        ),
        (
            "/api/admin/channels/enable",
            vec![("id", mailbox.clone()), ("enabled", "false".into())],
            Permission::ManageChannels,
        ),
        (
            "/api/admin/channels/provider/save",
            twilio_form(),
            Permission::ManageChannels,
        ),
        (
            "/api/admin/channels/provider/test",
            twilio_form(),
            Permission::ManageChannels,
        ),
        ("/api/admin/failed", vec![], Permission::ManageChannels),
        (
            "/api/admin/failed/retry",
            vec![("id", failed.to_string())],
            Permission::ManageChannels,
        ),
        (
            "/api/customer/consent",
            vec![("customer_id", d.customer.id.to_string())],
            Permission::ReadConversations,
        ),
        (
            "/api/customer/consent/record",
            vec![
                ("identifier_id", d.customer.identifiers[0].id.to_string()),
                ("purpose", "marketing".into()),
                ("granted", "no".into()),
                ("reason", "matrix".into()),
            ],
            Permission::ManageConsent,
        ),
    ];
    eps.extend(identity_endpoints(app).await);
    eps.extend(organise::endpoints(app, &conv).await);
    eps.extend(campaigns::endpoints(app).await);
    let report = |tab: &str| {
        vec![
            ("query[tab]", tab.to_string()),
            ("query[range]", "30".to_string()),
        ]
    };
    eps.extend([
        ("/api/reports", report("overview"), Permission::ViewReports),
        (
            "/api/reports",
            report("cross"),
            Permission::ViewMarketingReports,
        ),
        (
            "/api/reports/episodes",
            [
                report("overview"),
                vec![("drill[metric]", "resolved".into())],
            ]
            .concat(),
            Permission::ViewReports,
        ),
        (
            "/api/reports/episodes",
            [
                report("overview"),
                vec![("drill[metric]", "switched".into())],
            ]
            .concat(),
            Permission::ViewMarketingReports,
        ),
        (
            "/api/reports/settings",
            vec![],
            Permission::ManageReportSettings,
        ),
        (
            "/api/reports/settings/save",
            vec![
                ("time_zone", "UTC".into()),
                ("inactivity_days", "7".into()),
                ("business_hours", "Mon-Fri 09:00-17:00".into()),
            ],
            Permission::ManageReportSettings,
        ),
    ]);
    eps
}

/// Customer identity (issue 5). Each call is repeatable, so every allowed role succeeds with
/// the same arguments: adding what the customer has confirms it, removing what is gone changes
/// nothing, and each role's merge is followed by its own undo.
async fn identity_endpoints(
    app: &TestApp,
) -> Vec<(&'static str, Vec<(&'static str, String)>, Permission)> {
    use app::domain::IdentifierKind;
    use app::service::identifiers::{self, Saved};
    use sqlx::Row;
    let db = &app.state.db;
    let mut ids = Vec::new();
    for name in ["Grace Hopper", "Alan Turing"] {
        ids.push(
            sqlx::query("SELECT id FROM customers WHERE name = $1")
                .bind(name)
                .fetch_one(&db.read)
                .await
                .unwrap()
                .get::<i64, _>("id"),
        );
    }
    let (grace, alan) = (ids[0], ids[1]);
    let admin = app::store::users::find_by_email(db, "admin@convergence.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    let spare = match identifiers::add(
        db,
        grace,
        IdentifierKind::Email,
        "spare@example.com",
        "US",
        admin,
    )
    .await
    .unwrap()
    {
        Saved::Stored { identifier_id } => identifier_id,
        other => panic!("{other:?}"),
    };
    let grace_email = service::customers::customer_view(db, grace)
        .await
        .unwrap()
        .identifiers
        .into_iter()
        .find(|i| i.value == "grace@navy.example.org")
        .unwrap()
        .id;
    let (g, a) = (grace.to_string(), alan.to_string());
    let m = Permission::ManageConversations;
    vec![
        (
            "/api/customer/identifier/add",
            vec![
                ("customer", g.clone()),
                ("kind", "email".into()),
                ("value", "matrix.grace@example.com".into()),
            ],
            m,
        ),
        (
            "/api/customer/identifier/edit",
            vec![
                ("customer", g.clone()),
                ("id", grace_email.to_string()),
                ("value", "Grace@Navy.Example.org".into()),
            ],
            m,
        ),
        (
            "/api/customer/identifier/remove",
            vec![("customer", g.clone()), ("id", spare.to_string())],
            m,
        ),
        (
            "/api/customer/preferred-channel",
            vec![("customer", g.clone()), ("channel", "email".into())],
            m,
        ),
        (
            "/api/customer/merge",
            vec![("customer", g.clone()), ("other", a.clone())],
            m,
        ),
        ("/api/customer/unmerge", vec![("customer", a.clone())], m),
        (
            "/api/customer/suggestion/dismiss",
            vec![("customer", g), ("other", a)],
            m,
        ),
    ]
}

/// A Twilio account form; its API (127.0.0.1 port 1) refuses at once.
fn twilio_form() -> Vec<(&'static str, String)> {
    [
        ("provider", "twilio"),
        ("name", "Matrix SMS"),
        ("phone_number", "+15550100777"),
        ("account_sid", "AC00000000000000000000000000000777"),
        ("auth_token", "matrix-auth-token"),
        ("api_base", "http://127.0.0.1:1"),
        ("default_region", "US"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// An email account form; its servers (127.0.0.1 port 1) refuse at once.
fn email_form(id: Option<&str>) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = [
        ("name", "Matrix mailbox"),
        ("address", "matrix@example.com"),
        ("from_name", "Matrix"),
        ("imap_host", "127.0.0.1"),
        ("imap_port", "1"),
        ("imap_tls", "none"),
        ("imap_user", "matrix"),
        ("imap_password", "matrix-imap-pw"),
        ("imap_folder", "INBOX"),
        ("import", "all"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", "1"),
        ("smtp_tls", "none"),
        ("smtp_user", "matrix"),
        ("smtp_password", "matrix-smtp-pw"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    if let Some(id) = id {
        f.push(("id", id.to_string()));
    }
    f
}

async fn first_conversation(app: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT c.id FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE cu.name = 'Ada Lovelace'")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
        .try_get("id")
        .unwrap()
}

fn form<'a>(args: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    args.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn every_role_against_every_endpoint(engine: Engine) {
    let app = spawn_app(engine).await;
    let eps = endpoints(&app).await;
    let anon = app.client();
    for (path, args, _) in &eps {
        let r = app.call(&anon, path, &form(args)).await;
        assert_eq!(r.status(), 401, "anonymous {path}");
    }
    for (role, (email, pw)) in [
        (Role::Admin, ADMIN),
        (Role::Support, SUPPORT),
        (Role::Marketing, MARKETING),
    ] {
        let c = app.login(email, pw).await;
        for (path, args, perm) in &eps {
            let r = app.call(&c, path, &form(args)).await;
            let status = r.status();
            let body = r.text().await.unwrap();
            if role.allows(*perm) {
                assert!(
                    status.is_success(),
                    "{role:?} {path} should be allowed, got {status}: {body}"
                );
            } else {
                assert_eq!(status, 403, "{role:?} {path} should be forbidden: {body}");
                assert!(body.contains("permission"), "{body}");
            }
        }
        // Pages: the admin page answers 403 to non-admins; the event stream needs reading rights.
        let page = c
            .get(app.url("/admin"))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(
            page.status(),
            if role == Role::Admin { 200 } else { 403 },
            "{role:?} /admin"
        );
        // The playground page as its server functions: 403 without the permission.
        let page = c
            .get(app.url("/playground"))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        let status = page.status();
        let html = page.text().await.unwrap();
        if role.allows(Permission::UsePlayground) {
            assert_eq!(status, 200, "{role:?} /playground");
            assert!(
                html.contains("Send as customer") || html.contains("playground"),
                "{role:?}"
            );
        } else {
            assert_eq!(status, 403, "{role:?} /playground");
            assert!(
                html.contains("You do not have access to this page."),
                "{html}"
            );
        }
        let ev = c.get(app.url("/api/events")).send().await.unwrap();
        assert_eq!(ev.status(), 200, "{role:?} /api/events");
        // Report pages and CSV exports: the support tab for everyone, cross-channel for
        // marketing and admins.
        for (path, perm) in [
            ("/reports", Permission::ViewReports),
            ("/reports?tab=cross", Permission::ViewMarketingReports),
            ("/reports?tab=reach", Permission::ViewMarketingReports),
            (
                "/reports/export.csv?tab=reach&section=consent",
                Permission::ViewMarketingReports,
            ),
            (
                "/reports/export.csv?tab=overview&section=volume",
                Permission::ViewReports,
            ),
            (
                "/reports/export.csv?tab=cross&section=matrix",
                Permission::ViewMarketingReports,
            ),
            (
                "/reports/episodes.csv?metric=resolved",
                Permission::ViewReports,
            ),
            (
                "/reports/episodes.csv?metric=repeated",
                Permission::ViewMarketingReports,
            ),
            ("/reports/settings", Permission::ManageReportSettings),
        ] {
            let r = c
                .get(app.url(path))
                .header("Accept", "text/html")
                .send()
                .await
                .unwrap_or_else(|e| panic!("{role:?} {path}: {e}"));
            let status = r.status();
            let body = r
                .text()
                .await
                .unwrap_or_else(|e| panic!("{role:?} {path}: the body: {e:?}"));
            if role.allows(perm) {
                assert_eq!(status, 200, "{role:?} {path}: {body}");
                assert!(!body.contains("class=\"error\""), "{role:?} {path}: {body}");
            } else if path.ends_with("tab=cross") || path.ends_with("tab=reach") {
                // The page renders and says why in words.
                assert!(
                    body.contains("marketing") || body.contains("permission"),
                    "{body}"
                );
            } else {
                assert_eq!(status, 403, "{role:?} {path}: {body}");
            }
        }
    }
    assert_eq!(
        anon.get(app.url("/api/events"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    for path in [
        "/reports/export.csv?section=volume",
        "/reports/episodes.csv",
    ] {
        let r = anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "anonymous {path}");
    }
    let r = anon
        .get(app.url("/inbox"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection(),
        "anonymous /inbox redirects to sign in: {}",
        r.status()
    );
    assert_eq!(r.headers()["location"], "/login");
}

/// Playground message → raw store → ingest worker → live event on an agent's stream, then a
/// reply → outbox worker → delivered, also live.
async fn playground_message_reaches_agents_live_and_reply_is_delivered(engine: Engine) {
    let app = spawn_app(engine).await;
    let player = app.login(SUPPORT.0, SUPPORT.1).await;
    let watcher = app
        .login("support2@convergence.test", "support-password-2")
        .await;
    let mut stream = watcher.get(app.url("/api/events")).send().await.unwrap();
    let started = std::time::Instant::now();
    let r = app
        .call(
            &player,
            "/api/playground/send",
            &[
                ("channel", "sms"),
                ("identifier", "+1 415 555 0188"),
                ("name", "Live Person"),
                ("body", "is anyone there?"),
            ],
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let mut got = String::new();
    let event = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            got.push_str(&String::from_utf8_lossy(&chunk));
            if got.contains("\"message\"") {
                return;
            }
        }
    })
    .await;
    assert!(event.is_ok(), "no live event within a second: {got:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    let conv: app::model::LiveEvent = serde_json::from_str(
        got.lines()
            .find(|l| l.starts_with("data:"))
            .unwrap()
            .trim_start_matches("data:")
            .trim(),
    )
    .unwrap();
    let cid = conv.conversation_id.unwrap();
    let d = service::conversations::detail(&app.state.db, cid)
        .await
        .unwrap();
    assert_eq!(d.customer.name, "Live Person");
    assert_eq!(d.customer.identifiers[0].value, "+14155550188");
    let via = d.default_reply.clone().unwrap();
    let r = app
        .call(
            &watcher,
            "/api/conversation/reply",
            &[
                ("id", &cid.to_string()),
                ("via", &via),
                ("body", "Yes, how can I help?"),
            ],
        )
        .await;
    assert!(r.status().is_success());
    let delivered = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            let thread = app
                .call(
                    &player,
                    "/api/playground/thread",
                    &[("channel", "sms"), ("identifier", "+14155550188")],
                )
                .await;
            let msgs: Vec<app::model::PlaygroundMessage> = thread.json().await.unwrap();
            if let Some(m) = msgs
                .iter()
                .find(|m| m.direction == app::domain::Direction::Out)
            {
                if m.delivery_state == app::domain::DeliveryState::Delivered {
                    assert_eq!(m.body_text, "Yes, how can I help?");
                    return msgs.len();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(delivered.expect("reply delivered to the playground"), 2);
}

both_engines!(
    every_role_against_every_endpoint,
    playground_message_reaches_agents_live_and_reply_is_delivered
);
