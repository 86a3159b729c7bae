//! `GET /metrics`: off without a token, refused with a wrong one, and with the right one the
//! Prometheus text whose figures follow what happens: a webhook counted by provider and
//! status, an open live stream, the inbound queue.

use crate::support::{spawn_app, Engine, METRICS_TOKEN};

both_engines!(metrics_follow_what_happens_and_need_the_token);

/// The value of the sample line that starts with `name` (labels included).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn metrics_follow_what_happens_and_need_the_token(engine: Engine) {
    let app = spawn_app(engine).await;
    let http = reqwest::Client::new();
    let scrape = || async {
        let r = http
            .get(app.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        r.text().await.unwrap()
    };
    let r = http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(app.url("/metrics"))
        .bearer_auth("test-metrics-tokeX")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let before = scrape().await;
    for name in [
        "convergence_inbound_queue_depth",
        "convergence_outbox_depth",
        "convergence_leases_held",
        "convergence_sse_clients{stream=\"staff\"}",
        "convergence_db_pool_connections{pool=\"read\",state=\"idle\"}",
    ] {
        assert!(sample(&before, name).is_some(), "{name} in\n{before}");
    }
    // A webhook for an account that does not exist: counted as twilio 404.
    let hook = |n: i64| {
        http.post(app.url(&format!("/webhooks/twilio/{n}")))
            .form(&[("Body", "hi")])
            .send()
    };
    let key = "convergence_webhook_requests_total{provider=\"twilio\",status=\"404\"}";
    let counted = sample(&before, key).unwrap_or(0.0);
    assert_eq!(hook(999_999).await.unwrap().status(), 404);
    assert_eq!(hook(999_998).await.unwrap().status(), 404);
    // A path naming no provider is counted as `other`, never as a label of its own.
    let _ = http
        .post(app.url("/webhooks/%3Cscript%3E/1"))
        .send()
        .await
        .unwrap();
    let after = scrape().await;
    assert_eq!(sample(&after, key), Some(counted + 2.0), "{after}");
    assert!(!after.contains("script"), "{after}");

    // A staff browser's live stream is counted while it is open.
    let staff = app
        .login("support@convergence.test", "support-password-1")
        .await;
    let streams = sample(&after, "convergence_sse_clients{stream=\"staff\"}").unwrap();
    let stream = staff.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let open = scrape().await;
    assert_eq!(
        sample(&open, "convergence_sse_clients{stream=\"staff\"}"),
        Some(streams + 1.0)
    );
    drop(stream);
    let mut closed = None;
    for _ in 0..50 {
        let t = scrape().await;
        closed = sample(&t, "convergence_sse_clients{stream=\"staff\"}");
        if closed == Some(streams) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        closed,
        Some(streams),
        "the closed stream is no longer counted"
    );
}
