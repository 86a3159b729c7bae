//! Messaging provider accounts: refusals in words, blank secrets on edit and generated tokens,
//! the connection test (saved secrets, the provider's words without them), admins only.

use super::providers::{
    assert_no_secret, form, page, post, save, view, with, SAVE, TEST, TG_TOKEN, TW_TOKEN,
};
use super::ADMIN;
use crate::support::{spawn_app, Engine};
use app::domain::providers::{self, ProviderSpec};
use app::domain::ChannelKind;
use app::service;
use app::store::channel_accounts;
use std::collections::BTreeMap;

async fn refusals_are_in_words(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    // (provider, changes to its valid form, words the refusal holds)
    type Case<'a> = (&'a str, &'a [(&'static str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("twilio", &[("account_sid", "")], "Enter the Account SID."),
        ("twilio", &[("auth_token", "")], "Enter the Auth token."),
        ("twilio", &[("phone_number", "")], "Enter the Phone number."),
        ("twilio", &[("name", " ")], "Give the account a name."),
        (
            "twilio",
            &[("api_base", "api.twilio.com")],
            "is not a web address",
        ),
        (
            "twilio",
            &[("api_base", "https://api twilio.com")],
            "is not a web address",
        ),
        (
            "twilio",
            &[("api_base", "javascript:alert(1)")],
            "is not a web address",
        ),
        (
            "twilio",
            &[("phone_number", "555-0100")],
            "is not a phone number",
        ),
        (
            "twilio",
            &[("phone_number", "+1 555 CALL-NOW")],
            "is not a phone number",
        ),
        (
            "whatsapp",
            &[("display_number", "call us")],
            "is not a phone number",
        ),
        ("twilio", &[("default_region", "USA")], "Use two letters"),
        ("whatsapp", &[("default_region", "4")], "Use two letters"),
        (
            "twilio",
            &[("account_sid", "AC1\r\nX-Injected: 1")],
            "cannot contain line breaks",
        ),
        (
            "telegram",
            &[("secret_token", "has spaces in it")],
            "1 to 256 of the characters",
        ),
        (
            "telegram",
            &[("secret_token", "semi;colon")],
            "1 to 256 of the characters",
        ),
        ("telegram", &[("bot_token", "")], "Enter the Bot token."),
        ("messenger", &[("page_id", "")], "Enter the Page ID."),
        ("messenger", &[("provider", "pigeon")], "no provider called"),
        // Values that must look like what the provider issues.
        (
            "twilio",
            &[("account_sid", "AC123")],
            "Account SID: \"AC123\" is not a Twilio account SID",
        ),
        (
            "twilio",
            &[("account_sid", "ACzz23456789abcdef0123456789abcdef")],
            "32 hexadecimal digits",
        ),
        (
            "twilio",
            &[("messaging_service_sid", "service-1")],
            "is not a messaging service SID",
        ),
        (
            "twilio",
            &[("default_region", "ZZ")],
            "\"ZZ\" is not a region",
        ),
        ("whatsapp", &[("default_region", "XY")], "is not a region"),
        ("whatsapp", &[("phone_number_id", "1/../x")], "is not an id"),
        ("messenger", &[("page_id", "my page")], "is not an id"),
        (
            "telegram",
            &[("bot_username", "x")],
            "is not a bot username",
        ),
    ];
    for (provider, changes, words) in cases {
        // A connection can be tested before the account has a name.
        let paths: &[&str] = if changes[0].0 == "name" {
            &[SAVE]
        } else {
            &[SAVE, TEST]
        };
        for path in paths.iter().copied() {
            let (status, body) = post(&app, &c, path, &with(form(provider), changes)).await;
            assert_eq!(status, 400, "{path} {provider} {changes:?}: {body}");
            assert!(
                body.contains(words),
                "{path} {provider} {changes:?}: expected {words:?} in {body}"
            );
        }
    }
    for spec in providers::ALL {
        let n = channel_accounts::list_by_provider(&app.state.db, spec.id)
            .await
            .unwrap()
            .len();
        assert_eq!(n, 0, "nothing was stored for {}", spec.id);
    }
    // A plain form post (no JavaScript) goes back to the form with the words in the URL.
    let r = c
        .post(app.url(SAVE))
        .header("Origin", &app.addr)
        .header("Accept", "text/html")
        .header("Referer", app.url("/admin?add=twilio"))
        .form(&with(form("twilio"), &[("phone_number", "nope")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&app.url("/admin?add=twilio")) && to.contains("__err="),
        "{to}"
    );
    let html = page(&app, &c, to.trim_start_matches(&app.addr), &[]).await;
    assert!(
        html.contains("is not a phone number"),
        "the refusal is on the page"
    );
}

async fn blank_secrets_keep_the_saved_ones(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let id = save(&app, &c, &form("twilio")).await;
    let id_s = id.to_string();
    let again = save(
        &app,
        &c,
        &with(
            form("twilio"),
            &[
                ("id", &id_s),
                ("name", "Renamed"),
                ("auth_token", ""),
                ("default_region", "de"),
            ],
        ),
    )
    .await;
    assert_eq!(again, id);
    let row = channel_accounts::get(&app.state.db, id).await.unwrap();
    assert_eq!(
        (row.name.as_str(), row.setting("default_region").as_str()),
        ("Renamed", "DE")
    );
    assert_eq!(
        row.secret("auth_token"),
        TW_TOKEN,
        "the blank token kept the saved one"
    );
    save(
        &app,
        &c,
        &with(
            form("twilio"),
            &[("id", &id_s), ("auth_token", "tw-fresh-token")],
        ),
    )
    .await;
    let row = channel_accounts::get(&app.state.db, id).await.unwrap();
    assert_eq!(row.secret("auth_token"), "tw-fresh-token");

    // A plain form post is sent to the saved account's form.
    let r = c
        .post(app.url(SAVE))
        .header("Origin", &app.addr)
        .header("Accept", "text/html")
        .header("Referer", app.url(&format!("/admin?edit_provider={id}")))
        .form(&with(form("twilio"), &[("id", &id_s), ("auth_token", "")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(
        r.headers()["location"],
        format!("/admin?edit_provider={id}#provider-form")
    );

    // Telegram: a blank webhook secret is generated once, then kept.
    let tg = save(&app, &c, &with(form("telegram"), &[("secret_token", "")])).await;
    let secret = channel_accounts::get(&app.state.db, tg)
        .await
        .unwrap()
        .secret("secret_token");
    assert_eq!(secret.len(), 32, "{secret:?}");
    assert!(
        secret.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{secret:?}"
    );
    save(
        &app,
        &c,
        &with(
            form("telegram"),
            &[
                ("id", &tg.to_string()),
                ("secret_token", ""),
                ("bot_token", ""),
            ],
        ),
    )
    .await;
    let row = channel_accounts::get(&app.state.db, tg).await.unwrap();
    assert_eq!(
        (row.secret("secret_token"), row.secret("bot_token").as_str()),
        (secret.clone(), TG_TOKEN)
    );
    let v = view(&app, &c, &[("edit_provider", tg.to_string())]).await;
    assert_no_secret(
        "the form's data",
        &serde_json::to_string(&v).unwrap(),
        std::slice::from_ref(&secret),
    );
    page(
        &app,
        &c,
        &format!("/admin?edit_provider={tg}"),
        std::slice::from_ref(&secret),
    )
    .await;
    page(&app, &c, "/admin", &[secret]).await;

    // The provider cannot change, nor can another kind of account be edited here.
    let (status, body) = post(&app, &c, SAVE, &with(form("telegram"), &[("id", &id_s)])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not a Telegram bot account"), "{body}");
    let pg = channel_accounts::playground_for(&app.state.db, ChannelKind::Sms)
        .await
        .unwrap()
        .unwrap();
    let (status, body) = post(
        &app,
        &c,
        SAVE,
        &with(form("twilio"), &[("id", &pg.id.to_string())]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        channel_accounts::get(&app.state.db, pg.id)
            .await
            .unwrap()
            .provider,
        "playground"
    );
    let (status, _) = post(&app, &c, SAVE, &with(form("twilio"), &[("id", "999999")])).await;
    assert_eq!(status, 404);
}

async fn the_connection_test_uses_saved_secrets_and_answers_in_words(engine: Engine) {
    use base64::Engine as _;
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    // A Twilio stand-in that knows the account, under a name holding the token: the answer
    // must show the provider's words without it.
    let standin = standin::spawn("127.0.0.1:0").await.unwrap();
    let sid = "AC0123456789abcdef0123456789abcdef";
    standin.state.set_config(
        &format!("twilio:account:{sid}"),
        serde_json::json!({"auth_token": TW_TOKEN, "friendly_name": format!("Acme {TW_TOKEN}")}),
    );
    let api = standin.base_url.clone();
    let id = save(&app, &c, &with(form("twilio"), &[("api_base", &api)])).await;
    let id_s = id.to_string();

    // Blank token: the saved one is used; the answer is Twilio's, scrubbed.
    let test_form = with(
        form("twilio"),
        &[
            ("api_base", &api),
            ("id", &id_s),
            ("auth_token", ""),
            ("name", ""),
        ],
    );
    let (status, body) = post(&app, &c, TEST, &test_form).await;
    assert_eq!(status, 200, "{body}");
    let r: Result<String, String> = serde_json::from_str(&body).unwrap();
    let words = r.expect("the saved token signs in");
    assert!(
        words.contains("Signed in") && words.contains("Acme ••••"),
        "{words}"
    );
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{TW_TOKEN}"))
    );
    let seen = standin.state.requests(Some("twilio"));
    assert!(
        seen.iter().any(|r| r.path.contains(sid)
            && r.headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && *v == basic)),
        "the saved token was sent: {seen:?}"
    );

    // A typed token is used instead, and nothing is stored by a test.
    let wrong = with(test_form.clone(), &[("auth_token", "typed-wrong-token")]);
    let (status, body) = post(&app, &c, TEST, &wrong).await;
    assert_eq!(status, 200, "{body}");
    let r: Result<String, String> = serde_json::from_str(&body).unwrap();
    let words = r.expect_err("a wrong token is refused");
    assert!(words.contains("Authenticate"), "Twilio's words: {words}");
    assert!(!words.contains("typed-wrong-token"), "{words}");
    let row = channel_accounts::get(&app.state.db, id).await.unwrap();
    assert_eq!(row.secret("auth_token"), TW_TOKEN);

    // The account as tested, from the store: blank secrets filled from the saved ones.
    let spec: &ProviderSpec = &providers::TWILIO;
    let values: BTreeMap<String, String> = with(form("twilio"), &[("auth_token", "")])
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let row = service::provider_accounts::candidate(&app.state.db, Some(id), spec, "SMS", &values)
        .await
        .unwrap();
    assert_eq!(row.secret("auth_token"), TW_TOKEN);
    assert_eq!((row.id, row.address.as_str()), (id, "+15550100001"));

    // A new account has no saved token to fall back on.
    let (status, body) = post(&app, &c, TEST, &with(form("twilio"), &[("auth_token", "")])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Enter the Auth token."), "{body}");
}

/// A number or id another account of the provider has is refused, in words, next to its field;
/// the account itself may keep it when edited.
async fn an_address_in_use_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let first = save(&app, &c, &form("twilio")).await;
    // The same number, written another way.
    let again = with(
        form("twilio"),
        &[("name", "Second line"), ("phone_number", "+15550100001")],
    );
    let (status, body) = post(&app, &c, SAVE, &again).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Phone number: +15550100001 is already used by the account “Support twilio”"),
        "{body}"
    );
    assert_eq!(
        providers::TWILIO.field_of_error(&body[body.find("Phone number").unwrap()..]),
        Some("phone_number"),
        "{body}"
    );
    // Editing the account that has it keeps it.
    let id = first.to_string();
    let kept = save(
        &app,
        &c,
        &with(form("twilio"), &[("id", &id), ("name", "Renamed")]),
    )
    .await;
    assert_eq!(kept, first);
    // Another account cannot be changed to it.
    let other = save(
        &app,
        &c,
        &with(form("twilio"), &[("phone_number", "+15550100002")]),
    )
    .await;
    let (status, body) = post(
        &app,
        &c,
        SAVE,
        &with(form("twilio"), &[("id", &other.to_string())]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("already used"), "{body}");
    // Page and bot ids too; a Messenger and an Instagram account may share their page.
    save(&app, &c, &form("telegram")).await;
    let (status, body) = post(
        &app,
        &c,
        SAVE,
        &with(form("telegram"), &[("bot_username", "ACME_support_bot")]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("Bot username: ACME_support_bot is already used"),
        "{body}"
    );
    save(&app, &c, &form("messenger")).await;
    save(
        &app,
        &c,
        &with(form("instagram"), &[("page_id", "2000100")]),
    )
    .await;
    let (status, body) = post(&app, &c, SAVE, &with(form("messenger"), &[("name", "Dup")])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Page ID: 2000100 is already used"), "{body}");
}

/// A provider answering something else than its API (a proxy's page, a wrong base URL) is
/// described in words, never with a JSON parser's message.
async fn a_non_api_answer_is_described_in_words(engine: Engine) {
    use axum::routing::get;
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let site = axum::Router::new().fallback(get(|| async {
        axum::response::Html("<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body>hi</body></html>")
    }));
    tokio::spawn(async move { axum::serve(listener, site).await.unwrap() });
    for provider in ["twilio", "whatsapp", "messenger"] {
        let f = with(form(provider), &[("api_base", &base)]);
        let (status, body) = post(&app, &c, TEST, &f).await;
        assert_eq!(status, 200, "{body}");
        let r: Result<String, String> = serde_json::from_str(&body).unwrap();
        let words = r.expect_err("a web page is not a connection");
        assert!(
            words.contains("a web page titled “Welcome to nginx!”")
                && words.contains("Check the API base URL"),
            "{provider}: {words}"
        );
        for parser in ["expected value", "line 1 column", "EOF while parsing"] {
            assert!(!words.contains(parser), "{provider}: {words}");
        }
    }
}

async fn only_admins_manage_provider_accounts(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let id = save(&app, &admin, &form("twilio")).await.to_string();
    for (email, pw) in [
        ("support@convergence.test", "support-password-1"),
        ("marketing@convergence.test", "marketing-password-1"),
    ] {
        let c = app.login(email, pw).await;
        for (path, args) in [
            (SAVE, form("telegram")),
            (
                SAVE,
                with(form("twilio"), &[("id", &id), ("name", "Taken over")]),
            ),
            (TEST, form("twilio")),
            ("/api/admin/channels", vec![("add", "twilio".to_string())]),
            ("/api/admin/channels", vec![("edit_provider", id.clone())]),
        ] {
            let (status, body) = post(&app, &c, path, &args).await;
            assert_eq!(status, 403, "{email} {path}: {body}");
        }
        let r = c
            .get(app.url(&format!("/admin?edit_provider={id}")))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{email} /admin");
        assert_no_secret("the admin page", &r.text().await.unwrap(), &[]);
    }
    assert_eq!(
        channel_accounts::list_by_provider(&app.state.db, "telegram")
            .await
            .unwrap()
            .len(),
        0
    );
    let row = channel_accounts::get(&app.state.db, id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(row.name, "Support twilio");
}

crate::both_engines!(
    refusals_are_in_words,
    blank_secrets_keep_the_saved_ones,
    the_connection_test_uses_saved_secrets_and_answers_in_words,
    an_address_in_use_is_refused,
    a_non_api_answer_is_described_in_words,
    only_admins_manage_provider_accounts
);
