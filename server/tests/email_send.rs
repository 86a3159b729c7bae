//! Sending email through a real SMTP server and threading the answers back, on SQLite and
//! PostgreSQL: threading headers, tokens, failures, bounces, files, the connection test.

use crate::support::email::*;
use crate::support::{spawn_app, Engine};
use app::domain::ChannelKind;
use app::store::channel_accounts;
use serde_json::json;
use sqlx::Row;

async fn replies_thread_and_answers_come_back(engine: Engine) {
    let m = servers().await;
    m.add_user("ann@customer.test", "x");
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "Ann <ann@customer.test>",
            "Where is my order?",
            Some("q1@customer.test"),
            "References: <root@customer.test>\r\n",
            "Order 1234",
        ),
    )
    .await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 1).await;
    let conv = conversation_of(&db, "ann@customer.test").await;
    let out = reply(
        &app,
        acc,
        "ann@customer.test",
        "It ships today.\n\nTrack it at https://shop.test/t/1234",
    )
    .await;
    let (state, _, rfc) = eventually(20, "the reply sent", || async {
        let d = delivery(&db, out).await;
        (d.0 == "sent").then_some(d)
    })
    .await;
    let rfc = rfc.expect("the sent message keeps its Message-ID");
    assert_eq!(state, "sent");
    // The customer's mailbox has it, threaded.
    let got = eventually(10, "the reply in Ann's mailbox", || async {
        m.fetch_all("ann@customer.test", "INBOX")
            .await
            .into_iter()
            .next()
    })
    .await;
    let text = String::from_utf8_lossy(&got).to_string();
    let head = text.split("\r\n\r\n").next().unwrap().to_string();
    assert!(head.contains(&format!("Message-ID: <{rfc}>")), "{head}");
    assert!(head.contains("In-Reply-To: <q1@customer.test>"), "{head}");
    assert!(
        head.contains("References: <root@customer.test> <q1@customer.test>"),
        "{head}"
    );
    assert!(head.contains("Subject: Re: Where is my order?"), "{head}");
    assert!(
        head.contains("support+c"),
        "the Reply-To carries the signed token: {head}"
    );
    assert!(text.contains("multipart/alternative"));
    // Ann answers from a second address nobody knows, quoting our Message-ID.
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "Ann Work <ann@work.test>",
            "Re: Where is my order?",
            Some("q2@work.test"),
            &format!("In-Reply-To: <{rfc}>\r\n"),
            "Thanks!",
        ),
    )
    .await;
    wait_messages(&db, acc, 2).await;
    assert_eq!(
        conversation_of(&db, "ann@work.test").await,
        conv,
        "threaded by In-Reply-To"
    );
    let verified: i64 =
        sqlx::query("SELECT verified FROM identifiers WHERE value = 'ann@work.test'")
            .fetch_one(&db.read)
            .await
            .unwrap()
            .try_get("verified")
            .unwrap();
    assert_eq!(verified, 0, "the new address is a suggestion for the agent");
    // And by the reply-address token alone, from a third address.
    let token = head
        .lines()
        .find(|l| l.starts_with("Reply-To:"))
        .and_then(|l| l.split('<').nth(1))
        .and_then(|l| l.split('>').next())
        .unwrap()
        .to_string();
    let third = format!(
        "From: ann@home.test\r\nTo: {token}\r\nSubject: again\r\nMessage-ID: <q3@home.test>\r\n\r\nvia token\r\n"
    );
    m.append(SUPPORT, "INBOX", third.as_bytes()).await;
    wait_messages(&db, acc, 3).await;
    assert_eq!(
        conversation_of(&db, "ann@home.test").await,
        conv,
        "threaded by token"
    );
    // A forged token does not thread.
    let forged = token.replacen("-", "-0", 1);
    let fourth = format!(
        "From: mallory@evil.test\r\nTo: {forged}\r\nSubject: hi\r\nMessage-ID: <q4@evil.test>\r\n\r\nforged\r\n"
    );
    m.append(SUPPORT, "INBOX", fourth.as_bytes()).await;
    wait_messages(&db, acc, 4).await;
    assert_ne!(conversation_of(&db, "mallory@evil.test").await, conv);
}

async fn smtp_failures_retry_or_fail_with_words(engine: Engine) {
    let m = servers().await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "tempfail@customer.test",
            "a",
            Some("t1@customer.test"),
            "",
            "a",
        ),
    )
    .await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "reject@customer.test",
            "b",
            Some("r1@customer.test"),
            "",
            "b",
        ),
    )
    .await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 2).await;
    let temp = reply(&app, acc, "tempfail@customer.test", "hello").await;
    let perm = reply(&app, acc, "reject@customer.test", "hello").await;
    let (_, reason, _) = eventually(20, "the permanent failure", || async {
        let d = delivery(&db, perm).await;
        (d.0 == "failed").then_some(d)
    })
    .await;
    let reason = reason.unwrap();
    assert!(
        reason.contains("550") && reason.contains("User unknown"),
        "{reason}"
    );
    let last_error: Option<String> = eventually(20, "a retry scheduled", || async {
        let r = sqlx::query("SELECT last_error, done_at FROM outbox WHERE message_id = $1")
            .bind(temp)
            .fetch_one(&db.read)
            .await
            .unwrap();
        let e: Option<String> = r.try_get("last_error").unwrap();
        e.map(Some)
    })
    .await;
    assert!(last_error.unwrap().contains("451"));
    assert_ne!(
        delivery(&db, temp).await.0,
        "failed",
        "a 4xx is retried, not failed"
    );
}

async fn bounces_fail_the_message_they_name(engine: Engine) {
    let m = servers().await;
    m.add_user("jo@customer.test", "x");
    m.append(
        SUPPORT,
        "INBOX",
        &mail("jo@customer.test", "Hi", Some("j1@customer.test"), "", "hi"),
    )
    .await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 1).await;
    let out = reply(&app, acc, "jo@customer.test", "our answer").await;
    let rfc = eventually(20, "sent", || async {
        let d = delivery(&db, out).await;
        (d.0 == "sent").then(|| d.2.unwrap())
    })
    .await;
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\nTo: {SUPPORT}\r\n\
Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce1@mx.customer.test>\r\nAuto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\n\
Final-Recipient: rfc822; jo@customer.test\r\nAction: failed\r\nStatus: 5.2.2\r\n\
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n\r\n\
--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {SUPPORT}\r\nTo: jo@customer.test\r\nMessage-ID: <{rfc}>\r\nSubject: Re: Hi\r\n\r\n--B--\r\n"
    );
    m.append(SUPPORT, "INBOX", dsn.as_bytes()).await;
    let (_, reason, _) = eventually(20, "the bounce applied", || async {
        let d = delivery(&db, out).await;
        (d.0 == "failed").then_some(d)
    })
    .await;
    assert!(reason.unwrap().contains("Mailbox full"));
    // The bounce is not a message from a new "MAILER-DAEMON" customer.
    assert_eq!(messages_of(&db, acc).await, 1);
}

async fn replies_carry_files(engine: Engine) {
    let m = servers().await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "kim@customer.test",
            "Label",
            Some("k1@customer.test"),
            "",
            "send me the label",
        ),
    )
    .await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 1).await;
    let r = sqlx::query(
        "SELECT c.id AS conversation, i.id AS identifier FROM conversations c \
         JOIN identifiers i ON i.customer_id = c.customer_id WHERE i.value = 'kim@customer.test'",
    )
    .fetch_one(&db.read)
    .await
    .unwrap();
    let (conv, ident): (i64, i64) = (
        r.try_get("conversation").unwrap(),
        r.try_get("identifier").unwrap(),
    );
    let c = app
        .login("support@convergence.test", "support-password-1")
        .await;
    let form = || {
        reqwest::multipart::Form::new()
            .text("via", format!("{acc}:{ident}"))
            .text("body", "Here is your label.")
            .part(
                "files",
                reqwest::multipart::Part::bytes(b"%PDF-1.4 label".to_vec())
                    .file_name("../../etc/label\t.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            )
    };
    let url = app.url(&format!("/conversations/{conv}/reply-with-files"));
    // Without our Origin the post is refused.
    let forged = c.post(&url).multipart(form()).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    let ok = c
        .post(&url)
        .header("Origin", &app.addr)
        .multipart(form())
        .send()
        .await
        .unwrap();
    let status = ok.status();
    assert_eq!(
        status,
        303,
        "redirects back to the conversation: {}",
        ok.text().await.unwrap()
    );
    let out: i64 = sqlx::query(
        "SELECT MAX(id) AS id FROM messages WHERE conversation_id = $1 AND direction = 'out'",
    )
    .bind(conv)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("id")
    .unwrap();
    eventually(20, "sent", || async {
        (delivery(&db, out).await.0 == "sent").then_some(())
    })
    .await;
    let copy = eventually(10, "the SMTP copy", || async {
        m.smtp_copies()
            .into_iter()
            .find(|(e, _)| e.rcpt_tos.iter().any(|r| r == "kim@customer.test"))
    })
    .await;
    let raw = String::from_utf8_lossy(&copy.1).to_string();
    assert!(raw.contains("multipart/mixed"), "{raw}");
    assert!(
        raw.contains("filename=\"label.pdf\"") || raw.contains("filename=\"label .pdf\""),
        "a safe file name: {raw}"
    );
    let parsed = server::channels::email::parse::parse(&copy.1, &Default::default()).unwrap();
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(parsed.attachments[0].data, b"%PDF-1.4 label");
    // The attachment is on the stored message, downloadable by staff only.
    let aid: i64 = sqlx::query("SELECT id FROM attachments WHERE message_id = $1")
        .bind(out)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    let get = c
        .get(app.url(&format!("/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert!(get.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(get.headers()["x-content-type-options"], "nosniff");
    let anonymous = app
        .client()
        .get(app.url(&format!("/attachments/{aid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn connection_test_reports_in_words(engine: Engine) {
    let m = servers().await;
    let app = spawn_app(engine).await;
    let good = channel_accounts::AccountRow {
        id: 0,
        channel: ChannelKind::Email,
        provider: "email".into(),
        name: "t".into(),
        address: SUPPORT.into(),
        settings: serde_json::to_string(&settings(m.imap_port, m.smtp_port, "INBOX")).unwrap(),
        secrets: json!({ "imap_password": PASSWORD }).to_string(),
        enabled: true,
        state: "ok".into(),
        state_detail: None,
    };
    let ok = app.state.channels.test_connection(&good).await.unwrap();
    assert!(ok.contains("IMAP") && ok.contains("SMTP"), "{ok}");
    let mut bad = good.clone();
    bad.secrets = json!({ "imap_password": "wrong" }).to_string();
    let err = app.state.channels.test_connection(&bad).await.unwrap_err();
    assert!(
        err.contains("login refused") || err.to_lowercase().contains("authentication"),
        "{err}"
    );
    assert!(
        !err.contains("wrong"),
        "the password is never echoed: {err}"
    );
}

both_engines!(
    replies_thread_and_answers_come_back,
    smtp_failures_retry_or_fail_with_words,
    bounces_fail_the_message_they_name,
    replies_carry_files,
    connection_test_reports_in_words,
);
