//! The identity endpoints over HTTP, as the panel uses them: who may call them, the 409 that
//! names the other customer, merge and undo through the real router, and the panel's page.

use crate::support::{spawn_app, Engine, TestApp};
use app::model::{ConversationDetail, ConversationPage};
use sqlx::Row;

const SUPPORT: (&str, &str) = ("support@convergence.test", "support-password-1");
const MARKETING: (&str, &str) = ("marketing@convergence.test", "marketing-password-1");

/// (customer, conversation) of a demo customer.
async fn demo(app: &TestApp, name: &str) -> (i64, i64) {
    let r = sqlx::query(
        "SELECT cu.id, c.id AS conversation_id FROM customers cu JOIN conversations c ON c.customer_id = cu.id WHERE cu.name = $1",
    )
    .bind(name)
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    (r.get("id"), r.get("conversation_id"))
}

async fn detail(app: &TestApp, c: &reqwest::Client, conversation: i64) -> ConversationDetail {
    let r = app
        .call(c, "/api/conversation", &[("id", &conversation.to_string())])
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn listed(app: &TestApp, c: &reqwest::Client, conversation: i64) -> bool {
    for status in ["open", "pending", "snoozed", "resolved"] {
        let r = app
            .call(
                c,
                "/api/conversations/list",
                &[("status", status), ("assignee", "all"), ("channel", "")],
            )
            .await;
        let page: ConversationPage = r.json().await.unwrap();
        if page.items.iter().any(|s| s.id == conversation) {
            return true;
        }
    }
    false
}

async fn the_panel_adds_merges_and_undoes_over_http(engine: Engine) {
    let app = spawn_app(engine).await;
    let support = app.login(SUPPORT.0, SUPPORT.1).await;
    let marketing = app.login(MARKETING.0, MARKETING.1).await;
    let (ada, ada_conv) = demo(&app, "Ada Lovelace").await;
    let (grace, grace_conv) = demo(&app, "Grace Hopper").await;
    let (g, a) = (grace.to_string(), ada.to_string());

    // Ada's number, typed the national way on Grace: 409, naming Ada.
    let r = app
        .call(
            &support,
            "/api/customer/identifier/add",
            &[
                ("customer", &g),
                ("kind", "phone"),
                ("value", "(415) 555-0101"),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("+14155550101 already belongs to Ada Lovelace"),
        "{body}"
    );
    assert!(
        body.contains("Merge Ada Lovelace into this customer"),
        "{body}"
    );
    let d = detail(&app, &support, grace_conv).await;
    assert!(
        d.customer.suggestions.iter().any(|s| s.customer.id == ada),
        "{:?}",
        d.customer.suggestions
    );

    // Marketing reads the panel but changes nothing.
    for (path, args) in [
        (
            "/api/customer/identifier/add",
            vec![
                ("customer", g.as_str()),
                ("kind", "email"),
                ("value", "m@example.com"),
            ],
        ),
        (
            "/api/customer/identifier/edit",
            vec![
                ("customer", g.as_str()),
                ("id", "1"),
                ("value", "m@example.com"),
            ],
        ),
        (
            "/api/customer/identifier/remove",
            vec![("customer", g.as_str()), ("id", "1")],
        ),
        (
            "/api/customer/preferred-channel",
            vec![("customer", g.as_str()), ("channel", "email")],
        ),
        (
            "/api/customer/merge",
            vec![("customer", g.as_str()), ("other", a.as_str())],
        ),
        ("/api/customer/unmerge", vec![("customer", a.as_str())]),
        (
            "/api/customer/suggestion/dismiss",
            vec![("customer", g.as_str()), ("other", a.as_str())],
        ),
    ] {
        let r = app.call(&marketing, path, &args).await;
        assert_eq!(r.status(), 403, "marketing {path}");
    }
    assert_eq!(
        detail(&app, &marketing, grace_conv)
            .await
            .customer
            .suggestions
            .len(),
        1
    );

    // An email address, added and shown normalised.
    let r = app
        .call(
            &support,
            "/api/customer/identifier/add",
            &[
                ("customer", &g),
                ("kind", "email"),
                ("value", " Grace.Hopper@Navy.Example.ORG "),
            ],
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let d = detail(&app, &support, grace_conv).await;
    assert!(d
        .customer
        .identifiers
        .iter()
        .any(|i| i.value == "grace.hopper@navy.example.org"));
    let r = app
        .call(
            &support,
            "/api/customer/preferred-channel",
            &[("customer", &g), ("channel", "telegram")],
        )
        .await;
    assert_eq!(r.status(), 200);

    // Merge Ada into Grace: Ada's conversation leaves the list and points to Grace's.
    let r = app
        .call(
            &support,
            "/api/customer/merge",
            &[("customer", &g), ("other", &a)],
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(!listed(&app, &support, ada_conv).await);
    assert!(listed(&app, &support, grace_conv).await);
    let old = detail(&app, &support, ada_conv).await;
    let to = old.customer.merged_into.expect("merged into");
    assert_eq!(
        (to.name.as_str(), to.conversation_id),
        ("Grace Hopper", Some(grace_conv))
    );
    let d = detail(&app, &support, grace_conv).await;
    assert!(d
        .customer
        .identifiers
        .iter()
        .any(|i| i.value == "+14155550101"));
    assert_eq!(d.customer.merges[0].customer.id, ada);
    assert_eq!(
        d.customer.preferred_channel.map(|c| c.as_str()),
        Some("telegram")
    );

    // The panel, rendered on the server (no JavaScript needed).
    let html = support
        .get(app.url(&format!("/inbox/{grace_conv}")))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Merged into this customer"),
        "panel lists the merge"
    );
    assert!(html.contains("Undo merge"));
    assert!(html.contains("Add identifier"));
    assert!(html.contains("Set preferred channel"));
    let old_page = support
        .get(app.url(&format!("/inbox/{ada_conv}")))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        old_page.contains("This customer was merged into"),
        "old URL says where it went"
    );
    assert!(old_page.contains(&format!("href=\"/inbox/{grace_conv}\"")));

    // Undo, from the form on the page.
    let r = app
        .call(&support, "/api/customer/unmerge", &[("customer", &a)])
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(listed(&app, &support, ada_conv).await);
    let d = detail(&app, &support, grace_conv).await;
    assert!(!d
        .customer
        .identifiers
        .iter()
        .any(|i| i.value == "+14155550101"));
    assert!(d.customer.merges.is_empty());
    // Undoing twice says so in words.
    let r = app
        .call(&support, "/api/customer/unmerge", &[("customer", &a)])
        .await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Ada Lovelace is not merged into another customer"));

    // Without JavaScript, the refusal comes back on the page the form was on.
    let page = app.url(&format!("/inbox/{grace_conv}"));
    let r = support
        .post(app.url("/api/customer/identifier/add"))
        .header("Origin", &app.addr)
        .header("Accept", "text/html")
        .header("Referer", &page)
        .form(&[
            ("customer", g.as_str()),
            ("kind", "phone"),
            ("value", "+1 415 555 0101"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let back = r.headers()["location"].to_str().unwrap().to_string();
    let html = support
        .get(if back.starts_with('/') {
            app.url(&back)
        } else {
            back
        })
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("already belongs to Ada Lovelace"),
        "error shown on the page"
    );
    assert!(
        html.contains("Merge Ada Lovelace into this customer"),
        "merge offered"
    );

    // Dismissed, the suggestion is gone from the panel.
    let r = app
        .call(
            &support,
            "/api/customer/suggestion/dismiss",
            &[("customer", &g), ("other", &a)],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(detail(&app, &support, grace_conv)
        .await
        .customer
        .suggestions
        .is_empty());
}

crate::both_engines!(the_panel_adds_merges_and_undoes_over_http);
