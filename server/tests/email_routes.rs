//! The routes that show email: the message frame and attachments check the session, send the
//! frame's own CSP, and never let HTML or scripts run in the app's origin.

use crate::support::{spawn_app, Engine};
use app::domain::{ChannelKind, IdentifierKind};
use app::ports::{InboundMessage, NewAttachment, ThreadHints};
use app::service::ingest::ingest_message;
use app::store::channel_accounts;

async fn frame_and_attachments(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = channel_accounts::create(
        &db,
        ChannelKind::Email,
        "email",
        "Mailbox",
        "support@shop.test",
        &serde_json::json!({}),
        &serde_json::json!({}),
    )
    .await
    .unwrap();
    let account = channel_accounts::get(&db, acc).await.unwrap();
    let html = server::channels::email::sanitize::sanitize(
        "<p onclick=\"x()\">Hi <img src=\"cid:logo@x\"> <img src=\"https://tracker.example/p.gif\"></p><script>alert(1)</script>",
    );
    let r = ingest_message(
        &db,
        &account,
        None,
        &InboundMessage {
            identifier_kind: IdentifierKind::Email,
            identifier: "lee@customer.test".into(),
            display_name: None,
            provider_message_id: "mid:l1@customer.test".into(),
            subject: Some("Hi".into()),
            body_text: "Hi".into(),
            body_html: Some(html),
            received_at: 1_000,
            thread: ThreadHints::default(),
            automatic: false,
            meta: None,
            attachments: vec![
                NewAttachment {
                    filename: "logo.png".into(),
                    content_type: "image/png".into(),
                    content_id: Some("logo@x".into()),
                    data: b"\x89PNG fake".to_vec(),
                },
                NewAttachment {
                    filename: "page.html".into(),
                    content_type: "text/html".into(),
                    content_id: None,
                    data: b"<script>alert(1)</script>".to_vec(),
                },
            ],
            media: Vec::new(),
        },
    )
    .await
    .unwrap();
    let body_url = app.url(&format!("/messages/{}/body", r.message_id));
    // Signed out: nothing.
    let anon = app.client().get(&body_url).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let c = app
        .login("support@convergence.test", "support-password-1")
        .await;
    let resp = c.get(&body_url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("https:"),
        "remote images are off by default: {csp}"
    );
    assert_eq!(resp.headers()["x-frame-options"], "SAMEORIGIN");
    let doc = resp.text().await.unwrap();
    assert!(
        !doc.contains("<script") && !doc.contains("onclick"),
        "{doc}"
    );
    assert!(
        !doc.contains("tracker.example"),
        "the remote image is not in the document: {doc}"
    );
    let logo_id: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM attachments WHERE content_id = 'logo@x'")
            .fetch_one(&db.read)
            .await
            .unwrap()
            .try_get("id")
            .unwrap()
    };
    assert!(
        doc.contains(&format!("/attachments/{logo_id}")),
        "the cid image points at our route: {doc}"
    );
    // With images allowed, the CSP and the document let them load.
    let with = c.get(format!("{body_url}?images=1")).send().await.unwrap();
    assert!(with.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("https:"));
    assert!(with.text().await.unwrap().contains("tracker.example"));
    // An HTML attachment is a download of octet-stream, never a page.
    let html_id = logo_id + 1;
    let a = c
        .get(app.url(&format!("/attachments/{html_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    assert_eq!(a.headers()["content-type"], "application/octet-stream");
    assert!(a.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"page.html\""));
    assert_eq!(a.headers()["x-content-type-options"], "nosniff");
    let missing = c.get(app.url("/attachments/999999")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

both_engines!(frame_and_attachments);
