//! Delivery trouble on the screen, server-rendered (so without JavaScript too): the words on a
//! message ("retrying, next attempt at …", "delivery unknown"), its Retry / Send again / Cancel
//! forms and what posting them does, and the provider-failing banner on the channel account
//! (admin page) and in the composer.

use crate::support::{spawn_app, Engine, TestApp};
use app::store::now_ms;
use sqlx::Row;

both_engines!(delivery_trouble_is_shown_in_words_with_its_actions);

const ADMIN: (&str, &str) = ("admin@convergence.test", "admin-password-1");

/// An outgoing message of Ada's conversation: (conversation, message, account).
async fn ada_outgoing(app: &TestApp) -> (i64, i64, i64) {
    let r = sqlx::query(
        "SELECT m.conversation_id, m.id, m.channel_account_id FROM messages m \
         JOIN customers c ON c.id = m.customer_id \
         WHERE c.name = 'Ada Lovelace' AND m.direction = 'out' ORDER BY m.id DESC LIMIT 1",
    )
    .fetch_one(&app.state.db.read)
    .await
    .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

/// Puts message `mid`'s delivery job in a state (`sql` sets the outbox row's columns).
async fn job(app: &TestApp, mid: i64, message_state: &str, reason: &str, sql: &str) {
    let db = &app.state.db;
    sqlx::query("DELETE FROM outbox WHERE message_id = $1")
        .bind(mid)
        .execute(&db.write)
        .await
        .unwrap();
    // Not due, so the running worker leaves it alone.
    sqlx::query(
        "INSERT INTO outbox (message_id, attempts, next_attempt_at, created_at) VALUES ($1, 3, $2, $3)",
    )
    .bind(mid)
    .bind(now_ms() + 3_600_000)
    .bind(now_ms())
    .execute(&db.write)
    .await
    .unwrap();
    sqlx::query(&format!("UPDATE outbox SET {sql} WHERE message_id = $1"))
        .bind(mid)
        .execute(&db.write)
        .await
        .unwrap();
    sqlx::query("UPDATE messages SET delivery_state = $1, failure_reason = $2 WHERE id = $3")
        .bind(message_state)
        .bind(reason)
        .bind(mid)
        .execute(&db.write)
        .await
        .unwrap();
}

async fn page(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    let r = c
        .get(app.url(path))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// The `<article>` of message `mid` in a conversation page.
fn article(html: &str, mid: i64) -> &str {
    let start = html
        .find(&format!("data-id=\"{mid}\""))
        .unwrap_or_else(|| panic!("message {mid} in the page"));
    let start = html[..start].rfind("<article").unwrap();
    let end = start + html[start..].find("</article>").unwrap();
    &html[start..end]
}

async fn delivery_trouble_is_shown_in_words_with_its_actions(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let (conv, mid, account) = ada_outgoing(&app).await;
    let conv_path = format!("/inbox/{conv}");

    // Retrying: the next attempt in words, a Cancel form; the account shows its provider
    // failing on the admin page and in the composer.
    let later = now_ms() + 3_600_000;
    job(
        &app,
        mid,
        "queued",
        "attempt 3 failed: could not connect; retrying",
        &format!("next_attempt_at = {later}, last_error = 'could not connect'"),
    )
    .await;
    let html = page(&app, &c, &conv_path).await;
    let a = article(&html, mid);
    assert!(a.contains("retrying, next attempt at"), "{a}");
    assert!(a.contains("action=\"/api/message/cancel\""), "{a}");
    assert!(!a.contains("action=\"/api/message/retry\""), "{a}");
    let admin = page(&app, &c, "/admin").await;
    assert!(
        admin.contains("The provider is failing")
            && admin.contains("1 message waiting to be retried"),
        "admin banner"
    );
    let detail = app::service::conversations::detail(&app.state.db, conv)
        .await
        .unwrap();
    assert!(
        detail
            .failing_accounts
            .iter()
            .any(|(id, w, next)| *id == account
                && w.contains("provider is failing")
                && !w.contains("UTC")
                && *next > 0),
        "{:?}",
        detail.failing_accounts
    );

    // Delivery unknown: in words, with "Send again" and "Cancel".
    job(
        &app,
        mid,
        "failed",
        "Delivery unknown: the request reached the provider but its answer was lost",
        &format!("done_at = {}, outcome = 'unknown'", now_ms()),
    )
    .await;
    let html = page(&app, &c, &conv_path).await;
    let a = article(&html, mid);
    assert!(a.contains(">delivery unknown<"), "{a}");
    assert!(
        a.contains("Send again") && a.contains("action=\"/api/message/retry\""),
        "{a}"
    );
    assert!(a.contains("action=\"/api/message/cancel\""), "{a}");

    // Failed: Retry; the admin page offers to retry every failed message of the account.
    job(
        &app,
        mid,
        "failed",
        "gave up after 9 attempts since …",
        &format!("done_at = {}, outcome = 'failed'", now_ms()),
    )
    .await;
    let html = page(&app, &c, &conv_path).await;
    let a = article(&html, mid);
    assert!(a.contains(">Retry<"), "{a}");
    let admin = page(&app, &c, "/admin").await;
    assert!(admin.contains("Retry 1 failed message"), "admin retry-all");

    // The Retry form posted without JavaScript: queued again (a fresh horizon), back to the page.
    let back = app.url(&conv_path);
    let r = c
        .post(app.url("/api/message/retry"))
        .header("Origin", &app.addr)
        .header("Referer", &back)
        .header("Accept", "text/html,application/xhtml+xml")
        .form(&[("id", mid.to_string())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(r.headers()["location"].to_str().unwrap().starts_with(&back));
    let retry_from: Option<i64> =
        sqlx::query("SELECT retry_from FROM outbox WHERE message_id = $1")
            .bind(mid)
            .fetch_one(&app.state.db.read)
            .await
            .unwrap()
            .get("retry_from");
    assert!(retry_from.is_some(), "queued again");
    // The worker takes it up (whatever its provider answers): wait until it is done with it.
    let db = &app.state.db;
    crate::support::messages::wait_for("the worker to finish the retry", 20, || async move {
        let r = sqlx::query(
            "SELECT done_at, locked_until, last_error FROM outbox WHERE message_id = $1",
        )
        .bind(mid)
        .fetch_one(&db.read)
        .await
        .unwrap();
        let done: Option<i64> = r.get("done_at");
        let locked: Option<i64> = r.get("locked_until");
        let error: Option<String> = r.get("last_error");
        (done.is_some() || (locked.is_none() && error.is_some())).then_some(())
    })
    .await;

    // Cancel a failed one: no longer offered for retry.
    job(
        &app,
        mid,
        "failed",
        "gave up",
        &format!("done_at = {}, outcome = 'failed'", now_ms()),
    )
    .await;
    let r = c
        .post(app.url("/api/message/cancel"))
        .header("Origin", &app.addr)
        .header("Referer", &back)
        .header("Accept", "text/html,application/xhtml+xml")
        .form(&[("id", mid.to_string())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let html = page(&app, &c, &conv_path).await;
    let a = article(&html, mid);
    assert!(
        a.contains(">cancelled<") && a.contains("Cancelled by"),
        "{a}"
    );
    assert!(!a.contains("action=\"/api/message/retry\""), "{a}");
}
