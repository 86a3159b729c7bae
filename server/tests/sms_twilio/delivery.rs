//! Twilio sends under failure: opt-outs and undelivered reports in words, retries through
//! 5xx answers, refused connections and long outages, lost answers looked up rather than sent
//! twice, and the stand-in's message list that lookup reads.

use crate::support::twilio::*;
use crate::support::Engine;
use serde_json::json;
use sqlx::Row;
use standin::Fault;

both_engines!(
    opted_out_recipients_fail_with_words,
    undelivered_reports_fail_the_message_with_words,
    server_errors_are_retried_until_delivered,
    a_hang_past_the_timeout_is_looked_up_not_sent_twice,
    a_refused_connection_is_retried_until_the_provider_is_up,
    an_outage_of_server_errors_longer_than_the_old_horizon_delivers_once,
    the_stand_in_lists_messages_like_twilio,
    a_status_arriving_before_the_send_answer_is_applied,
);

async fn opted_out_recipients_fail_with_words(engine: Engine) {
    let c = Ctx::new(engine).await;
    c.si.state.add_fault(Fault {
        provider: "twilio".into(),
        status: 400,
        body: twilio_error(21610, 400, "Attempt to send to unsubscribed recipient"),
        hang_ms: 0,
        times: 1,
        ..Default::default()
    });
    let mid = c.reply_to("+15005550006", "Are you still there?").await;
    let m = wait_state(&c, mid, "failed", 15).await;
    let why = m.reason.unwrap_or_default();
    assert!(why.contains("21610") && why.contains("STOP"), "{why}");
    assert_eq!(c.sends().len(), 1, "not retried");
}

async fn undelivered_reports_fail_the_message_with_words(engine: Engine) {
    let c = Ctx::new(engine).await;
    c.control(
        "outcome",
        json!({"to": "+15005550007", "status": "undelivered", "error_code": 30003}),
    )
    .await;
    let mid = c.reply_to("+15005550007", "Your code is 1234").await;
    let m = wait_state(&c, mid, "failed", 20).await;
    let why = m.reason.unwrap_or_default();
    assert!(
        why.contains("30003") && why.contains("unreachable handset"),
        "{why}"
    );
}

async fn server_errors_are_retried_until_delivered(engine: Engine) {
    let c = Ctx::new(engine).await;
    c.si.state.add_fault(Fault {
        provider: "twilio".into(),
        status: 500,
        body: twilio_error(20500, 500, "Internal Server Error"),
        hang_ms: 0,
        times: 1,
        ..Default::default()
    });
    let mid = c.reply_to("+15005550006", "Retry me").await;
    wait_state(&c, mid, "delivered", 25).await;
    assert_eq!(c.sends().len(), 2, "one failure, one success");
}

/// The send is held past the client's timeout (2 s here): the request reached Twilio, so it is
/// not sent again; the worker finds it in Twilio's message list and records it.
async fn a_hang_past_the_timeout_is_looked_up_not_sent_twice(engine: Engine) {
    let c = Ctx::new(engine).await;
    c.si.state.add_fault(Fault {
        provider: "twilio".into(),
        status: 0,
        body: String::new(),
        hang_ms: 3_000,
        times: 1,
        ..Default::default()
    });
    let mid = c.reply_to("+15005550006", "Slow network").await;
    let m = wait_state(&c, mid, "delivered", 40).await;
    assert_eq!(c.sends().len(), 1, "sent once");
    let created = c.created();
    assert_eq!(created.len(), 1);
    assert_eq!(m.provider_id.as_deref(), Some(created[0].as_str()));
    let lookups =
        c.si.state
            .requests(Some("twilio"))
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.contains("/Messages.json?"))
            .count();
    assert!(lookups >= 1, "looked up");
}

/// Makes every waiting delivery due now and wakes the worker (the backoff, compressed).
async fn hurry(c: &Ctx) {
    sqlx::query("UPDATE outbox SET next_attempt_at = 0 WHERE done_at IS NULL")
        .execute(&c.db().write)
        .await
        .unwrap();
    c.app.state.wake.outbox.notify_one();
}

async fn outbox_attempts(c: &Ctx, mid: i64) -> i64 {
    scalar(
        c.db(),
        "SELECT attempts AS n FROM outbox WHERE message_id = $1",
        mid,
    )
    .await
}

/// Nobody listens at the API's address (connection refused): the message waits, saying when
/// the next attempt is, and the account shows its provider failing; once the provider is
/// reachable it is delivered, once.
async fn a_refused_connection_is_retried_until_the_provider_is_up(engine: Engine) {
    let c = Ctx::new(engine).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut settings: serde_json::Value =
        serde_json::from_str(&channel_accounts_settings(c.db(), c.account).await).unwrap();
    settings["api_base"] = json!(closed);
    set_settings(c.db(), c.account, &settings.to_string()).await;
    let mid = c.reply_to("+15005550006", "Are you there?").await;
    for round in 0..8 {
        let db = c.db();
        wait_for("an attempt", 15, || async move {
            (outbox_attempts_db(db, mid).await > round).then_some(())
        })
        .await;
        let m = wait_for("the retry to be recorded", 15, || async move {
            let m = message_by_id(db, mid).await;
            m.reason
                .as_deref()
                .is_some_and(|r| {
                    r.contains(&format!("attempt {} failed", round + 1))
                        && r.contains("retrying, next attempt at")
                })
                .then_some(m)
        })
        .await;
        assert_eq!(m.state, "queued", "{m:?}");
        assert!(
            m.reason.as_deref().unwrap().contains("could not connect"),
            "{m:?}"
        );
        if round < 7 {
            hurry(&c).await;
        }
    }
    let h = app::store::outbox::account_health(c.db(), c.account)
        .await
        .unwrap();
    assert_eq!(h.retrying, 1, "the account shows its provider failing");
    settings["api_base"] = json!(c.si.base_url.clone());
    set_settings(c.db(), c.account, &settings.to_string()).await;
    hurry(&c).await;
    wait_state(&c, mid, "delivered", 30).await;
    assert!(outbox_attempts(&c, mid).await > 8);
    assert_eq!(c.sends().len(), 1, "sent once");
    assert_eq!(c.created().len(), 1);
}

async fn outbox_attempts_db(db: &app::store::Db, mid: i64) -> i64 {
    scalar(
        db,
        "SELECT attempts AS n FROM outbox WHERE message_id = $1",
        mid,
    )
    .await
}

async fn channel_accounts_settings(db: &app::store::Db, account: i64) -> String {
    sqlx::query("SELECT settings FROM channel_accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .get("settings")
}

async fn set_settings(db: &app::store::Db, account: i64, settings: &str) {
    sqlx::query("UPDATE channel_accounts SET settings = $1 WHERE id = $2")
        .bind(settings)
        .bind(account)
        .execute(&db.write)
        .await
        .unwrap();
}

/// Twelve 500s in a row (the old rule gave up after six): the message keeps waiting and is
/// delivered once when Twilio answers again.
async fn an_outage_of_server_errors_longer_than_the_old_horizon_delivers_once(engine: Engine) {
    let c = Ctx::new(engine).await;
    c.si.state.add_fault(Fault {
        provider: "twilio".into(),
        status: 500,
        body: twilio_error(20500, 500, "Internal Server Error"),
        hang_ms: 0,
        times: 12,
        ..Default::default()
    });
    let mid = c.reply_to("+15005550006", "Still waiting?").await;
    for round in 0..12 {
        let db = c.db();
        wait_for("an attempt", 15, || async move {
            (outbox_attempts_db(db, mid).await > round).then_some(())
        })
        .await;
        wait_for("the retry to be recorded", 15, || async move {
            let m = message_by_id(db, mid).await;
            m.reason
                .as_deref()
                .is_some_and(|r| {
                    r.contains(&format!("attempt {} failed", round + 1))
                        && r.contains("HTTP 500")
                        && r.contains("retrying")
                })
                .then_some(())
        })
        .await;
        hurry(&c).await;
    }
    wait_state(&c, mid, "delivered", 30).await;
    assert_eq!(c.sends().len(), 13, "twelve refusals, one send");
    assert_eq!(c.created().len(), 1, "the customer got it once");
}

/// The stand-in's message list answers like Twilio's: filtered by To and From, newest first.
async fn the_stand_in_lists_messages_like_twilio(engine: Engine) {
    let c = Ctx::new(engine).await;
    let a = c.reply_to("+15005550006", "First").await;
    wait_state(&c, a, "delivered", 20).await;
    let b = c.reply_to("+15005550007", "Second").await;
    wait_state(&c, b, "delivered", 20).await;
    let list = |query: &'static str| {
        let http = c.http.clone();
        let url = format!(
            "{}/2010-04-01/Accounts/{SID}/Messages.json?{query}",
            c.si.base_url
        );
        async move {
            let r = http
                .get(url)
                .basic_auth(SID, Some(TOKEN))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let all = list("PageSize=20").await;
    let bodies: Vec<&str> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Second", "First"], "newest first");
    let to = list("To=%2B15005550006&From=%2B15550100000").await;
    assert_eq!(to["messages"].as_array().unwrap().len(), 1);
    assert_eq!(to["messages"][0]["body"], "First");
    let none = list("From=%2B19999999999").await;
    assert_eq!(none["messages"].as_array().unwrap().len(), 0);
    let r = c
        .http
        .get(format!(
            "{}/2010-04-01/Accounts/{SID}/Messages.json",
            c.si.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "authenticated like the rest of the API");
}

async fn a_status_arriving_before_the_send_answer_is_applied(engine: Engine) {
    let c = Ctx::new(engine).await;
    let sid = "SM00112233445566778899aabbccddeeff";
    // Twilio's "delivered" overtakes the answer to the send.
    let r = c
        .control(
            "status",
            json!({"url": c.app.url(&format!("/webhooks/twilio/{}/status", c.account)), "auth_token": TOKEN,
                   "account_sid": SID, "message_sid": sid, "status": "delivered", "from": NUMBER, "to": "+15005550006"}),
        )
        .await;
    assert_eq!(r["status"], 200, "{r}");
    // Then the send is answered with that very message.
    c.si.state.add_fault(Fault {
        provider: "twilio".into(),
        status: 201,
        body: json!({"sid": sid, "account_sid": SID, "status": "queued", "to": "+15005550006", "from": NUMBER, "body": "Late", "error_code": null}).to_string(),
        hang_ms: 0,
        times: 1,
        ..Default::default()
    });
    let mid = c.reply_to("+15005550006", "Late").await;
    let m = wait_state(&c, mid, "delivered", 20).await;
    assert_eq!(m.provider_id.as_deref(), Some(sid));
}
