//! The customer's preference center (issue 18) over HTTP, on both engines: the signed link,
//! refused when forged, garbled, expired, or once the customer was merged (with a fresh link
//! sent where the old one went); every choice taking effect at once in the reply options, the
//! outbox, the customer panel, the timeline and the audit trail; adding an address with a code
//! (a wrong code refused, a right one joining, another customer's address merging them);
//! removal; the browser's language; rate limits; no scripts.

use super::harness::*;
use crate::support::{Engine, TestApp, TEST_SECRET};
use app::domain::consent::{source, Purpose};
use app::domain::ChannelKind;
use app::service;
use app::ssr::pref_token;
use app::store::now_ms;
use server::workers::outbox::deliver_due;
use sqlx::Row;

both_engines!(
    a_signed_link_opens_the_page_and_nothing_else_does,
    choices_take_effect_everywhere_at_once,
    an_address_joins_only_with_its_code,
    a_merged_customers_link_is_refused_and_a_fresh_one_is_sent,
);

fn link(app: &TestApp, identifier: i64, customer: i64) -> String {
    app.url(&format!(
        "/p/{}",
        pref_token::sign(TEST_SECRET.as_bytes(), identifier, customer, now_ms())
    ))
}

/// Posts `form` to `url` as the page's own form would (our origin).
async fn post(app: &TestApp, url: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = app
        .client()
        .post(url)
        .header("origin", app.addr.clone())
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn get(app: &TestApp, url: &str, lang: &str) -> (u16, String) {
    let r = app
        .client()
        .get(url)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The newest automatic message in `conversation` (codes and links go out as such).
async fn last_automatic(app: &TestApp, conversation: i64) -> (i64, String) {
    let r = sqlx::query(
        "SELECT identifier_id, body_text FROM messages WHERE conversation_id = $1 AND automatic = 1 ORDER BY id DESC LIMIT 1",
    )
    .bind(conversation)
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    (r.get("identifier_id"), r.get("body_text"))
}

async fn a_signed_link_opens_the_page_and_nothing_else_does(engine: Engine) {
    let app = quiet_app(engine).await;
    let ada = customer(&app.state.db, "Ada Lovelace").await;
    let url = link(&app, ada.id_of("email"), ada.customer);

    let (status, page) = get(&app, &url, "en-GB,en;q=0.9").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("How we reach you"));
    // Masked: the page never shows an address whole.
    assert!(page.contains("ada***@example.com"), "{page}");
    assert!(page.contains("+1 *** *** 0101"), "{page}");
    assert!(!page.contains("ada.lovelace@example.com") && !page.contains("4155550101"));
    assert!(!page.contains("<script"), "no scripts on the page");
    // Tiny: the whole page, styles included, in one small response.
    eprintln!("preference center page: {} bytes", page.len());
    assert!(page.len() < 16 * 1024, "{} bytes", page.len());
    // Every form control has a label a screen reader reads.
    assert!(page.contains("aria-label=\"Answers to your questions: SMS +1 *** *** 0101\""));

    // The browser's language.
    let (_, es) = get(&app, &url, "es-ES,es;q=0.9,en;q=0.5").await;
    assert!(
        es.contains("Cómo te contactamos") && es.contains("lang=\"es\""),
        "{es}"
    );
    let (_, forced) = get(&app, &format!("{url}?lang=en"), "es").await;
    assert!(forced.contains("How we reach you"));

    // Forged, garbled, another customer's id with this MAC, expired.
    let token = url.rsplit('/').next().unwrap().to_string();
    let parts: Vec<&str> = token.split('.').collect();
    let other = format!(
        "{}.{}.{}.{}",
        parts[0],
        ada.customer + 1,
        parts[2],
        parts[3]
    );
    for (bad, want) in [
        (
            format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], "0".repeat(24)),
            404,
        ),
        (other, 404),
        (token[..token.len() - 3].to_string(), 400),
        ("1.2.x.zz".to_string(), 400),
    ] {
        let (s, body) = get(&app, &app.url(&format!("/p/{bad}")), "en").await;
        assert_eq!(s, want, "{bad}: {body}");
        assert!(
            !body.contains("ada***"),
            "a refused link shows nothing of the customer"
        );
    }
    let old = pref_token::sign(
        TEST_SECRET.as_bytes(),
        ada.id_of("email"),
        ada.customer,
        now_ms() - pref_token::TTL_MS - 7_200_000,
    );
    let (s, body) = get(&app, &app.url(&format!("/p/{old}")), "en").await;
    assert_eq!(s, 410);
    assert!(
        body.contains("Send me a new link") && !body.contains("ada***"),
        "{body}"
    );

    // A post from another site changes nothing.
    let r = app
        .client()
        .post(&url)
        .header("origin", "https://evil.example")
        .form(&[("action", "save"), ("preferred", "sms")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let none: Option<String> =
        sqlx::query_scalar("SELECT preferred_channel FROM customers WHERE id = $1")
            .bind(ada.customer)
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
    assert_eq!(none, None);
}

async fn choices_take_effect_everywhere_at_once(engine: Engine) {
    let (registry, counter) = counting_registry();
    let app = quiet_app(engine).await;
    let db = app.state.db.clone();
    let ada = customer(&db, "Ada Lovelace").await;
    let (email, phone, wa) = (
        ada.id_of("email"),
        ada.id_of("phone"),
        ada.id_of("whatsapp"),
    );
    let sam = user_id(&db, SUPPORT.0).await;
    // An SMS reply queued while allowed.
    let sms_account: i64 = sqlx::query_scalar(
        "SELECT id FROM channel_accounts WHERE channel = 'sms' AND enabled = 1 ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.read)
    .await
    .unwrap();
    let queued = service::reply::queue_reply(
        &db,
        ada.conversation,
        sms_account,
        phone,
        sam,
        "On its way.",
    )
    .await
    .unwrap();

    // Ada: no texts at all, marketing by email only, prefers WhatsApp, quiet 22:00–08:00 in
    // Madrid, marketing at most once a week.
    let url = link(&app, email, ada.customer);
    // No zone is assumed before she chooses one: quiet hours without one are refused in words.
    let (_, page) = get(&app, &url, "en").await;
    assert!(
        page.contains("<option value=\"\" selected>Choose your time zone</option>"),
        "{page}"
    );
    let (s, page) = post(
        &app,
        &url,
        &[
            ("action", "save"),
            ("quiet_from", "22:00"),
            ("quiet_until", "08:00"),
            ("zone", ""),
        ],
    )
    .await;
    assert!(
        page.contains("Choose your time zone, so quiet hours follow your clock."),
        "{s} {page}"
    );
    let unset: Option<i64> = sqlx::query_scalar("SELECT quiet_from FROM customers WHERE id = $1")
        .bind(ada.customer)
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(unset, None, "nothing saved");
    let (e, w) = (format!("{email}:s"), format!("{wa}:s"));
    let em = format!("{email}:m");
    let (s, page) = post(
        &app,
        &url,
        &[
            ("action", "save"),
            ("allow", &e),
            ("allow", &em),
            ("allow", &w),
            ("preferred", "whatsapp"),
            ("quiet_from", "22:00"),
            ("quiet_until", "08:00"),
            ("zone", "Europe/Madrid"),
            ("frequency", "1/7"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Your choices are saved."), "{page}");

    // Reply options explain, in words.
    let d = service::conversations::detail(&db, ada.conversation)
        .await
        .unwrap();
    let sms = d
        .reply_options
        .iter()
        .find(|o| o.channel == ChannelKind::Sms)
        .unwrap();
    let why = sms.unavailable.clone().expect("SMS refused");
    assert!(
        why.contains("the customer asked not to be reached on SMS"),
        "{why}"
    );
    assert!(d
        .reply_options
        .iter()
        .any(|o| o.channel == ChannelKind::Email && o.unavailable.is_none()));
    // The outbox refuses the reply queued before, and the provider is never called.
    deliver_due(&db, &app.state.hub, &registry).await.unwrap();
    let r = sqlx::query("SELECT delivery_state, failure_reason FROM messages WHERE id = $1")
        .bind(queued)
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(r.get::<String, _>("delivery_state"), "failed");
    let reason: String = r.get("failure_reason");
    assert!(
        reason.contains("the customer asked not to be reached on SMS"),
        "{reason}"
    );
    assert_eq!(counter.calls(), 0, "the provider is never called");

    // Consent history: source "preference center"; the panel and the timeline say it.
    let c = app::store::consent::newest(
        &mut db.read.acquire().await.unwrap(),
        phone,
        Purpose::Support,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!c.granted);
    assert_eq!(c.source, source::PREFERENCE_CENTER);
    let m = app::store::consent::current(&db, email, Purpose::Marketing)
        .await
        .unwrap()
        .unwrap();
    assert!(m.granted && m.source == source::PREFERENCE_CENTER);
    let view = service::customers::customer_view(&db, ada.customer)
        .await
        .unwrap();
    assert_eq!(view.preferred_channel, Some(ChannelKind::Whatsapp));
    assert_eq!(
        view.chosen.as_deref(),
        Some("Quiet hours 22:00–08:00 (Europe/Madrid), marketing at most once a week")
    );
    let event: String = sqlx::query_scalar(
        "SELECT body FROM events WHERE conversation_id = $1 AND kind = 'consent' ORDER BY id DESC LIMIT 1",
    )
    .bind(ada.conversation)
    .fetch_one(&db.read)
    .await
    .unwrap();
    assert!(
        event.starts_with("The customer changed their preferences"),
        "{event}"
    );
    assert!(
        event.contains("prefers WhatsApp") && event.contains("quiet hours 22:00–08:00"),
        "{event}"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE actor = 'the customer (preference center)' AND action = 'consent_changed'",
    )
    .fetch_one(&db.read)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The marketing reports count them under their source.
    let q = app::model::ReportQuery {
        tab: "reach".into(),
        range: "7".into(),
        ..Default::default()
    };
    let report = service::report_view::page(&db, &q, true).await.unwrap();
    let consent = report.sections.iter().find(|s| s.id == "consent").unwrap();
    let rows: Vec<Vec<String>> = consent
        .table
        .rows
        .iter()
        .map(|r| r.iter().map(|c| c.text.clone()).collect())
        .collect();
    assert!(
        rows.iter()
            .any(|r| r[1] == "Marketing" && r[2] == "Preference center" && r[3] == "given"),
        "{rows:?}"
    );

    // The page shows what holds now; saving the same again changes nothing.
    let (_, page) = get(&app, &url, "en").await;
    assert!(
        page.contains(&format!("value=\"{email}:m\" checked")),
        "{page}"
    );
    assert!(!page.contains(&format!("value=\"{phone}:s\" checked")));
    assert!(page.contains("value=\"22:00\"") && page.contains("value=\"Europe/Madrid\" selected"));
    let (_, again) = post(
        &app,
        &url,
        &[
            ("action", "save"),
            ("allow", &e),
            ("allow", &em),
            ("allow", &w),
            ("preferred", "whatsapp"),
            ("quiet_from", "22:00"),
            ("quiet_until", "08:00"),
            ("zone", "Europe/Madrid"),
            ("frequency", "1/7"),
        ],
    )
    .await;
    assert!(again.contains("Nothing changed."), "{again}");

    // Preferring email makes it the default reply (she last wrote on WhatsApp).
    let (s, _) = post(
        &app,
        &url,
        &[
            ("action", "save"),
            ("allow", &e),
            ("allow", &em),
            ("allow", &w),
            ("preferred", "email"),
            ("quiet_from", "22:00"),
            ("quiet_until", "08:00"),
            ("zone", "Europe/Madrid"),
            ("frequency", "1/7"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let d = service::conversations::detail(&db, ada.conversation)
        .await
        .unwrap();
    let by_email = d
        .reply_options
        .iter()
        .find(|o| o.channel == ChannelKind::Email)
        .unwrap();
    assert_eq!(d.default_reply, Some(by_email.key()));

    // Mistakes come back in words, and change nothing.
    for (form, words) in [
        (
            vec![("action", "save"), ("quiet_from", "22:00")],
            "Give both times",
        ),
        (
            vec![("action", "save"), ("zone", "Mars/Olympus")],
            "Pick a time zone",
        ),
        (
            vec![("action", "save"), ("frequency", "99/1")],
            "Pick how often",
        ),
        (
            vec![("action", "save"), ("preferred", "telegram")],
            "Nothing changed.",
        ),
    ] {
        let (s, body) = post(&app, &url, &form).await;
        assert_eq!(s, 422, "{form:?}");
        assert!(body.contains(words), "{form:?}: {body}");
    }
    assert!(
        app::store::consent::current(&db, email, Purpose::Marketing)
            .await
            .unwrap()
            .unwrap()
            .granted,
        "a refused form changed nothing"
    );

    // Asking to remove the phone: nothing is sent there any more; the timeline asks an agent.
    let target = phone.to_string();
    let (s, body) = post(&app, &url, &[("action", "remove"), ("target", &target)]).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("You asked us to remove this"), "{body}");
    let m = app::store::consent::current(&db, phone, Purpose::Marketing)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        m.detail.as_deref(),
        Some(service::preferences::REMOVAL_DETAIL)
    );
    // Another customer's identifier cannot be named.
    let grace = customer(&db, "Grace Hopper").await;
    let theirs = grace.id_of("email").to_string();
    let (s, _) = post(&app, &url, &[("action", "remove"), ("target", &theirs)]).await;
    assert_eq!(s, 422);
    assert!(
        app::store::consent::current(&db, grace.id_of("email"), Purpose::Support)
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_address_joins_only_with_its_code(engine: Engine) {
    let app = quiet_app(engine).await;
    let db = app.state.db.clone();
    let ada = customer(&db, "Ada Lovelace").await;
    let url = link(&app, ada.id_of("email"), ada.customer);
    let new = format!("ada.work{}@example.org", now_ms() % 1_000_000);

    // Not an address: refused in words.
    let (s, body) = post(
        &app,
        &url,
        &[
            ("action", "code"),
            ("kind", "email"),
            ("value", "not an address"),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert!(body.contains("does not look like"), "{body}");

    // A code from two days ago, left behind: asking for a new one clears it.
    sqlx::query(
        "INSERT INTO preference_codes (customer_id, kind, value, code_hash, created_at, expires_at) \
         VALUES ($1, 'email', 'old@example.org', 'x', $2, $2)",
    )
    .bind(ada.customer)
    .bind(now_ms() - 2 * 86_400_000)
    .execute(&db.write)
    .await
    .unwrap();
    let (s, body) = post(
        &app,
        &url,
        &[("action", "code"), ("kind", "email"), ("value", &new)],
    )
    .await;
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM preference_codes WHERE value = 'old@example.org'")
            .fetch_one(&db.read)
            .await
            .unwrap();
    assert_eq!(left, 0, "old codes are pruned");
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("a code is on its way"), "{body}");
    let (to, text) = last_automatic(&app, ada.conversation).await;
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    assert_eq!(code.len(), 6, "{text}");
    // Until the code comes back it is an unverified suggestion, shown nowhere on the page.
    let verified: i64 = sqlx::query_scalar("SELECT verified FROM identifiers WHERE id = $1")
        .bind(to)
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(verified, 0);

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, body) = post(&app, &url, &[("action", "confirm"), ("code", wrong)]).await;
    assert_eq!(s, 422);
    assert!(body.contains("That code is not right"), "{body}");
    let (s, body) = post(&app, &url, &[("action", "confirm"), ("code", &code)]).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("Added."), "{body}");
    let (owner, verified): (i64, i64) = {
        let r = sqlx::query("SELECT customer_id, verified FROM identifiers WHERE id = $1")
            .bind(to)
            .fetch_one(&db.read)
            .await
            .unwrap();
        (r.get("customer_id"), r.get("verified"))
    };
    assert_eq!((owner, verified), (ada.customer, 1));
    // A used code does not work twice.
    let (s, _) = post(&app, &url, &[("action", "confirm"), ("code", &code)]).await;
    assert_eq!(s, 422);

    // Another customer's address: the code goes there; confirmed, the two customers join by
    // the reversible merge.
    let grace = customer(&db, "Grace Hopper").await;
    let (s, _) = post(
        &app,
        &url,
        &[
            ("action", "code"),
            ("kind", "email"),
            ("value", "GRACE@navy.example.org"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let (to, text) = last_automatic(&app, grace.conversation).await;
    assert_eq!(to, grace.id_of("email"));
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    let (s, body) = post(&app, &url, &[("action", "confirm"), ("code", &code)]).await;
    assert_eq!(s, 200, "{body}");
    let merged: Option<i64> =
        sqlx::query_scalar("SELECT merged_into_id FROM customers WHERE id = $1")
            .bind(grace.customer)
            .fetch_one(&db.read)
            .await
            .unwrap();
    assert_eq!(merged, Some(ada.customer));

    // An agent takes Ada's first address away: its link no longer opens her page, and a fresh
    // link goes by the same channel to another of her confirmed addresses.
    let first = ada.id_of("email");
    service::identifiers::remove(&db, ada.customer, first)
        .await
        .unwrap();
    let (s, body) = get(&app, &url, "en").await;
    assert_eq!(s, 410, "{body}");
    assert!(
        body.contains("Send me a new link") && !body.contains("wor***"),
        "{body}"
    );
    let (s, body) = post(&app, &url, &[("action", "fresh")]).await;
    assert_eq!(s, 200, "{body}");
    let (to, text) = last_automatic(&app, ada.conversation).await;
    assert_ne!(to, first);
    let (owner, kind): (i64, String) = {
        let r = sqlx::query("SELECT customer_id, kind FROM identifiers WHERE id = $1")
            .bind(to)
            .fetch_one(&db.read)
            .await
            .unwrap();
        (r.get("customer_id"), r.get("kind"))
    };
    assert_eq!((owner, kind.as_str()), (ada.customer, "email"));
    assert!(text.starts_with("Choose how we reach you: "), "{text}");

    // Codes are limited per customer (whichever link asks): the sixth in an hour is refused.
    let url = link(&app, to, ada.customer);
    let mut last = 0;
    for i in 0..4 {
        let v = format!("limit{i}-{}@example.org", now_ms());
        last = post(
            &app,
            &url,
            &[("action", "code"), ("kind", "email"), ("value", &v)],
        )
        .await
        .0;
    }
    assert_eq!(last, 429);
}

async fn a_merged_customers_link_is_refused_and_a_fresh_one_is_sent(engine: Engine) {
    let app = quiet_app(engine).await;
    let db = app.state.db.clone();
    let ada = customer(&db, "Ada Lovelace").await;
    let grace = customer(&db, "Grace Hopper").await;
    let grace_link = link(&app, grace.id_of("email"), grace.customer);
    assert_eq!(get(&app, &grace_link, "en").await.0, 200);
    let sam = user_id(&db, SUPPORT.0).await;
    service::merge::merge(&db, ada.customer, grace.customer, sam)
        .await
        .unwrap();

    let (s, body) = get(&app, &grace_link, "en").await;
    assert_eq!(s, 410, "{body}");
    assert!(
        body.contains("brought together") && body.contains("Send me a new link"),
        "{body}"
    );
    assert!(!body.contains("ada***") && !body.contains("grace***"));
    // A save on the old page is refused too.
    let (s, _) = post(&app, &grace_link, &[("action", "save"), ("preferred", "")]).await;
    assert_eq!(s, 410);

    // The fresh link goes where the old one went: Grace's email, now in Ada's conversation,
    // and it opens Ada's (the survivor's) page.
    let (s, body) = post(&app, &grace_link, &[("action", "fresh")]).await;
    assert_eq!(s, 200, "{body}");
    let (to, text) = last_automatic(&app, ada.conversation).await;
    assert_eq!(to, grace.id_of("email"));
    let fresh = text
        .split_whitespace()
        .find(|w| w.contains("/p/"))
        .unwrap()
        .to_string();
    let (s, page) = get(&app, &fresh, "en").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("gra***@navy.example.org") && page.contains("ada***@example.com"),
        "{page}"
    );
    // Once per ten minutes.
    let (s, _) = post(&app, &grace_link, &[("action", "fresh")]).await;
    assert_eq!(s, 429);

    // A number an agent took away from Ada: its old (expired) link sends nothing anywhere.
    let phone = ada.id_of("phone");
    service::identifiers::remove(&db, ada.customer, phone)
        .await
        .unwrap();
    let old = pref_token::sign(
        TEST_SECRET.as_bytes(),
        phone,
        ada.customer,
        now_ms() - pref_token::TTL_MS - 7_200_000,
    );
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE automatic = 1")
        .fetch_one(&db.read)
        .await
        .unwrap();
    let (s, body) = post(&app, &app.url(&format!("/p/{old}")), &[("action", "fresh")]).await;
    assert_eq!(s, 410, "{body}");
    assert!(body.contains("We hold no other address of yours"), "{body}");
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE automatic = 1")
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(before, after, "nothing was sent");
}
