//! The converted-preview confirmation, and files sent as expiring links on SMS.

use super::world::*;
use crate::support::messages::wait_for;
use crate::support::{spawn_app, Engine};
use app::domain::ChannelKind;
use app::store::now_ms;
use sqlx::Row;

async fn converted_preview_must_be_confirmed(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.convert@example.com").await;
    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let conv = a.conv.to_string();
    let sms = key(a.sms_acc, a.phone_ident);
    let html = "<p>Hi <b>Ann</b>,</p><p>See <a href=\"https://shop.test/t/1\">tracking</a>.</p>";
    // Written for email, sent by SMS, not confirmed: refused with the reason, nothing queued.
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/reply",
        &[
            ("id", &conv),
            ("via", &sms),
            ("body", html),
            ("written_for", "email"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("Send as converted"), "{body}");
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'",
            a.conv
        )
        .await,
        0
    );
    // Confirmed: queued, as the preview showed it (plain text, the link kept as its address).
    let (s, body) = post(
        &app,
        &c,
        "/api/conversation/reply",
        &[
            ("id", &conv),
            ("via", &sms),
            ("body", html),
            ("written_for", "email"),
            ("converted", "1"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let text: String = sqlx::query(
        "SELECT body_text FROM messages WHERE conversation_id = $1 AND direction = 'out'",
    )
    .bind(a.conv)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("body_text")
    .unwrap();
    assert_eq!(text, "Hi Ann,\n\nSee tracking (https://shop.test/t/1).");
    assert_eq!(
        text,
        app::domain::convert::for_channel(ChannelKind::Sms, html).text
    );
    // Written for the same channel, or with no channel named (no JavaScript): no confirmation.
    for wf in ["sms", ""] {
        let (s, body) = post(
            &app,
            &c,
            "/api/conversation/reply",
            &[
                ("id", &conv),
                ("via", &sms),
                ("body", "ok"),
                ("written_for", wf),
            ],
        )
        .await;
        assert_eq!(s, 200, "{wf}: {body}");
    }
    let (s, _) = post(
        &app,
        &c,
        "/api/conversation/reply",
        &[
            ("id", &conv),
            ("via", &sms),
            ("body", "ok"),
            ("written_for", "fax"),
        ],
    )
    .await;
    assert_eq!(s, 400);
}

async fn files_become_expiring_links_on_sms(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = ann(&app, "ann.files@example.com").await;
    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let pdf = b"%PDF-1.4 tiny".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("via", key(a.sms_acc, a.phone_ident))
        .text("body", "Here is your invoice.")
        .part(
            "files",
            reqwest::multipart::Part::bytes(pdf.clone())
                .file_name("invoice.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = c
        .post(app.url(&format!("/conversations/{}/reply-with-files", a.conv)))
        .header("Origin", &app.addr)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection(),
        "{}: {}",
        r.status(),
        r.text().await.unwrap()
    );
    let m = sqlx::query("SELECT id, channel, body_text FROM messages WHERE conversation_id = $1 AND direction = 'out'")
        .bind(a.conv)
        .fetch_one(&db.read)
        .await
        .unwrap();
    let mid: i64 = m.try_get("id").unwrap();
    let text: String = m.try_get("body_text").unwrap();
    assert_eq!(m.try_get::<String, _>("channel").unwrap(), "sms");
    let prefix = format!(
        "Here is your invoice.\n\nFile: invoice.pdf {}/files/",
        app.addr
    );
    assert!(text.starts_with(&prefix), "{text}");
    let token = text[prefix.len()..].trim().to_string();
    assert_eq!(token.len(), 43, "{token}");
    // The file is kept with the message; only the token's SHA-256 is stored.
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM attachments WHERE message_id = $1",
            mid
        )
        .await,
        1
    );
    let stored: String = sqlx::query("SELECT token_sha256 FROM file_links WHERE message_id = $1")
        .bind(mid)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("token_sha256")
        .unwrap();
    assert_eq!(stored, server::http::files::sha256_hex(&token));
    assert!(!stored.contains(&token));
    // The SMS goes out (the playground delivers text only).
    wait_for("the SMS delivered", 15, || async {
        let st: String = sqlx::query("SELECT delivery_state FROM messages WHERE id = $1")
            .bind(mid)
            .fetch_one(&db.read)
            .await
            .unwrap()
            .try_get("delivery_state")
            .unwrap();
        (st == "delivered").then_some(())
    })
    .await;

    // Anyone with the link gets the file, with the safe headers; no session needed.
    let anon = app.client();
    let r = anon
        .get(app.url(&format!("/files/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"invoice.pdf\""));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);

    // Unknown, malformed, and a guess one character off: 404. Expired: 410.
    let mut other: Vec<char> = token.chars().collect();
    other[0] = if other[0] == 'A' { 'B' } else { 'A' };
    let other: String = other.into_iter().collect();
    for path in [
        format!("/files/{other}"),
        "/files/abc".into(),
        format!("/files/{}", "A".repeat(43)),
    ] {
        let r = anon.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    sqlx::query("UPDATE file_links SET expires_at = $1 WHERE message_id = $2")
        .bind(now_ms() - 1)
        .bind(mid)
        .execute(&db.write)
        .await
        .unwrap();
    let r = anon
        .get(app.url(&format!("/files/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    // The attachment itself still needs a session.
    let aid: i64 = sqlx::query("SELECT id FROM attachments WHERE message_id = $1")
        .bind(mid)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    let r = anon
        .get(app.url(&format!("/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

both_engines!(
    converted_preview_must_be_confirmed,
    files_become_expiring_links_on_sms,
);
