//! Receiving email from a real Dovecot on SQLite and PostgreSQL: import, IDLE and polling,
//! resume, UIDVALIDITY changes, cut connections, duplicates, automatic and unparseable mail.

use crate::support::email::*;
use crate::support::mail::MailServers;
use crate::support::proxy::DropProxy;
use crate::support::{spawn_app, Engine};
use app::store::{channel_accounts, mailbox};
use sqlx::Row;
use std::time::Duration;

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

both_engines!(
    import_then_idle,
    polls_without_idle,
    resumes_after_restart,
    uidvalidity_change_resyncs_without_duplicates,
    connection_cut_mid_fetch_recovers,
    duplicates_and_missing_message_ids,
    auto_replies_and_own_mail_trigger_nothing,
    unparseable_mail_is_quarantined_and_sync_goes_on,
);
