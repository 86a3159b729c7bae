//! Consent per identifier and purpose, on SQLite and PostgreSQL: agents (and marketing, for
//! marketing) record changes with a reason and every role reads the history; email
//! unsubscribe links; the CSV import; the outbox refusing what an opt-out forbids.

mod harness;
mod import;
mod outbox;
mod preferences;
mod unsubscribe;

use crate::support::{spawn_app, Engine};
use app::domain::consent::{ConsentStatus, Purpose};
use app::model::CustomerConsent;
use harness::*;

async fn read_consent(
    app: &crate::support::TestApp,
    c: &reqwest::Client,
    customer: i64,
) -> CustomerConsent {
    let r = app
        .call(
            c,
            "/api/customer/consent",
            &[("customer_id", &customer.to_string())],
        )
        .await;
    assert_eq!(r.status(), 200, "read consent");
    r.json().await.unwrap()
}

async fn agents_record_changes_with_history_and_actor(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let ada = customer(&db, "Ada Lovelace").await;
    let (email, phone, wa) = (
        ada.id_of("email"),
        ada.id_of("phone"),
        ada.id_of("whatsapp"),
    );
    let sam = user_id(&db, SUPPORT.0).await;
    let support = app.login(SUPPORT.0, SUPPORT.1).await;

    // Nothing recorded: the default rule, for every role.
    let marketing = app.login(MARKETING.0, MARKETING.1).await;
    let before = read_consent(&app, &marketing, ada.customer).await;
    assert_eq!(before.identifiers.len(), ada.identifiers.len());
    for i in &before.identifiers {
        assert_eq!(i.support.status, ConsentStatus::Default);
        assert_eq!(i.marketing.status, ConsentStatus::Default);
        assert!(i.history.is_empty());
    }

    // Sam records a marketing yes on the email, then a marketing opt-out on the phone for
    // every channel, then a support opt-out on WhatsApp and back.
    let ok = |r: (u16, String)| assert_eq!(r.0, 200, "{}", r.1);
    ok(record(
        &app,
        &support,
        email,
        "marketing",
        "yes",
        "signed up at the counter",
        false,
    )
    .await);
    ok(record(
        &app,
        &support,
        phone,
        "marketing",
        "no",
        "  asked by phone ",
        true,
    )
    .await);
    ok(record(&app, &support, wa, "support", "no", "wrong number", false).await);
    ok(record(
        &app,
        &support,
        wa,
        "support",
        "yes",
        "it was the right number",
        false,
    )
    .await);

    let e = changes(&db, email, Purpose::Marketing).await;
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].granted && !e[1].granted);
    assert!(e
        .iter()
        .all(|c| c.source == "agent" && c.actor == Some(sam)));
    assert_eq!(e[1].detail.as_deref(), Some("asked by phone"), "trimmed");
    for id in [phone, wa] {
        let m = changes(&db, id, Purpose::Marketing).await;
        assert_eq!(m.len(), 1);
        assert!(!m[0].granted, "the opt-out applies to every identifier");
    }
    assert!(changes(&db, email, Purpose::Support).await.is_empty());

    // The marketing user sees the history, newest first, in words.
    let after = read_consent(&app, &marketing, ada.customer).await;
    let view = |id: i64| after.identifiers.iter().find(|i| i.id == id).unwrap();
    let em = view(email);
    assert_eq!(em.marketing.status, ConsentStatus::OptedOut);
    assert_eq!(em.support.status, ConsentStatus::Default);
    let since = em.marketing.since.as_ref().expect("what set it");
    assert_eq!(since.how, "set by Sam Support");
    assert_eq!(since.reason.as_deref(), Some("asked by phone"));
    assert_eq!(since.who.as_deref(), Some("Sam Support"));
    assert_eq!(em.history.len(), 2);
    assert!(
        !em.history[0].granted && em.history[1].granted,
        "newest first"
    );
    assert_eq!(
        em.history[1].reason.as_deref(),
        Some("signed up at the counter")
    );
    let w = view(wa);
    assert_eq!(w.support.status, ConsentStatus::Granted);
    assert_eq!(w.marketing.status, ConsentStatus::OptedOut);
    assert_eq!(w.history.len(), 3);
    assert!(!after.truncated);

    // Each change is on the timeline, with who did it.
    let evs = consent_events(&db, ada.conversation).await;
    assert_eq!(evs.len(), 4, "{evs:?}");
    assert_eq!(evs[1].0, Some(sam));
    assert_eq!(
        evs[1].1,
        "Sam Support recorded that +14155550101 opted out of marketing on every channel (asked by phone)"
    );
    assert!(
        evs[0]
            .1
            .contains("ada.lovelace@example.com agreed to marketing"),
        "{evs:?}"
    );

    // Marketing staff record marketing consent, not support consent.
    let mk = user_id(&db, MARKETING.0).await;
    ok(record(
        &app,
        &marketing,
        email,
        "marketing",
        "yes",
        "re-subscribed by phone",
        false,
    )
    .await);
    let e = changes(&db, email, Purpose::Marketing).await;
    assert_eq!((e.len(), e[2].granted, e[2].actor), (3, true, Some(mk)));
    let n = count_changes(&db).await;
    let (status, body) = record(&app, &marketing, email, "support", "no", "x", false).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("permission"), "{body}");
    assert_eq!(count_changes(&db).await, n, "nothing written");

    // Bad input is refused in words, and writes nothing.
    for (id, purpose, granted, reason, all, code, words) in [
        (email, "marketing", "no", "   ", false, 400, "Say why"),
        (
            email,
            "support",
            "no",
            "x",
            true,
            400,
            "marketing opt-outs only",
        ),
        (
            email,
            "marketing",
            "yes",
            "x",
            true,
            400,
            "marketing opt-outs only",
        ),
        (
            email,
            "sales",
            "no",
            "x",
            false,
            400,
            "support or marketing",
        ),
        (
            email,
            "marketing",
            "maybe",
            "x",
            false,
            400,
            "granted or opted out",
        ),
        (99_999_999, "marketing", "no", "x", false, 404, "Not found"),
    ] {
        let (status, body) = record(&app, &support, id, purpose, granted, reason, all).await;
        assert_eq!(status, code, "{purpose} {granted} {reason:?}: {body}");
        assert!(body.contains(words), "{body}");
    }
    assert_eq!(count_changes(&db).await, n);
    let missing = app
        .call(
            &marketing,
            "/api/customer/consent",
            &[("customer_id", "99999999")],
        )
        .await;
    assert_eq!(missing.status(), 404);
}

/// The form works without JavaScript: a plain form post records and redirects back.
async fn the_form_posts_without_javascript(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let grace = customer(&db, "Grace Hopper").await;
    let email = grace.id_of("email");
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let back = app.url(&format!("/inbox/{}", grace.conversation));
    let r = c
        .post(app.url("/api/customer/consent/record"))
        .header("Origin", &app.addr)
        .header("Referer", &back)
        .header("Accept", "text/html,application/xhtml+xml")
        .form(&[
            ("identifier_id", email.to_string().as_str()),
            ("purpose", "marketing"),
            ("granted", "no"),
            ("reason", "unsubscribed at the fair"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&back), "back to the page: {location}");
    let m = changes(&db, email, Purpose::Marketing).await;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].detail.as_deref(), Some("unsubscribed at the fair"));
}

/// The customer panel shows consent to every role, server-rendered (the page works without
/// JavaScript); the record form offers support consent only to those who may change it.
async fn the_panel_shows_consent_to_every_role(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let ada = customer(&db, "Ada Lovelace").await;
    let support = app.login(SUPPORT.0, SUPPORT.1).await;
    let (code, body) = record(
        &app,
        &support,
        ada.id_of("email"),
        "marketing",
        "no",
        "asked by phone",
        false,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    for (who, (email, pw), offers_support) in
        [("marketing", MARKETING, false), ("support", SUPPORT, true)]
    {
        let c = app.login(email, pw).await;
        let r = c
            .get(app.url(&format!("/inbox/{}", ada.conversation)))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{who}");
        let html = r.text().await.unwrap();
        let start = html.find("class=\"consent-section\"").unwrap_or_else(|| {
            panic!("{who}: no consent section; the customer panel places <ConsentSection customer_id=customer.id/>")
        });
        let section = &html[start..];
        let section = &section[..section.find("</section>").unwrap()];
        for words in [
            "ada.lovelace@example.com",
            "data-status=\"opted-out\"",
            "set by Sam Support",
            "asked by phone",
            "Allowed (nothing recorded)",
            "Not granted (nothing recorded)",
            "History (1 change)",
            "Record a consent change",
        ] {
            assert!(section.contains(words), "{who}: {words:?} in {section}");
        }
        assert_eq!(
            section.contains("<option value=\"support\">"),
            offers_support,
            "{who}: {section}"
        );
    }
}

both_engines!(
    agents_record_changes_with_history_and_actor,
    the_form_posts_without_javascript,
    the_panel_shows_consent_to_every_role
);
