//! Proves the mail test harness (support/mail.rs): the real Dovecot and SMTP servers, their
//! failure modes, and the connection-cutting proxy. Needs `scripts/setup.sh test`.

use crate::support::mail::{MailOptions, MailServers};
use crate::support::processes::processes_in_groups;
use crate::support::proxy::DropProxy;
use async_imap::extensions::idle::IdleResponse;
use futures::TryStreamExt;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::{Duration, Instant};

const USER: &str = "support@example.com";
const PASSWORD: &str = "s3cret pass";

fn smtp(mail: &MailServers) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(mail.smtp_port)
        .timeout(Some(Duration::from_secs(10)))
        .build()
}

fn message(to: &str, subject: &str, body: &str) -> Message {
    Message::builder()
        .from(
            "Customer <customer@client.test>"
                .parse::<Mailbox>()
                .unwrap(),
        )
        .to(to.parse::<Mailbox>().unwrap())
        .subject(subject)
        .body(body.to_string())
        .unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn append_then_fetch_all_returns_the_same_bytes() {
    let mail = MailServers::start().await;
    mail.add_user(USER, PASSWORD);
    let first = b"From: a@client.test\r\nTo: support@example.com\r\nSubject: one\r\nMessage-ID: <1@client.test>\r\n\r\nFirst body.\r\n".to_vec();
    // 8-bit content and a long line survive untouched (CRLF line ends: Dovecot serves a bare LF
    // as CRLF).
    let mut second = b"From: b@client.test\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    second.extend_from_slice("Grüße, ünïcödé\r\n".as_bytes());
    second.extend_from_slice(&[b'x'; 2000]);
    second.extend_from_slice(b"\r\nend\r\n");
    mail.append(USER, "INBOX", &first).await;
    mail.append(USER, "INBOX", &second).await;
    assert_eq!(
        mail.fetch_all(USER, "INBOX").await,
        vec![first.clone(), second]
    );

    // A nested folder that does not exist yet is created by append.
    mail.append(USER, "Archive/2024", &first).await;
    assert_eq!(mail.fetch_all(USER, "Archive/2024").await, vec![first]);

    let inbox = mail.uidvalidity(USER, "INBOX").await;
    assert!(inbox > 0);
    assert_eq!(mail.uidvalidity(USER, "INBOX").await, inbox, "stable");

    // A folder deleted and created again gets a new UIDVALIDITY.
    mail.create_folder(USER, "Later").await;
    mail.create_folder(USER, "Later").await; // fine when it exists
    let before = mail.uidvalidity(USER, "Later").await;
    mail.delete_folder(USER, "Later").await;
    let mut s = mail.session(USER).await;
    assert!(s.examine("Later").await.is_err(), "Later was deleted");
    let _ = s.logout().await;
    mail.create_folder(USER, "Later").await;
    assert_ne!(mail.uidvalidity(USER, "Later").await, before);
}

#[tokio::test]
async fn smtp_delivers_into_the_recipients_imap_mailbox_and_keeps_a_copy() {
    let mail = MailServers::start().await;
    mail.add_user(USER, PASSWORD);
    mail.add_user("other@example.com", "pw");

    // The mailbox is the address lowercased without its +tag.
    let email = message(
        "Support+Orders@Example.COM",
        "Where is my order?",
        "Order 42, please.",
    );
    let submitted = email.formatted();
    smtp(&mail).send(email).await.expect("send over SMTP");

    let inbox = mail.fetch_all(USER, "INBOX").await;
    assert_eq!(inbox.len(), 1, "{}", mail.logs());
    let delivered = &inbox[0];
    assert!(delivered.starts_with(b"Return-Path: <customer@client.test>\r\nReceived: from "));
    assert!(contains(delivered, "for <Support+Orders@Example.COM>;"));
    // SMTP ends every message with CRLF: DATA's terminator is CRLF "." CRLF.
    let mut submitted = submitted;
    if !submitted.ends_with(b"\r\n") {
        submitted.extend_from_slice(b"\r\n");
    }
    assert!(
        delivered.ends_with(&submitted),
        "the submitted message follows the trace headers unchanged"
    );
    assert!(mail
        .fetch_all("other@example.com", "INBOX")
        .await
        .is_empty());

    let copies = mail.smtp_copies();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].0.mail_from, "customer@client.test");
    assert_eq!(copies[0].0.rcpt_tos, vec!["Support+Orders@Example.COM"]);
    assert_eq!(copies[0].1, submitted);
}

#[tokio::test]
async fn smtp_recipients_can_fail_temporarily_or_permanently() {
    let mail = MailServers::start().await;
    let transport = smtp(&mail);

    let err = transport
        .send(message("tempfail-1@example.com", "t", "x"))
        .await
        .expect_err("tempfail… is refused");
    assert!(err.is_transient(), "{err}");
    assert!(!err.is_permanent(), "{err}");
    assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("451"));
    assert!(err.to_string().contains("Temporary failure"), "{err}");

    let err = transport
        .send(message("Reject.Me@example.com", "r", "x"))
        .await
        .expect_err("reject… is refused");
    assert!(err.is_permanent(), "{err}");
    assert!(!err.is_transient(), "{err}");
    assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("550"));
    assert!(
        err.to_string()
            .contains("<Reject.Me@example.com>: Recipient address rejected: User unknown"),
        "{err}"
    );

    assert!(mail.smtp_copies().is_empty(), "nothing was accepted");
    // An ordinary recipient on the same server still works.
    transport
        .send(message(USER, "ok", "x"))
        .await
        .expect("a normal recipient is accepted");
    assert_eq!(mail.smtp_copies().len(), 1);
}

#[tokio::test]
async fn smtp_auth_can_be_required() {
    let mail = MailServers::start_with(MailOptions {
        smtp_auth: Some(("relay-user".into(), "relay-pass".into())),
        ..MailOptions::default()
    })
    .await;
    let err = smtp(&mail)
        .send(message(USER, "no auth", "x"))
        .await
        .expect_err("AUTH is required");
    assert_eq!(
        err.status().map(|c| c.to_string()).as_deref(),
        Some("530"),
        "{err}"
    );

    let wrong = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(mail.smtp_port)
        .credentials(Credentials::new("relay-user".into(), "nope".into()))
        .build();
    assert!(wrong.send(message(USER, "bad auth", "x")).await.is_err());

    let right = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(mail.smtp_port)
        .credentials(Credentials::new("relay-user".into(), "relay-pass".into()))
        .build();
    right
        .send(message(USER, "auth", "x"))
        .await
        .expect("authenticated submission");
    assert_eq!(mail.smtp_copies().len(), 1);
}

#[tokio::test]
async fn idle_is_advertised_only_by_the_idle_variant() {
    let (with, without) = tokio::join!(MailServers::start(), MailServers::start_without_idle());
    for (mail, idle) in [(&with, true), (&without, false)] {
        mail.add_user(USER, PASSWORD);
        let mut s = mail.session(USER).await;
        let caps = s.capabilities().await.expect("CAPABILITY");
        assert_eq!(caps.has_str("IDLE"), idle, "IDLE advertised: {idle}");
        assert!(caps.has_str("IMAP4rev1") && caps.has_str("UIDPLUS") && caps.has_str("MOVE"));
        let _ = s.logout().await;
    }
}

#[tokio::test]
async fn an_idle_client_hears_of_mail_delivered_over_smtp() {
    let mail = MailServers::start().await;
    mail.add_user(USER, PASSWORD);
    let mut s = mail.session(USER).await;
    let inbox = s.select("INBOX").await.unwrap();
    assert_eq!(inbox.exists, 0);
    let mut idle = s.idle();
    idle.init().await.expect("IDLE");

    let started = Instant::now();
    let transport = smtp(&mail);
    let send = tokio::spawn(async move { transport.send(message(USER, "ping", "x")).await });
    let (wait, _stop) = idle.wait_with_timeout(Duration::from_secs(10));
    let response = wait.await.expect("IDLE wait");
    let elapsed = started.elapsed();
    match response {
        IdleResponse::NewData(data) => {
            let text = format!("{:?}", data.parsed());
            assert!(
                text.contains("Exists(1)") || text.contains("Recent(1)"),
                "{text}"
            );
        }
        other => panic!("no news within 10 s: {other:?}\n{}", mail.logs()),
    }
    send.await.unwrap().expect("sent");
    let mut s = idle.done().await.expect("DONE");
    let _ = s.logout().await;
    eprintln!("IDLE notification after {elapsed:?}");
}

#[tokio::test]
async fn drop_proxy_cuts_the_armed_connection_mid_fetch_and_passes_the_next() {
    let mail = MailServers::start().await;
    mail.add_user(USER, PASSWORD);
    let mut big = b"From: big@client.test\r\nSubject: big\r\n\r\n".to_vec();
    for i in 0..20_000 {
        big.extend_from_slice(format!("line {i:05} of a large message body\r\n").as_bytes());
    }
    assert!(big.len() > 500_000);
    mail.append(USER, "INBOX", &big).await;

    let proxy = DropProxy::start(mail.imap_port).await;
    let login = |port: u16| async move {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let mut client = async_imap::Client::new(stream);
        client.read_response().await.unwrap().unwrap();
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    };

    // Armed after login: the next 100 KB from the server is the last this connection gets.
    let mut s = login(proxy.port).await;
    s.select("INBOX").await.unwrap();
    proxy.arm(100_000);
    let fetched: Result<Vec<_>, _> = async {
        s.fetch("1", "BODY.PEEK[]")
            .await?
            .try_collect::<Vec<_>>()
            .await
    }
    .await;
    match fetched {
        Err(_) => {}
        Ok(messages) => assert!(
            messages.iter().all(|m| m.body() != Some(&big[..])),
            "the cut connection delivered the whole message"
        ),
    }
    // (Not `noop()`: async-imap 0.11 answers Ok when the connection ends before the tagged reply.)
    assert!(
        s.run_command_and_check_ok("NOOP").await.is_err(),
        "the cut connection is closed"
    );
    assert_eq!(proxy.cuts(), 1);
    assert!(!proxy.is_armed());

    // The next connection passes untouched.
    let mut s = login(proxy.port).await;
    s.select("INBOX").await.unwrap();
    let messages: Vec<_> = s
        .fetch("1", "BODY.PEEK[]")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body(), Some(&big[..]));
    let _ = s.logout().await;
    assert_eq!(proxy.connections(), 2);
    assert_eq!(proxy.cuts(), 1);

    // Armed before a connection opens, it counts from that connection's start.
    proxy.arm(10);
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", proxy.port))
        .await
        .unwrap();
    let mut client = async_imap::Client::new(stream);
    let greeting = client.read_response().await;
    assert!(
        !matches!(greeting, Ok(Some(_))),
        "only 10 bytes of the greeting get through"
    );
    assert_eq!(proxy.connections(), 3);
    assert_eq!(proxy.cuts(), 2);
}

#[tokio::test]
async fn two_instances_run_side_by_side_and_clean_up_after_themselves() {
    let started = Instant::now();
    let (a, b) = tokio::join!(MailServers::start(), MailServers::start());
    eprintln!("two instances started in {:?}", started.elapsed());
    assert_ne!(a.imap_port, b.imap_port);
    assert_ne!(a.smtp_port, b.smtp_port);
    a.add_user(USER, "password-a");
    b.add_user(USER, "password-b");

    a.append(USER, "INBOX", b"Subject: only in a\r\n\r\na\r\n")
        .await;
    smtp(&b)
        .send(message(USER, "only in b", "b"))
        .await
        .unwrap();
    let in_a = a.fetch_all(USER, "INBOX").await;
    let in_b = b.fetch_all(USER, "INBOX").await;
    assert_eq!(in_a, vec![b"Subject: only in a\r\n\r\na\r\n".to_vec()]);
    assert_eq!(in_b.len(), 1);
    assert!(contains(&in_b[0], "Subject: only in b"));
    assert!(a.smtp_copies().is_empty());
    assert_eq!(b.smtp_copies().len(), 1);

    // Each has its own users: b's password does not open a.
    let wrong = a.connect_imap().await.login(USER, "password-b").await;
    assert!(wrong.is_err(), "a accepted b's password");

    // Dropping one stops every process of it and removes its directory; the other runs on.
    let (groups, dir, imap_port, smtp_port) =
        (a.process_groups(), a.dir.clone(), a.imap_port, a.smtp_port);
    assert_eq!(groups.len(), 2);
    assert!(!processes_in_groups(&groups).is_empty());
    let dropped = Instant::now();
    drop(a);
    eprintln!("one instance stopped in {:?}", dropped.elapsed());
    assert!(!dir.exists(), "{} left behind", dir.display());
    let left = processes_in_groups(&groups);
    assert!(left.is_empty(), "processes left behind: {left:?}");
    for port in [imap_port, smtp_port] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "127.0.0.1:{port} still answers"
        );
    }
    assert_eq!(b.fetch_all(USER, "INBOX").await.len(), 1);
}
