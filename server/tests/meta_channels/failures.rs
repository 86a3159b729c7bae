//! What the Meta channels refuse (bad signatures, no secret, wrong verify token, malformed
//! bodies) and how provider failures end (final errors in words, retries after 5xx and hangs).

use super::ctx::*;
use super::{PSID, WA_FROM};
use crate::support::Engine;
use serde_json::{json, Value};
use server::channels::meta::signature;
use std::time::{Duration, Instant};

both_engines!(
    bad_signatures_are_refused_and_nothing_is_stored,
    an_account_without_app_secret_refuses_everything,
    the_subscription_check_needs_our_verify_token,
    malformed_bodies_are_refused_with_reasons,
    re_engagement_errors_fail_with_words,
    server_errors_are_retried_until_delivered,
    a_hang_past_the_timeout_is_delivery_unknown_not_resent,
);

fn wa_text(graph_id: &str, wamid: &str) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100000", "phone_number_id": graph_id},
        "messages": [{"from": WA_FROM, "id": wamid, "timestamp": "1750000000", "type": "text", "text": {"body": "forged?"}}]
    }}]}]})
    .to_string()
}

async fn bad_signatures_are_refused_and_nothing_is_stored(engine: Engine) {
    let c = Ctx::new(engine).await;
    let acc = c.account("whatsapp").await;
    let body = wa_text(&acc.graph_id, "wamid.forged");
    let zeros = format!("sha256={}", "0".repeat(64));
    let other = signature::header_value("not-the-secret", body.as_bytes());
    for sig in [zeros.as_str(), other.as_str(), "sha1=abc"] {
        let (status, why) = c.raw(&acc, &body, Some(sig)).await;
        assert_eq!(status, 403, "{sig}: {why}");
    }
    let r = c
        .http
        .post(c.hook(&acc))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("missing"));
    // A correctly signed body that was changed on the way.
    let good = signature::header_value(SECRET, body.as_bytes());
    let (status, _) = c
        .raw(&acc, &body.replace("forged?", "forged!"), Some(&good))
        .await;
    assert_eq!(status, 403);
    assert_eq!(c.raw_count(&acc).await, 0);
    assert!(message(c.db(), "wamid.forged").await.is_none());
}

async fn an_account_without_app_secret_refuses_everything(engine: Engine) {
    let c = Ctx::new(engine).await;
    let acc = c.account_with("messenger", json!({}), "read").await;
    let r = c
        .control(
            "inbound",
            json!({"id": acc.graph_id, "from": PSID, "text": "hello?"}),
        )
        .await;
    assert_eq!(r["status"], 403, "{r}");
    assert!(
        r["body"].as_str().unwrap().contains("not configured"),
        "{r}"
    );
    assert_eq!(c.raw_count(&acc).await, 0);
}

async fn the_subscription_check_needs_our_verify_token(engine: Engine) {
    let c = Ctx::new(engine).await;
    let acc = c.account("instagram").await; // the stand-in's own check passed in `account`
    let get = |token: &'static str| {
        let url = c.hook(&acc);
        let http = c.http.clone();
        async move {
            let r = http
                .get(url)
                .query(&[
                    ("hub.mode", "subscribe"),
                    ("hub.challenge", "1158201444"),
                    ("hub.verify_token", token),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get(VERIFY).await, (200, "1158201444".to_string()));
    assert_eq!(get("guess").await.0, 403);
    let r = c
        .control("subscribe", json!({"object": "instagram", "id": acc.graph_id, "url": c.hook(&acc), "app_secret": SECRET,
                                     "access_token": TOKEN, "verify_token": "wrong"}))
        .await;
    assert_eq!(
        (r["verified"].clone(), r["status"].clone()),
        (json!(false), json!(403)),
        "{r}"
    );
}

async fn malformed_bodies_are_refused_with_reasons(engine: Engine) {
    let c = Ctx::new(engine).await;
    let acc = c.account("whatsapp").await;
    for (body, words) in [
        ("this is not json", "not JSON"),
        (
            r#"{"object":"page","entry":[]}"#,
            "takes \"whatsapp_business_account\"",
        ),
        (
            r#"{"object":"whatsapp_business_account","entry":{}}"#,
            "\"entry\" is an object, not an array",
        ),
        (
            r#"{"object":"whatsapp_business_account"}"#,
            "\"entry\" field is missing",
        ),
    ] {
        let (status, why) = c.raw(&acc, body, None).await;
        assert_eq!(status, 400, "{body}");
        assert!(why.contains(words), "{why} / {words}");
    }
    assert_eq!(c.raw_count(&acc).await, 0);
}

async fn re_engagement_errors_fail_with_words(engine: Engine) {
    let c = Ctx::new(engine).await;
    let wa = c.account("whatsapp").await;
    c.fault(400, json!({"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
        "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
        "fbtrace_id": "AbCdEf"}}), 0);
    let id = c.reply_to(&wa, WA_FROM, "Are you still there?").await;
    let m = wait_state(c.db(), id, "failed", 20).await;
    let why = m.reason.unwrap_or_default();
    assert!(why.contains("131047") && why.contains("24 hours"), "{why}");
    assert_eq!(c.sends(&wa).len(), 1, "not retried");
}

async fn server_errors_are_retried_until_delivered(engine: Engine) {
    let c = Ctx::new(engine).await;
    let ms = c
        .account_with("messenger", json!({"app_secret": SECRET}), "delivered")
        .await;
    c.fault(500, json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.",
        "type": "OAuthException", "is_transient": true, "code": 2, "fbtrace_id": "A1"}}), 0);
    let id = c.reply_to(&ms, PSID, "Retry me").await;
    let start = Instant::now();
    wait_state(c.db(), id, "delivered", 30).await;
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "the retry waited for its backoff: {:?}",
        start.elapsed()
    );
    let sends = c.sends(&ms);
    assert_eq!(sends.len(), 2, "one failure, one success");
    assert_eq!(sends[0].body, sends[1].body);
}

async fn a_hang_past_the_timeout_is_delivery_unknown_not_resent(engine: Engine) {
    let c = Ctx::new(engine).await;
    let wa = c.account("whatsapp").await;
    c.fault(0, Value::Null, 3_000);
    let id = c.reply_to(&wa, WA_FROM, "Slow network").await;
    // The request left and its answer never came: Meta may have the message and cannot be
    // asked, so it is not sent again by itself.
    let m = wait_state(c.db(), id, "failed", 30).await;
    let reason = m.reason.clone().unwrap_or_default();
    assert!(reason.starts_with("Delivery unknown"), "{reason}");
    assert_eq!(c.sends(&wa).len(), 1, "not sent twice");
    // The agent's "Send again".
    assert!(app::store::outbox::requeue(c.db(), id, true).await.unwrap());
    c.app.state.wake.outbox.notify_one();
    wait_state(c.db(), id, "read", 30).await;
    let sends = c.sends(&wa);
    assert_eq!(sends.len(), 2, "{sends:?}");
    assert!(
        sends
            .iter()
            .all(|s| s.body.contains("\"body\":\"Slow network\"")),
        "the same message each time"
    );
}
