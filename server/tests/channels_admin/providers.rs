//! Messaging provider accounts (Twilio, WhatsApp, Messenger, Instagram, Telegram, website chat)
//! through the admin server functions: saving each provider with the form's data and webhook URL read
//! back, and the add form's defaults; the helpers `provider_checks.rs` shares. Secrets never
//! appear in a server function's answer or a rendered page.

use super::ADMIN;
use crate::support::{spawn_app, Engine, TestApp};
use app::domain::providers;
use app::domain::ChannelKind;
use app::model::ChannelsView;
use app::store::channel_accounts;
use std::collections::BTreeMap;

pub(crate) const TW_TOKEN: &str = "tw-auth-Qy71vB";
const WA_TOKEN: &str = "wa-access-Ld93kP";
const WA_APP: &str = "wa-app-Hs20mN";
const MS_TOKEN: &str = "ms-page-Vc58tR";
const MS_APP: &str = "ms-app-Jw14xE";
const IG_TOKEN: &str = "ig-page-Pk36zU";
const IG_APP: &str = "ig-app-Fn82yT";
pub(crate) const TG_TOKEN: &str = "123456:tg-bot-Gm47qW";
pub(crate) const TG_SECRET: &str = "tg_webhook-Bz09sK";
const CHAT_SECRET: &str = "chat-identity-Rk27dV";
const SECRETS: [&str; 10] = [
    TW_TOKEN,
    WA_TOKEN,
    WA_APP,
    MS_TOKEN,
    MS_APP,
    IG_TOKEN,
    IG_APP,
    TG_TOKEN,
    TG_SECRET,
    CHAT_SECRET,
];

pub(crate) type Form = Vec<(&'static str, String)>;

/// A valid form for a new account of `provider`, as typed (not yet normalised).
pub(crate) fn form(provider: &str) -> Form {
    let fields: &[(&'static str, &str)] = match provider {
        "twilio" => &[
            ("phone_number", "+1 (555) 010-0001"),
            ("account_sid", "AC0123456789abcdef0123456789abcdef"),
            ("auth_token", TW_TOKEN),
            ("messaging_service_sid", ""),
            ("api_base", "https://api.twilio.com/"),
            ("default_region", "gb"),
            ("help_reply", "Reply STOP to stop.\nWe answer 9 to 5."),
        ],
        "whatsapp" => &[
            ("phone_number_id", "109876543210"),
            ("display_number", "+44 20 7946 0958"),
            ("access_token", WA_TOKEN),
            ("app_secret", WA_APP),
            ("verify_token", "wa-verify-phrase"),
            ("api_base", "https://graph.facebook.com/v21.0"),
            ("default_region", "US"),
        ],
        "messenger" => &[
            ("page_id", "2000100"),
            ("page_access_token", MS_TOKEN),
            ("app_secret", MS_APP),
            ("verify_token", ""),
            ("api_base", "https://graph.facebook.com/v21.0"),
        ],
        "instagram" => &[
            ("page_id", "3000100"),
            ("page_access_token", IG_TOKEN),
            ("app_secret", IG_APP),
            ("verify_token", "ig-verify"),
            ("api_base", "https://graph.facebook.com/v21.0"),
        ],
        "telegram" => &[
            ("bot_username", "@acme_support_bot"),
            ("bot_token", TG_TOKEN),
            ("secret_token", TG_SECRET),
            ("api_base", "https://api.telegram.org"),
        ],
        "chat" => &[
            (
                "origins",
                "https://shop.example.com/\n\n HTTPS://*.Example.org ",
            ),
            ("greeting", "Hello!"),
            ("offline_message", "We are away."),
            ("colour", "#1F5FBF"),
            ("name_field", "optional"),
            ("email_field", "Required"),
            ("phone_field", "off"),
            ("ask_support_consent", "yes"),
            ("ask_marketing_consent", "no"),
            ("require_verified_identity", "no"),
            ("identity_secret", CHAT_SECRET),
        ],
        other => panic!("no form for {other}"),
    };
    let mut f: Form = vec![
        ("provider", provider.to_string()),
        ("name", format!("Support {provider}")),
    ];
    f.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    f
}

type Pairs = Vec<(&'static str, &'static str)>;

/// What each provider's form is stored as: (address, settings, secrets).
fn stored(provider: &str) -> (&'static str, Pairs, Pairs) {
    match provider {
        "twilio" => (
            "+15550100001",
            vec![
                ("phone_number", "+15550100001"),
                ("account_sid", "AC0123456789abcdef0123456789abcdef"),
                ("messaging_service_sid", ""),
                ("api_base", "https://api.twilio.com"),
                ("default_region", "GB"),
                ("help_reply", "Reply STOP to stop.\nWe answer 9 to 5."),
            ],
            vec![("auth_token", TW_TOKEN)],
        ),
        "whatsapp" => (
            "109876543210",
            vec![
                ("phone_number_id", "109876543210"),
                ("display_number", "+442079460958"),
                ("verify_token", "wa-verify-phrase"),
                ("api_base", "https://graph.facebook.com/v21.0"),
                ("default_region", "US"),
            ],
            vec![("access_token", WA_TOKEN), ("app_secret", WA_APP)],
        ),
        // The verify token was left blank: generated, checked apart.
        "messenger" => (
            "2000100",
            vec![
                ("page_id", "2000100"),
                ("api_base", "https://graph.facebook.com/v21.0"),
            ],
            vec![("page_access_token", MS_TOKEN), ("app_secret", MS_APP)],
        ),
        "instagram" => (
            "3000100",
            vec![
                ("page_id", "3000100"),
                ("verify_token", "ig-verify"),
                ("api_base", "https://graph.facebook.com/v21.0"),
            ],
            vec![("page_access_token", IG_TOKEN), ("app_secret", IG_APP)],
        ),
        "telegram" => (
            "acme_support_bot",
            vec![
                ("bot_username", "acme_support_bot"),
                ("api_base", "https://api.telegram.org"),
            ],
            vec![("bot_token", TG_TOKEN), ("secret_token", TG_SECRET)],
        ),
        "chat" => (
            "https://shop.example.com\nhttps://*.example.org",
            vec![
                ("origins", "https://shop.example.com\nhttps://*.example.org"),
                ("colour", "#1f5fbf"),
                ("email_field", "required"),
                ("ask_support_consent", "yes"),
            ],
            vec![("identity_secret", CHAT_SECRET)],
        ),
        other => panic!("nothing stored for {other}"),
    }
}

pub(crate) fn with(mut f: Form, changes: &[(&'static str, &str)]) -> Form {
    for (k, v) in changes {
        match f.iter_mut().find(|(fk, _)| fk == k) {
            Some(e) => e.1 = v.to_string(),
            None => f.push((k, v.to_string())),
        }
    }
    f
}

pub(crate) fn assert_no_secret(what: &str, body: &str, extra: &[String]) {
    for s in SECRETS
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
    {
        assert!(!body.contains(s), "{what} shows a secret ({s}): {body}");
    }
}

pub(crate) async fn post(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    f: &[(&'static str, String)],
) -> (u16, String) {
    let args: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.call(c, path, &args).await;
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_no_secret(path, &body, &[]);
    (status, body)
}

pub(crate) const SAVE: &str = "/api/admin/channels/provider/save";
pub(crate) const TEST: &str = "/api/admin/channels/provider/test";

pub(crate) async fn save(app: &TestApp, c: &reqwest::Client, f: &[(&'static str, String)]) -> i64 {
    let (status, body) = post(app, c, SAVE, f).await;
    assert_eq!(status, 200, "save: {body}");
    body.trim().parse().unwrap()
}

pub(crate) async fn view(
    app: &TestApp,
    c: &reqwest::Client,
    args: &[(&'static str, String)],
) -> ChannelsView {
    let (status, body) = post(app, c, "/api/admin/channels", args).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The admin page's server-rendered HTML, checked for secrets (`extra`: generated ones).
pub(crate) async fn page(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    extra: &[String],
) -> String {
    let r = c
        .get(app.url(path))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let html = r.text().await.unwrap();
    assert_no_secret(path, &html, extra);
    html
}

fn json_map(s: &str) -> BTreeMap<String, String> {
    serde_json::from_str(s).unwrap()
}

async fn each_provider_saves_with_valid_values(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    for spec in providers::ALL {
        let id = save(&app, &c, &form(spec.id)).await;
        let row = channel_accounts::get(&app.state.db, id).await.unwrap();
        assert_eq!(
            (row.channel, row.provider.as_str()),
            (spec.channel, spec.id)
        );
        assert_eq!(row.name, format!("Support {}", spec.id));
        let (address, settings, secrets) = stored(spec.id);
        assert_eq!(row.address, address, "{}", spec.id);
        let got_settings = json_map(&row.settings);
        let got_secrets = json_map(&row.secrets);
        for (k, v) in &settings {
            assert_eq!(
                got_settings.get(*k).map(String::as_str),
                Some(*v),
                "{} {k}",
                spec.id
            );
        }
        assert_eq!(
            got_secrets.len(),
            secrets.len(),
            "{}: {:?}",
            spec.id,
            got_secrets.keys()
        );
        for (k, v) in &secrets {
            assert_eq!(
                got_secrets.get(*k).map(String::as_str),
                Some(*v),
                "{} {k}",
                spec.id
            );
            assert!(
                !got_settings.contains_key(*k),
                "{}: secret {k} in settings",
                spec.id
            );
        }
        let verify = got_settings
            .get("verify_token")
            .cloned()
            .unwrap_or_default();
        if spec.id == "messenger" {
            assert_eq!(
                verify.len(),
                32,
                "a blank verify token is generated: {verify:?}"
            );
        }

        // The edit form: values without secrets, which secrets are saved, the webhook URL.
        let v = view(&app, &c, &[("edit_provider", id.to_string())]).await;
        let f = v.provider.clone().expect("the account's form");
        assert_eq!((f.provider.as_str(), f.id), (spec.id, Some(id)));
        assert_eq!(f.values.len(), spec.fields.len(), "{}", spec.id);
        for field in spec.fields {
            let value = f.values.get(field.key).map(String::as_str).unwrap_or("?");
            let want = match secrets.iter().any(|(k, _)| *k == field.key) {
                true => "",
                false => got_settings
                    .get(field.key)
                    .map(String::as_str)
                    .unwrap_or(""),
            };
            assert_eq!(value, want, "{} {}", spec.id, field.key);
        }
        let mut saved = f.saved.clone();
        saved.sort();
        let mut want: Vec<String> = secrets.iter().map(|(k, _)| k.to_string()).collect();
        want.sort();
        assert_eq!(saved, want, "{}", spec.id);
        let listed = v.rows.iter().find(|r| r.id == id).expect("listed");
        let html = page(&app, &c, &format!("/admin?edit_provider={id}"), &[]).await;
        if spec.channel == ChannelKind::Chat {
            // A website chat has no webhook: it has the line to paste into the site.
            let snippet = format!(
                "<script src=\"{}/chat/widget.js\" data-chat=\"{id}\" async></script>",
                app.addr
            );
            assert_eq!(f.snippet.as_deref(), Some(snippet.as_str()));
            assert_eq!(
                (f.webhook_url.as_deref(), listed.webhook_url.as_deref()),
                (None, None)
            );
            assert!(
                html.contains(&format!("{}/chat/widget.js", app.addr))
                    && html.contains("Embed code"),
                "the page shows the embed code"
            );
        } else {
            let webhook = format!("{}/webhooks/{}/{id}", app.addr, spec.id);
            assert_eq!(f.webhook_url.as_deref(), Some(webhook.as_str()));
            assert_eq!(f.snippet, None);
            assert_eq!(listed.webhook_url.as_deref(), Some(webhook.as_str()));
            assert!(
                html.contains(&webhook),
                "{}: the page shows the webhook URL",
                spec.id
            );
        }
        assert_eq!(
            f.status_url,
            (spec.id == "twilio").then(|| format!("{}/webhooks/twilio/{id}/status", app.addr))
        );
        assert_eq!(f.verify_token, spec.verify_token.then(|| verify.clone()));
        assert!(html.contains("Saved — leave blank to keep"), "{}", spec.id);
        assert!(
            html.contains(spec.console_hint.split(':').next().unwrap()),
            "{}",
            spec.id
        );
    }
    // Mailboxes and playground accounts have no webhook URL in the list.
    let v = view(&app, &c, &[]).await;
    assert!(v.provider.is_none());
    assert!(v.rows.iter().all(|r| r.webhook_url.is_some()
        == providers::by_id(&r.provider).is_some_and(|p| p.channel != ChannelKind::Chat)));
    assert_eq!(v.rows.iter().filter(|r| r.webhook_url.is_some()).count(), 5);
    let html = page(&app, &c, "/admin", &[]).await;
    assert!(html.contains(&format!("{}/webhooks/telegram/", app.addr)));
}

async fn the_add_form_starts_from_the_defaults(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let f = view(&app, &c, &[("add", "twilio".into())])
        .await
        .provider
        .expect("form");
    assert_eq!(
        (f.provider.as_str(), f.id, f.name.as_str()),
        ("twilio", None, "")
    );
    let defaults: std::collections::BTreeMap<String, String> = providers::TWILIO
        .fields
        .iter()
        .map(|f| (f.key.to_string(), f.default.to_string()))
        .collect();
    assert_eq!(f.values, defaults);
    assert_eq!(f.values["api_base"], "https://api.twilio.com");
    assert_eq!(
        (f.webhook_url, f.status_url, f.verify_token),
        (None, None, None)
    );
    let html = page(&app, &c, "/admin?add=telegram", &[]).await;
    assert!(html.contains("Add account: Telegram bot"), "{html}");
    assert!(html.contains("Bot token") && html.contains("Leave blank to generate one"));

    let (status, body) = post(&app, &c, "/api/admin/channels", &[("add", "pigeon".into())]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no provider called"), "{body}");
    let pg = channel_accounts::playground_for(&app.state.db, ChannelKind::Sms)
        .await
        .unwrap()
        .unwrap();
    let (status, body) = post(
        &app,
        &c,
        "/api/admin/channels",
        &[("edit_provider", pg.id.to_string())],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no messaging account"), "{body}");
}
crate::both_engines!(
    each_provider_saves_with_valid_values,
    the_add_form_starts_from_the_defaults
);
