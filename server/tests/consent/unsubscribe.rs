//! Email unsubscribe links: the page never changes anything, its button and a mail client's
//! one-click POST opt out (without a session or our Origin: the signature is the proof),
//! forged and garbled links are refused in words, and a real sent email carries the link.

use super::harness::*;
use crate::support::email::{
    connect_mailbox, delivery, eventually, mail, reply, servers, settings, wait_messages,
    SUPPORT as MAILBOX,
};
use crate::support::{spawn_app, spawn_messaging_app, Engine, TEST_SECRET};
use app::domain::consent::Purpose;
use server::channels::email::unsubscribe::token;

fn key() -> &'static [u8] {
    TEST_SECRET.as_bytes()
}

async fn links_show_a_page_and_a_post_opts_out(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = app.state.db.clone();
    let ada = customer(&db, "Ada Lovelace").await;
    let email = ada.id_of("email");
    let t = token(key(), email, Purpose::Marketing);
    let url = app.url(&format!("/unsubscribe/{t}"));
    // A plain client: no session, no Origin (a mail program, a person's browser).
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let page = c.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let h = page.headers().clone();
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("ada.lovelace@example.com"), "{html}");
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert!(html.contains(">Unsubscribe</button>"), "{html}");
    // Twice, as link scanners do: still nothing recorded.
    c.get(&url).send().await.unwrap();
    assert_eq!(count_changes(&db).await, 0, "GET never changes consent");

    // The button, from any origin: the token is the authentication.
    let done = c
        .post(&url)
        .header("Origin", "https://mail.example")
        .form(&[("scope", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("You are unsubscribed"), "{html}");
    assert!(html.contains("any more marketing email"), "{html}");
    let m = changes(&db, email, Purpose::Marketing).await;
    assert_eq!(m.len(), 1);
    assert!(!m[0].granted);
    assert_eq!(m[0].source, "unsubscribe");
    assert_eq!(m[0].actor, None);
    assert!(
        changes(&db, email, Purpose::Support).await.is_empty(),
        "support answers continue"
    );
    let evs = consent_events(&db, ada.conversation).await;
    assert_eq!(
        evs,
        vec![(
            None,
            "ada.lovelace@example.com unsubscribed from marketing email (unsubscribe link)".into()
        )]
    );

    // A mail client's one-click POST again: answered, nothing added.
    let again = c
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(count_changes(&db).await, 1);
    assert_eq!(consent_events(&db, ada.conversation).await.len(), 1);

    // "All email" stops support answers too.
    let phone = ada.id_of("phone");
    let all = c
        .post(app.url(&format!(
            "/unsubscribe/{}",
            token(key(), phone, Purpose::Marketing)
        )))
        .form(&[("scope", "all")])
        .send()
        .await
        .unwrap();
    assert_eq!(all.status(), 200);
    assert!(all.text().await.unwrap().contains("including answers"));
    for p in Purpose::ALL {
        let c = changes(&db, phone, p).await;
        assert_eq!(c.len(), 1, "{p:?}");
        assert_eq!(c[0].detail.as_deref(), Some("unsubscribe link, all email"));
    }

    // Forged, garbled, or naming nobody: refused in words, nothing recorded.
    let n = count_changes(&db).await;
    let grace = customer(&db, "Grace Hopper").await.id_of("email");
    let forged = token(
        b"another key entirely, 32 bytes!!",
        grace,
        Purpose::Marketing,
    );
    let swapped = token(key(), email, Purpose::Marketing).replacen(
        &format!("{email}."),
        &format!("{grace}."),
        1,
    );
    for (t, code, words) in [
        (forged.as_str(), 404, "not valid"),
        (swapped.as_str(), 404, "not valid"),
        ("12345", 400, "incomplete"),
        (&t[..t.len() - 3], 400, "incomplete"),
        ("1.m.zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 400, "incomplete"),
    ] {
        for post in [false, true] {
            let u = app.url(&format!("/unsubscribe/{t}"));
            let r = if post {
                c.post(&u)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body("List-Unsubscribe=One-Click")
                    .send()
                    .await
                    .unwrap()
            } else {
                c.get(&u).send().await.unwrap()
            };
            assert_eq!(r.status(), code, "{t} post={post}");
            let body = r.text().await.unwrap();
            assert!(body.contains(words), "{t}: {body}");
        }
    }
    let nobody = token(key(), 99_999_999, Purpose::Marketing);
    let r = c
        .post(app.url(&format!("/unsubscribe/{nobody}")))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("no longer hold"));
    assert_eq!(count_changes(&db).await, n);
}

async fn a_sent_email_carries_a_working_one_click_link(engine: Engine) {
    let m = servers().await;
    m.add_user("ann@customer.test", "x");
    m.append(
        MAILBOX,
        "INBOX",
        &mail(
            "Ann <ann@customer.test>",
            "Where is my order?",
            Some("u1@customer.test"),
            "",
            "Order 77",
        ),
    )
    .await;
    let app = spawn_messaging_app(engine).await;
    let db = app.state.db.clone();
    let acc = connect_mailbox(&app, settings(m.imap_port, m.smtp_port, "INBOX")).await;
    wait_messages(&db, acc, 1).await;
    let out = reply(&app, acc, "ann@customer.test", "It ships today.").await;
    eventually(20, "the reply sent", || async {
        (delivery(&db, out).await.0 == "sent").then_some(())
    })
    .await;
    let got = eventually(10, "the reply in Ann's mailbox", || async {
        m.fetch_all("ann@customer.test", "INBOX")
            .await
            .into_iter()
            .next()
    })
    .await;
    let text = String::from_utf8_lossy(&got).to_string();
    let head = text.split("\r\n\r\n").next().unwrap().to_string();
    let link = head
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .and_then(|l| l.strip_suffix('>'))
        .unwrap_or_else(|| panic!("no List-Unsubscribe header: {head}"))
        .to_string();
    assert!(
        head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{head}"
    );
    let ann: i64 = sqlx::Row::try_get(
        &sqlx::query(
            "SELECT id FROM identifiers WHERE kind = 'email' AND value = 'ann@customer.test'",
        )
        .fetch_one(&db.read)
        .await
        .unwrap(),
        "id",
    )
    .unwrap();
    assert_eq!(
        link,
        app.url(&format!(
            "/unsubscribe/{}",
            token(key(), ann, Purpose::Marketing)
        ))
    );
    // The mail program's one-click POST (RFC 8058): no cookies, no Origin.
    let r = reqwest::Client::new()
        .post(&link)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = changes(&db, ann, Purpose::Marketing).await;
    assert_eq!(c.len(), 1);
    assert!(!c[0].granted);
    assert_eq!(c[0].source, "unsubscribe");
}

crate::both_engines!(
    links_show_a_page_and_a_post_opts_out,
    a_sent_email_carries_a_working_one_click_link
);
