//! The email channel against real servers: Dovecot over IMAP for receiving, an SMTP server for
//! sending, on SQLite and PostgreSQL. Each test starts its own mail servers and app.

mod common;

use app::domain::ChannelKind;
use app::model::{EmailSettings, TlsMode};
use app::store::{channel_accounts, mailbox, Db};
use common::mail::{DropProxy, MailServers};
use common::{spawn_app, Engine, TestApp};
use serde_json::json;
use sqlx::Row;
use std::time::Duration;

const SUPPORT: &str = "support@shop.test";
const PASSWORD: &str = "mailbox-password";

/// A small RFC 5322 message.
fn mail(from: &str, subject: &str, message_id: Option<&str>, headers: &str, body: &str) -> Vec<u8> {
    let mid = message_id
        .map(|m| format!("Message-ID: <{m}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n{mid}{headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn settings(imap_port: u16, smtp_port: u16, folder: &str) -> EmailSettings {
    EmailSettings {
        from_name: "Shop Support".into(),
        imap_host: "127.0.0.1".into(),
        imap_port,
        imap_tls: TlsMode::None,
        imap_user: SUPPORT.into(),
        imap_folder: folder.into(),
        import_since: None,
        smtp_host: "127.0.0.1".into(),
        smtp_port,
        smtp_tls: TlsMode::None,
        smtp_user: String::new(),
    }
}

/// Connects the support mailbox to the app and tells the supervisor.
async fn connect_mailbox(app: &TestApp, s: EmailSettings) -> i64 {
    let id = channel_accounts::create(
        &app.state.db,
        ChannelKind::Email,
        "email",
        "Support mailbox",
        SUPPORT,
        &serde_json::to_value(&s).unwrap(),
        &json!({ "imap_password": PASSWORD, "smtp_password": "" }),
    )
    .await
    .unwrap();
    app.state.channels.accounts_changed();
    id
}

async fn servers() -> MailServers {
    let m = MailServers::start().await;
    m.add_user(SUPPORT, PASSWORD);
    m
}

/// Polls `f` until it returns `Some`, for up to `secs` seconds.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(db: &Db, sql: &str, account: i64) -> i64 {
    sqlx::query(sql)
        .bind(account)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn messages_of(db: &Db, account: i64) -> i64 {
    count(
        db,
        "SELECT COUNT(*) FROM messages WHERE channel_account_id = $1 AND direction = 'in'",
        account,
    )
    .await
}

async fn wait_messages(db: &Db, account: i64, n: i64) {
    eventually(30, &format!("{n} inbound messages"), || async {
        (messages_of(db, account).await >= n).then_some(())
    })
    .await;
    // And no more than that, once the worker has settled.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages_of(db, account).await, n);
}

/// The conversation id of the customer who has `email`.
async fn conversation_of(db: &Db, email: &str) -> i64 {
    sqlx::query(
        "SELECT c.id FROM conversations c JOIN identifiers i ON i.customer_id = c.customer_id \
         WHERE i.kind = 'email' AND i.value = $1",
    )
    .bind(email)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("id")
    .unwrap()
}

async fn phase(db: &Db, account: i64) -> String {
    mailbox::status(db, account)
        .await
        .unwrap()
        .map(|s| s.phase)
        .unwrap_or_default()
}

async fn import_then_idle(engine: Engine) {
    let m = servers().await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "Ann <ann@customer.test>",
            "Order 1",
            Some("a1@customer.test"),
            "",
            "Where is my order?",
        ),
    )
    .await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "Bob <bob@customer.test>",
            "Hello",
            Some("b1@customer.test"),
            "",
            "Hi there",
        ),
    )
    .await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "Ann <ann@customer.test>",
            "Re: Order 1",
            Some("a2@customer.test"),
            "",
            "Any news?",
        ),
    )
    .await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 3).await;
    let ann = conversation_of(&db, "ann@customer.test").await;
    let bob = conversation_of(&db, "bob@customer.test").await;
    assert_ne!(ann, bob);
    let in_ann = count(
        &db,
        "SELECT COUNT(*) FROM messages WHERE conversation_id = $1",
        ann,
    )
    .await;
    assert_eq!(
        in_ann, 2,
        "both of Ann's emails are in her one conversation"
    );
    let st = mailbox::status(&db, acc).await.unwrap().unwrap();
    assert_eq!((st.total, st.done), (3, 3), "progress counts the import");
    eventually(10, "idle phase", || async {
        (phase(&db, acc).await == "idle").then_some(())
    })
    .await;

    // New mail while idling arrives at once.
    let t = std::time::Instant::now();
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "Ann <ann@customer.test>",
            "Re: Order 1",
            Some("a3@customer.test"),
            "",
            "Hello again",
        ),
    )
    .await;
    wait_messages(&db, acc, 4).await;
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "IDLE delivered in {:?}",
        t.elapsed()
    );
    // Nothing was marked read on the server.
    let mut session = m.session(SUPPORT).await;
    session.examine("INBOX").await.unwrap();
    let fetched: Vec<_> = {
        use futures::StreamExt;
        session
            .fetch("1:*", "FLAGS")
            .await
            .unwrap()
            .collect::<Vec<_>>()
            .await
    };
    assert_eq!(fetched.len(), 4);
    for f in fetched {
        let f = f.unwrap();
        assert!(
            !f.flags()
                .any(|fl| matches!(fl, async_imap::types::Flag::Seen)),
            "a message was marked read"
        );
    }
}

async fn polls_without_idle(engine: Engine) {
    let m = MailServers::start_without_idle().await;
    m.add_user(SUPPORT, PASSWORD);
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    eventually(10, "polling phase", || async {
        (phase(&db, acc).await == "polling").then_some(())
    })
    .await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "cy@customer.test",
            "Hi",
            Some("c1@customer.test"),
            "",
            "polled",
        ),
    )
    .await;
    wait_messages(&db, acc, 1).await;
}

async fn resumes_after_restart(engine: Engine) {
    let m = servers().await;
    for i in 0..3 {
        m.append(
            SUPPORT,
            "INBOX",
            &mail(
                "dee@customer.test",
                "x",
                Some(&format!("d{i}@customer.test")),
                "",
                "first batch",
            ),
        )
        .await;
    }
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 3).await;
    assert_eq!(mailbox::position(&db, acc).await.unwrap().last_uid, 3);
    // Stop the worker (disable), add mail, start it again.
    channel_accounts::set_enabled(&db, acc, false)
        .await
        .unwrap();
    app.state.channels.accounts_changed();
    eventually(10, "disabled", || async {
        (phase(&db, acc).await == "disabled").then_some(())
    })
    .await;
    for i in 3..5 {
        m.append(
            SUPPORT,
            "INBOX",
            &mail(
                "dee@customer.test",
                "x",
                Some(&format!("d{i}@customer.test")),
                "",
                "second batch",
            ),
        )
        .await;
    }
    channel_accounts::set_enabled(&db, acc, true).await.unwrap();
    app.state.channels.accounts_changed();
    wait_messages(&db, acc, 5).await;
    let st = mailbox::status(&db, acc).await.unwrap().unwrap();
    assert_eq!(
        st.total, 2,
        "the second run imported only the two new messages"
    );
    assert_eq!(mailbox::position(&db, acc).await.unwrap().last_uid, 5);
    let raws = count(
        &db,
        "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1",
        acc,
    )
    .await;
    assert_eq!(raws, 5);
}

async fn uidvalidity_change_resyncs_without_duplicates(engine: Engine) {
    let m = servers().await;
    let a = mail(
        "eve@customer.test",
        "1",
        Some("e1@customer.test"),
        "",
        "one",
    );
    let b = mail(
        "eve@customer.test",
        "2",
        Some("e2@customer.test"),
        "",
        "two",
    );
    m.create_folder(SUPPORT, "Support").await;
    m.append(SUPPORT, "Support", &a).await;
    m.append(SUPPORT, "Support", &b).await;
    let v1 = m.uidvalidity(SUPPORT, "Support").await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "Support")).await;
    wait_messages(&db, acc, 2).await;
    // The folder is recreated: new UIDVALIDITY, the same two messages plus a new one.
    m.delete_folder(SUPPORT, "Support").await;
    m.create_folder(SUPPORT, "Support").await;
    m.append(SUPPORT, "Support", &a).await;
    m.append(SUPPORT, "Support", &b).await;
    m.append(
        SUPPORT,
        "Support",
        &mail(
            "eve@customer.test",
            "3",
            Some("e3@customer.test"),
            "",
            "three",
        ),
    )
    .await;
    let v2 = m.uidvalidity(SUPPORT, "Support").await;
    assert_ne!(v1, v2);
    wait_messages(&db, acc, 3).await;
    eventually(30, "the new UIDVALIDITY recorded", || async {
        (mailbox::position(&db, acc).await.unwrap().uidvalidity == Some(v2)).then_some(())
    })
    .await;
    let raws = count(
        &db,
        "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1",
        acc,
    )
    .await;
    assert_eq!(raws, 3, "re-read messages are recognised, not stored again");
}

async fn connection_cut_mid_fetch_recovers(engine: Engine) {
    let m = servers().await;
    let big = "x".repeat(70) + "\r\n";
    for i in 0..6 {
        m.append(
            SUPPORT,
            "INBOX",
            &mail(
                "fay@customer.test",
                "big",
                Some(&format!("f{i}@customer.test")),
                "",
                &big.repeat(1500),
            ),
        )
        .await;
    }
    let proxy = DropProxy::start(m.imap_port).await;
    proxy.arm(150_000);
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(proxy.port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 6).await;
    assert!(
        proxy.connections() >= 2,
        "the worker reconnected after the cut"
    );
    let raws = count(
        &db,
        "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1",
        acc,
    )
    .await;
    assert_eq!(raws, 6);
    eventually(10, "back to idle", || async {
        (phase(&db, acc).await == "idle").then_some(())
    })
    .await;
}

async fn duplicates_and_missing_message_ids(engine: Engine) {
    let m = servers().await;
    let same = mail(
        "gus@customer.test",
        "dup",
        Some("g1@customer.test"),
        "",
        "once",
    );
    m.append(SUPPORT, "INBOX", &same).await;
    m.append(SUPPORT, "INBOX", &same).await;
    let no_id = mail("gus@customer.test", "no id", None, "", "hash me");
    m.append(SUPPORT, "INBOX", &no_id).await;
    m.append(SUPPORT, "INBOX", &no_id).await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail("gus@customer.test", "no id", None, "", "different text"),
    )
    .await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 3).await;
    let hashed = count(
        &db,
        "SELECT COUNT(*) FROM messages WHERE channel_account_id = $1 AND provider_message_id LIKE 'sha256:%'",
        acc,
    )
    .await;
    assert_eq!(hashed, 2);
}

async fn auto_replies_and_own_mail_trigger_nothing(engine: Engine) {
    let m = servers().await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "hal@customer.test",
            "Help",
            Some("h1@customer.test"),
            "",
            "help me",
        ),
    )
    .await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 1).await;
    let conv = conversation_of(&db, "hal@customer.test").await;
    sqlx::query("UPDATE conversations SET status = 'resolved' WHERE id = $1")
        .bind(conv)
        .execute(&db.write)
        .await
        .unwrap();
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "hal@customer.test",
            "Out of office",
            Some("h2@customer.test"),
            "Auto-Submitted: auto-replied\r\n",
            "I am away",
        ),
    )
    .await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "hal@customer.test",
            "News",
            Some("h3@customer.test"),
            "Precedence: bulk\r\n",
            "newsletter",
        ),
    )
    .await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            &format!("Shop <{SUPPORT}>"),
            "Copy",
            Some("h4@shop.test"),
            "",
            "our own",
        ),
    )
    .await;
    wait_messages(&db, acc, 3).await;
    let status: String = sqlx::query("SELECT status FROM conversations WHERE id = $1")
        .bind(conv)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("status")
        .unwrap();
    assert_eq!(status, "resolved", "automatic mail never reopens");
    let auto = count(
        &db,
        "SELECT COUNT(*) FROM messages WHERE channel_account_id = $1 AND automatic = 1",
        acc,
    )
    .await;
    assert_eq!(auto, 2);
    let ignored = count(
        &db,
        "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1 AND state = 'ignored'",
        acc,
    )
    .await;
    assert_eq!(ignored, 1, "our own mail is kept raw and ignored");
}

async fn unparseable_mail_is_quarantined_and_sync_goes_on(engine: Engine) {
    let m = servers().await;
    m.append(SUPPORT, "INBOX", b"this is not\r\nan email at all\r\n\r\n")
        .await;
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    eventually(20, "the bad message failed", || async {
        let n = count(&db, "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1 AND state = 'failed' AND error IS NOT NULL", acc).await;
        (n == 1).then_some(())
    })
    .await;
    m.append(
        SUPPORT,
        "INBOX",
        &mail(
            "ida@customer.test",
            "ok",
            Some("i1@customer.test"),
            "",
            "fine",
        ),
    )
    .await;
    wait_messages(&db, acc, 1).await;
}

/// An agent replies by email to the customer who has `email`; returns the message id.
async fn reply(app: &TestApp, account: i64, email: &str, text: &str) -> i64 {
    let db = &app.state.db;
    let r = sqlx::query(
        "SELECT c.id AS conversation, i.id AS identifier FROM conversations c \
         JOIN identifiers i ON i.customer_id = c.customer_id WHERE i.kind = 'email' AND i.value = $1",
    )
    .bind(email)
    .fetch_one(&db.read)
    .await
    .unwrap();
    let conversation: i64 = r.try_get("conversation").unwrap();
    let identifier: i64 = r.try_get("identifier").unwrap();
    let c = app
        .login("support@convergence.test", "support-password-1")
        .await;
    let resp = app
        .call(
            &c,
            "/api/conversation/reply",
            &[
                ("id", &conversation.to_string()),
                ("via", &format!("{account}:{identifier}")),
                ("body", text),
            ],
        )
        .await;
    assert!(resp.status().is_success(), "reply: {}", resp.status());
    sqlx::query(
        "SELECT MAX(id) AS id FROM messages WHERE conversation_id = $1 AND direction = 'out'",
    )
    .bind(conversation)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("id")
    .unwrap()
}

async fn delivery(db: &Db, message: i64) -> (String, Option<String>, Option<String>) {
    let r = sqlx::query(
        "SELECT delivery_state, failure_reason, rfc_message_id FROM messages WHERE id = $1",
    )
    .bind(message)
    .fetch_one(&db.read)
    .await
    .unwrap();
    (
        r.try_get("delivery_state").unwrap(),
        r.try_get("failure_reason").unwrap(),
        r.try_get("rfc_message_id").unwrap(),
    )
}

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

both!(
    import_then_idle,
    polls_without_idle,
    resumes_after_restart,
    uidvalidity_change_resyncs_without_duplicates,
    connection_cut_mid_fetch_recovers,
    duplicates_and_missing_message_ids,
    auto_replies_and_own_mail_trigger_nothing,
    unparseable_mail_is_quarantined_and_sync_goes_on,
    replies_thread_and_answers_come_back,
    smtp_failures_retry_or_fail_with_words,
    bounces_fail_the_message_they_name,
    replies_carry_files,
    connection_test_reports_in_words
);
