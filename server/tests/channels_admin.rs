//! Email channel accounts through the admin server functions, on the real router with the real
//! channel runtime: create, read back, update with blank passwords, validation in words,
//! enable/disable, the connection test. Passwords never appear in a response. Messaging
//! provider accounts are in `channels_admin/providers.rs` and `provider_checks.rs`.

mod provider_checks;
mod providers;

use crate::support::{spawn_app, Engine, TestApp};
use app::domain::email_account::{EmailSettings, TlsMode};
use app::model::{ChannelsView, EmailForm};
use app::store::channel_accounts;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const ADMIN: (&str, &str) = ("admin@convergence.test", "admin-password-1");
const IMAP_PW: &str = "imap-secret-Kx81q";
const SMTP_PW: &str = "smtp-secret-Zt42w";

/// A valid form for a new account; servers on 127.0.0.1 port 1, so nothing answers.
fn form() -> Vec<(&'static str, String)> {
    [
        ("name", "Support mailbox"),
        ("address", "Support@Example.COM"),
        ("from_name", "Example Support"),
        ("imap_host", "127.0.0.1"),
        ("imap_port", "1"),
        ("imap_tls", "none"),
        ("imap_user", "support@example.com"),
        ("imap_password", IMAP_PW),
        ("imap_folder", "INBOX"),
        ("import", "since"),
        ("import_since", "2026-01-31"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", "1"),
        ("smtp_tls", "none"),
        ("smtp_user", "support@example.com"),
        ("smtp_password", SMTP_PW),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

fn with(
    mut f: Vec<(&'static str, String)>,
    changes: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    for (k, v) in changes {
        match f.iter_mut().find(|(fk, _)| fk == k) {
            Some(e) => e.1 = v.to_string(),
            None => f.push((k, v.to_string())),
        }
    }
    f
}

async fn post(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    f: &[(&'static str, String)],
) -> (u16, String) {
    let args: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.call(c, path, &args).await;
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert!(
        !body.contains(IMAP_PW) && !body.contains(SMTP_PW),
        "{path} answered with a password: {body}"
    );
    (status, body)
}

async fn save(app: &TestApp, c: &reqwest::Client, f: &[(&'static str, String)]) -> i64 {
    let (status, body) = post(app, c, "/api/admin/channels/email/save", f).await;
    assert_eq!(status, 200, "save: {body}");
    body.trim().parse().unwrap()
}

async fn page(c: &reqwest::Client, url: String) -> String {
    let r = c
        .get(url)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        !html.contains(IMAP_PW) && !html.contains(SMTP_PW),
        "the admin page shows a password"
    );
    html
}

async fn create_and_read_back_without_passwords(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let id = save(&app, &c, &form()).await;

    let row = channel_accounts::get(&app.state.db, id).await.unwrap();
    assert_eq!(row.channel, app::domain::ChannelKind::Email);
    assert_eq!(row.provider, "email");
    assert_eq!(
        row.address, "support@example.com",
        "normalised From address"
    );
    assert!(row.enabled);
    let s: EmailSettings = serde_json::from_str(&row.settings).unwrap();
    assert_eq!(
        s,
        EmailSettings {
            from_name: "Example Support".into(),
            imap_host: "127.0.0.1".into(),
            imap_port: 1,
            imap_tls: TlsMode::None,
            imap_user: "support@example.com".into(),
            imap_folder: "INBOX".into(),
            import_since: Some("2026-01-31".into()),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 1,
            smtp_tls: TlsMode::None,
            smtp_user: "support@example.com".into(),
        }
    );
    assert!(!row.settings.contains(IMAP_PW) && !row.settings.contains(SMTP_PW));
    let secrets: serde_json::Value = serde_json::from_str(&row.secrets).unwrap();
    assert_eq!(secrets["imap_password"], IMAP_PW);
    assert_eq!(secrets["smtp_password"], SMTP_PW);

    // The edit form's data: everything but the passwords, which are only said to be saved.
    let (status, body) = post(&app, &c, "/api/admin/channels", &[("edit", id.to_string())]).await;
    assert_eq!(status, 200, "{body}");
    let view: ChannelsView = serde_json::from_str(&body).unwrap();
    let got = view.edit.expect("the account to edit");
    assert_eq!(
        got,
        EmailForm {
            id: id.to_string(),
            name: "Support mailbox".into(),
            address: "support@example.com".into(),
            from_name: "Example Support".into(),
            imap_host: "127.0.0.1".into(),
            imap_port: "1".into(),
            imap_tls: "none".into(),
            imap_user: "support@example.com".into(),
            imap_password: String::new(),
            imap_folder: "INBOX".into(),
            import: "since".into(),
            import_since: "2026-01-31".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: "1".into(),
            smtp_tls: "none".into(),
            smtp_user: "support@example.com".into(),
            smtp_password: String::new(),
        }
    );
    assert!(view.imap_password_saved && view.smtp_password_saved);
    let row = view.rows.iter().find(|r| r.id == id).expect("listed");
    assert_eq!(row.name, "Support mailbox");
    assert!(row.enabled);
    assert!(view
        .rows
        .iter()
        .any(|r| r.provider == "playground" && r.phase.is_none()));
    // Only email accounts open in the form.
    let pg = channel_accounts::playground_for(&app.state.db, app::domain::ChannelKind::Sms)
        .await
        .unwrap()
        .unwrap();
    let (status, body) = post(
        &app,
        &c,
        "/api/admin/channels",
        &[("edit", pg.id.to_string())],
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let html = page(&c, app.url("/admin")).await;
    assert!(html.contains("Support mailbox"));
    let html = page(&c, app.url(&format!("/admin?edit={id}"))).await;
    assert!(html.contains("Edit email account"));
    assert!(
        html.contains("Password saved; blank keeps it"),
        "the form says a password is saved"
    );

    // Another mailbox alongside.
    let second = save(
        &app,
        &c,
        &with(
            form(),
            &[
                ("name", "Sales"),
                ("address", "sales@example.com"),
                ("import", "all"),
            ],
        ),
    )
    .await;
    assert_ne!(second, id);
    let row = channel_accounts::get(&app.state.db, second).await.unwrap();
    assert_eq!(row.email_settings().import_since, None);
    assert_eq!(
        channel_accounts::list_by_provider(&app.state.db, app::domain::email_account::PROVIDER)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn blank_passwords_keep_the_stored_ones(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let id = save(&app, &c, &form()).await;
    let id_s = id.to_string();
    let again = save(
        &app,
        &c,
        &with(
            form(),
            &[
                ("id", &id_s),
                ("name", "Renamed"),
                ("imap_host", "imap.example.com"),
                ("imap_password", ""),
                ("smtp_password", ""),
            ],
        ),
    )
    .await;
    assert_eq!(again, id, "an update keeps the id");
    let row = channel_accounts::get(&app.state.db, id).await.unwrap();
    assert_eq!(row.name, "Renamed");
    assert_eq!(row.email_settings().imap_host, "imap.example.com");
    let s = row.email_secrets();
    assert_eq!(s.imap_password, IMAP_PW);
    assert_eq!(s.smtp_password, SMTP_PW);

    // A new SMTP password replaces only that one.
    save(
        &app,
        &c,
        &with(
            form(),
            &[
                ("id", &id_s),
                ("imap_password", ""),
                ("smtp_password", "fresh-smtp-pw"),
            ],
        ),
    )
    .await;
    let s = channel_accounts::get(&app.state.db, id)
        .await
        .unwrap()
        .email_secrets();
    assert_eq!(s.imap_password, IMAP_PW);
    assert_eq!(s.smtp_password, "fresh-smtp-pw");

    // A new account needs its IMAP password.
    let (status, body) = post(
        &app,
        &c,
        "/api/admin/channels/email/save",
        &with(form(), &[("imap_password", "")]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("IMAP password"), "{body}");
    // Editing a playground account as email is refused.
    let pg = channel_accounts::playground_for(&app.state.db, app::domain::ChannelKind::Email)
        .await
        .unwrap()
        .unwrap();
    let (status, body) = post(
        &app,
        &c,
        "/api/admin/channels/email/save",
        &with(form(), &[("id", &pg.id.to_string())]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not an email account"), "{body}");
}

async fn invalid_input_is_refused_in_words(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("imap_port", "0")], "1 to 65535"),
        (&[("smtp_port", "70000")], "1 to 65535"),
        (&[("imap_port", "abc")], "1 to 65535"),
        (
            &[("imap_host", "imap.example.com\r\nX-Injected: 1")],
            "line breaks",
        ),
        (&[("smtp_host", "smtp example com")], "not a host name"),
        (&[("imap_host", "")], "IMAP host"),
        (
            &[("from_name", "Support\nBcc: x@evil.example")],
            "line breaks",
        ),
        (&[("address", "not-an-address")], "not an email address"),
        (
            &[("address", "a@b.com\r\nBcc: x@evil.example")],
            "line breaks",
        ),
        (&[("import_since", "2026-02-30")], "YYYY-MM-DD"),
        (&[("import_since", "yesterday")], "YYYY-MM-DD"),
        (&[("import_since", "")], "date to import"),
        (&[("imap_tls", "ssl")], "TLS, STARTTLS or none"),
        (&[("imap_folder", " ")], "folder"),
        (&[("imap_user", "")], "IMAP user"),
        (&[("name", "")], "name"),
    ];
    for (changes, words) in cases {
        for path in ["/api/admin/channels/email/save", "/api/admin/channels/test"] {
            let (status, body) = post(&app, &c, path, &with(form(), changes)).await;
            assert_eq!(status, 400, "{path} {changes:?}: {body}");
            assert!(
                body.contains(words),
                "{path} {changes:?}: expected {words:?} in {body}"
            );
        }
    }
    assert!(channel_accounts::list_by_provider(
        &app.state.db,
        app::domain::email_account::PROVIDER
    )
    .await
    .unwrap()
    .is_empty());
    // Leap days are real dates.
    save(&app, &c, &with(form(), &[("import_since", "2028-02-29")])).await;
}

async fn accounts_are_enabled_and_disabled(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let id = save(&app, &c, &form()).await.to_string();
    let enabled = |app: &TestApp| {
        let db = app.state.db.clone();
        let id: i64 = id.parse().unwrap();
        async move { channel_accounts::get(&db, id).await.unwrap().enabled }
    };
    let set = |v: &str| vec![("id", id.clone()), ("enabled", v.to_string())];
    let (status, body) = post(&app, &c, "/api/admin/channels/enable", &set("false")).await;
    assert_eq!(status, 200, "{body}");
    assert!(!enabled(&app).await);
    let (_, body) = post(&app, &c, "/api/admin/channels", &[]).await;
    let view: ChannelsView = serde_json::from_str(&body).unwrap();
    let row = view.rows.iter().find(|r| r.id.to_string() == id).unwrap();
    assert!(!row.enabled);
    let (status, body) = post(&app, &c, "/api/admin/channels/enable", &set("true")).await;
    assert_eq!(status, 200, "{body}");
    assert!(enabled(&app).await);

    let pg = channel_accounts::playground_for(&app.state.db, app::domain::ChannelKind::Sms)
        .await
        .unwrap()
        .unwrap();
    let (status, body) = post(
        &app,
        &c,
        "/api/admin/channels/enable",
        &[("id", pg.id.to_string()), ("enabled", "false".into())],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Playground"), "{body}");
    assert!(
        channel_accounts::get(&app.state.db, pg.id)
            .await
            .unwrap()
            .enabled
    );
    let (status, _) = post(
        &app,
        &c,
        "/api/admin/channels/enable",
        &[("id", "999999".into()), ("enabled", "true".into())],
    )
    .await;
    assert_eq!(status, 404);
}

/// Answers an IMAP greeting, records what the client sends and refuses LOGIN.
async fn fake_imap() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w
                    .write_all(b"* OK [CAPABILITY IMAP4rev1] fake ready\r\n")
                    .await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let _ = tx.send(line.clone());
                    let tag = line.split(' ').next().unwrap_or("*").to_string();
                    let answer = if line.to_ascii_uppercase().contains(" LOGIN ") {
                        format!("{tag} NO [AUTHENTICATIONFAILED] fake server refuses everyone\r\n")
                    } else if line.to_ascii_uppercase().contains("CAPABILITY") {
                        format!("* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n")
                    } else {
                        format!("{tag} NO not here\r\n")
                    };
                    let _ = w.write_all(answer.as_bytes()).await;
                }
            });
        }
    });
    (port, rx)
}

async fn test_connection_answers_the_servers_words(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    // Nothing listens on port 1: the answer is an Err in words, not a failed request.
    let (status, body) = post(&app, &c, "/api/admin/channels/test", &form()).await;
    assert_eq!(status, 200, "{body}");
    let r: Result<String, String> = serde_json::from_str(&body).unwrap();
    let words = r.expect_err("nothing answers on port 1");
    assert!(!words.trim().is_empty());

    // An existing account with blank password fields is tested with its saved passwords.
    let id = save(&app, &c, &form()).await.to_string();
    post(
        &app,
        &c,
        "/api/admin/channels/enable",
        &[("id", id.clone()), ("enabled", "false".into())],
    )
    .await;
    let (port, mut seen) = fake_imap().await;
    let port = port.to_string();
    let (status, body) = post(
        &app,
        &c,
        "/api/admin/channels/test",
        &with(
            form(),
            &[
                ("id", &id),
                ("imap_port", &port),
                ("imap_password", ""),
                ("smtp_password", ""),
            ],
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let r: Result<String, String> = serde_json::from_str(&body).unwrap();
    let words = r.expect_err("the fake server refuses the login");
    assert!(
        words.contains("fake server refuses everyone"),
        "the server's own words: {words}"
    );
    let mut got = Vec::new();
    while let Ok(line) = seen.try_recv() {
        got.push(line);
    }
    assert!(
        got.iter()
            .any(|l| l.contains(" LOGIN ") && l.contains(IMAP_PW)),
        "the saved IMAP password was used: {got:?}"
    );
}

both_engines!(
    create_and_read_back_without_passwords,
    blank_passwords_keep_the_stored_ones,
    invalid_input_is_refused_in_words,
    accounts_are_enabled_and_disabled,
    test_connection_answers_the_servers_words
);
