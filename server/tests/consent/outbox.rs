//! The outbox refuses a send that consent forbids, whatever was queued before: a reply is
//! queued while allowed, then the customer opts out (an agent records it, or the customer
//! follows an email's unsubscribe link), then the worker runs: the message fails with the
//! reason in words and the provider is never called. A marketing-only unsubscribe leaves
//! answers to the customer's own questions going out.

use super::harness::*;
use crate::support::{Engine, TestApp, TEST_SECRET};
use app::domain::consent::Purpose;
use app::domain::ChannelKind;
use app::service;
use server::workers::outbox::deliver_due;
use sqlx::Row;

/// Queues a reply to Ada on `channel` through the server function; returns the message.
async fn queue(app: &TestApp, c: &reqwest::Client, conversation: i64, channel: ChannelKind) -> i64 {
    let d = service::conversations::detail(&app.state.db, conversation)
        .await
        .unwrap();
    let opt = d
        .reply_options
        .iter()
        .find(|o| o.channel == channel)
        .unwrap_or_else(|| panic!("no {channel:?} option: {:?}", d.reply_options));
    assert_eq!(opt.unavailable, None, "allowed when queued");
    let r = app
        .call(
            c,
            "/api/conversation/reply",
            &[
                ("id", &conversation.to_string()),
                ("via", &opt.key()),
                ("body", "Your parcel is on its way."),
            ],
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let mid: i64 = sqlx::query(
        "SELECT MAX(id) AS id FROM messages WHERE conversation_id = $1 AND direction = 'out'",
    )
    .bind(conversation)
    .fetch_one(&app.state.db.read)
    .await
    .unwrap()
    .try_get("id")
    .unwrap();
    mid
}

async fn state(app: &TestApp, mid: i64) -> (String, Option<String>) {
    let r = sqlx::query("SELECT delivery_state, failure_reason FROM messages WHERE id = $1")
        .bind(mid)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    (
        r.try_get("delivery_state").unwrap(),
        r.try_get("failure_reason").unwrap(),
    )
}

async fn run_outbox(app: &TestApp) -> usize {
    let (reg, counter) = counting_registry();
    deliver_due(&app.state.db, &app.state.hub, &reg)
        .await
        .unwrap();
    counter.calls()
}

async fn unsubscribe_post(app: &TestApp, identifier: i64, body: &str) {
    let t = server::channels::email::unsubscribe::token(
        TEST_SECRET.as_bytes(),
        identifier,
        Purpose::Marketing,
    );
    let r = reqwest::Client::new()
        .post(app.url(&format!("/unsubscribe/{t}")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn an_agent_opt_out_stops_a_queued_reply(engine: Engine) {
    let app = quiet_app(engine).await;
    let ada = customer(&app.state.db, "Ada Lovelace").await;
    let support = app.login(SUPPORT.0, SUPPORT.1).await;
    let mid = queue(&app, &support, ada.conversation, ChannelKind::Email).await;
    assert_eq!(state(&app, mid).await.0, "queued");
    let (code, body) = record(
        &app,
        &support,
        ada.id_of("email"),
        "support",
        "no",
        "asked us to stop writing",
        false,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(run_outbox(&app).await, 0, "the provider is never called");
    let (s, reason) = state(&app, mid).await;
    assert_eq!(s, "failed");
    let reason = reason.unwrap();
    assert!(reason.starts_with("Not sent: "), "{reason}");
    assert!(
        reason.contains("opted out (asked us to stop writing) on "),
        "{reason}"
    );
    // The other channels are untouched: a reply by SMS still goes out.
    let sms = queue(&app, &support, ada.conversation, ChannelKind::Sms).await;
    assert_eq!(run_outbox(&app).await, 1);
    assert_eq!(state(&app, sms).await.0, "sent");
}

async fn an_unsubscribe_from_all_email_stops_a_queued_reply(engine: Engine) {
    let app = quiet_app(engine).await;
    let ada = customer(&app.state.db, "Ada Lovelace").await;
    let support = app.login(SUPPORT.0, SUPPORT.1).await;
    let mid = queue(&app, &support, ada.conversation, ChannelKind::Email).await;
    unsubscribe_post(&app, ada.id_of("email"), "scope=all").await;
    assert_eq!(run_outbox(&app).await, 0, "the provider is never called");
    let (s, reason) = state(&app, mid).await;
    assert_eq!(s, "failed");
    let reason = reason.unwrap();
    assert!(
        reason.contains("opted out (unsubscribe link, all email)"),
        "{reason}"
    );
    // And the composer says so before anyone writes.
    let d = service::conversations::detail(&app.state.db, ada.conversation)
        .await
        .unwrap();
    let email = d
        .reply_options
        .iter()
        .find(|o| o.channel == ChannelKind::Email)
        .unwrap();
    assert!(
        email
            .unavailable
            .as_deref()
            .is_some_and(|u| u.contains("opted out")),
        "{email:?}"
    );
}

async fn a_marketing_unsubscribe_leaves_answers_going_out(engine: Engine) {
    let app = quiet_app(engine).await;
    let ada = customer(&app.state.db, "Ada Lovelace").await;
    let support = app.login(SUPPORT.0, SUPPORT.1).await;
    let mid = queue(&app, &support, ada.conversation, ChannelKind::Email).await;
    unsubscribe_post(&app, ada.id_of("email"), "List-Unsubscribe=One-Click").await;
    assert_eq!(
        changes(&app.state.db, ada.id_of("email"), Purpose::Marketing)
            .await
            .len(),
        1
    );
    assert_eq!(run_outbox(&app).await, 1, "an answer is not marketing");
    assert_eq!(state(&app, mid).await.0, "sent");
}

crate::both_engines!(
    an_agent_opt_out_stops_a_queued_reply,
    an_unsubscribe_from_all_email_stops_a_queued_reply,
    a_marketing_unsubscribe_leaves_answers_going_out
);
