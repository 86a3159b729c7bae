//! The audit trail through the real HTTP edge: sign-ins (and refusals), sign-outs, users,
//! channel accounts (without secrets), merges and undos, consent, exports; filtered, paged,
//! exported as CSV by admins only.

use super::{actions, trail};
use crate::support::{spawn_app, Engine};

both_engines!(staff_actions_are_in_the_audit_trail);

async fn staff_actions_are_in_the_audit_trail(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    // A refused sign-in names what was typed, and where from.
    let stranger = app.client();
    let r = app
        .call(
            &stranger,
            "/api/login",
            &[
                ("email", "admin@convergence.test"),
                ("password", "guess-123456"),
            ],
        )
        .await;
    assert_eq!(r.status(), 401);
    let admin = app
        .login("admin@convergence.test", "admin-password-1")
        .await;
    let any = [("action", ""), ("actor", ""), ("period", "")];
    let page = trail(&app, &admin, &any).await;
    assert_eq!(actions(&page), ["sign_in", "sign_in_failed"]);
    let failed = &page["entries"][1];
    assert_eq!(failed["actor"], "someone as admin@convergence.test");
    assert_eq!(failed["ip"], "127.0.0.1");
    assert_eq!(
        page["entries"][0]["actor"],
        "Avery Admin <admin@convergence.test>"
    );

    // Users, a channel account (its secret stays out), consent, a merge and its undo.
    let r = app
        .call(
            &admin,
            "/api/admin/users/create",
            &[
                ("email", "newbie@example.com"),
                ("name", "Nia Newbie"),
                ("role", "support"),
                ("password", "a-long-password-1"),
            ],
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let id = app.user_id("newbie@example.com").await;
    let r = app
        .call(
            &admin,
            "/api/admin/users/disable",
            &[("id", &id), ("disabled", "true")],
        )
        .await;
    assert!(r.status().is_success());
    let secret = "bot-token-never-in-the-trail-42";
    let r = app
        .call(
            &admin,
            "/api/admin/channels/provider/save",
            &[
                ("id", ""),
                ("provider", "telegram"),
                ("name", "Audit bot"),
                ("bot_username", "audit_bot"),
                ("bot_token", secret),
                ("secret_token", "hook-secret-audit-1"),
                ("api_base", "https://api.telegram.org"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200, "save: {}", r.text().await.unwrap());
    let customers: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM customers WHERE merged_into_id IS NULL ORDER BY id LIMIT 2",
    )
    .fetch_all(&db.read)
    .await
    .unwrap();
    let (a, b) = (customers[0].to_string(), customers[1].to_string());
    let r = app
        .call(
            &admin,
            "/api/customer/merge",
            &[("customer", &a), ("other", &b)],
        )
        .await;
    assert!(
        r.status().is_success(),
        "merge: {}",
        r.text().await.unwrap()
    );
    let r = app
        .call(&admin, "/api/customer/unmerge", &[("customer", &b)])
        .await;
    assert!(
        r.status().is_success(),
        "unmerge: {}",
        r.text().await.unwrap()
    );
    let r = admin
        .get(app.url("/reports/export.csv?tab=overview&section=volume"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let page = trail(&app, &admin, &any).await;
    let got = actions(&page);
    for want in [
        "user_added",
        "user_disabled",
        "merge",
        "merge_undone",
        "export",
        "channel_account_saved",
    ] {
        assert!(got.contains(&want.to_string()), "{want} in {got:?}");
    }
    let text = page.to_string();
    assert!(
        !text.contains(secret) && !text.contains("hook-secret-audit-1"),
        "no secret in the trail"
    );
    assert!(text.contains("Nia Newbie <newbie@example.com>"));
    let merge = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "merge")
        .unwrap();
    assert_eq!(merge["actor"], "Avery Admin");
    assert!(merge["target"]
        .as_str()
        .unwrap()
        .contains(&format!("customer {b}")));

    // Filters: by action, by who (any case, wildcards literal), by period.
    let only = trail(
        &app,
        &admin,
        &[
            ("action", "sign_in_failed"),
            ("actor", ""),
            ("period", "day"),
        ],
    )
    .await;
    assert_eq!(actions(&only), ["sign_in_failed"]);
    let who = trail(
        &app,
        &admin,
        &[("action", ""), ("actor", "NEWBIE"), ("period", "")],
    )
    .await;
    assert!(!actions(&who).is_empty());
    assert!(who["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e.to_string().to_lowercase().contains("newbie")));
    let none = trail(
        &app,
        &admin,
        &[("action", ""), ("actor", "%"), ("period", "")],
    )
    .await;
    assert_eq!(
        actions(&none),
        Vec::<String>::new(),
        "% is a literal character"
    );

    // Sign-out is recorded; the CSV holds the same entries and records itself.
    let csv = admin
        .get(app.url("/admin/audit.csv?action=&actor=&period="))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("audit-trail.csv"));
    let body = csv.text().await.unwrap();
    assert!(body.starts_with("time (UTC),actor,action,target,detail,address\r\n"));
    assert!(body.contains("Sign-in refused"));
    assert!(body.contains("Customers merged"));
    let after = trail(
        &app,
        &admin,
        &[("action", "export"), ("actor", ""), ("period", "")],
    )
    .await;
    assert!(after.to_string().contains("audit trail ("), "{after}");

    // Not for other staff: the list and the file are refused.
    let support = app
        .login("support@convergence.test", "support-password-1")
        .await;
    let r = app.call(&support, "/api/admin/audit", &any).await;
    assert_eq!(r.status(), 403);
    let r = support
        .get(app.url("/admin/audit.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app.call(&support, "/api/logout", &[]).await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let page = trail(
        &app,
        &admin,
        &[("action", "sign_out"), ("actor", ""), ("period", "")],
    )
    .await;
    assert_eq!(
        page["entries"][0]["actor"],
        "Sam Support <support@convergence.test>"
    );
}
