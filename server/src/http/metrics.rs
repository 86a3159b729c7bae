//! `GET /metrics`: Prometheus text format, behind a bearer token (`CONVERGENCE_METRICS_TOKEN`;
//! without one the endpoint is off and answers 404). Each process answers for itself: the
//! database-wide figures (queues, mailboxes, deliveries) are the same from every process, the
//! counters (webhook requests, live streams, the pool) are this process's own
//! (`AppState::counters`), so a scrape of every process sums them.

use app::service::operations;
use app::ssr::state::Counters;
use app::ssr::AppState;
use app::store::now_ms;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Which live stream a [`StreamGuard`] counts.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    Staff,
    Chat,
}

impl Stream {
    fn gauge(self, c: &Counters) -> &AtomicI64 {
        match self {
            Stream::Staff => &c.staff_streams,
            Stream::Chat => &c.chat_streams,
        }
    }
}

/// Counts one open live stream for as long as it lives (moved into the stream).
pub struct StreamGuard(Arc<Counters>, Stream);

impl StreamGuard {
    pub fn open(counters: &Arc<Counters>, kind: Stream) -> StreamGuard {
        kind.gauge(counters).fetch_add(1, Ordering::Relaxed);
        StreamGuard(counters.clone(), kind)
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.1.gauge(&self.0).fetch_sub(1, Ordering::Relaxed);
    }
}

/// The provider label of a webhook path: a known provider, or `other` (a stranger's paths must
/// not grow the label set).
fn provider_label(path: &str) -> &'static str {
    let name = path
        .strip_prefix("/webhooks/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    app::domain::providers::ALL
        .iter()
        .find(|p| p.id == name)
        .map_or("other", |p| p.id)
}

/// Middleware on the webhook routes: counts each request by provider and answer.
pub async fn count_webhooks(
    State(counters): State<Arc<Counters>>,
    req: Request,
    next: Next,
) -> Response {
    let provider = provider_label(req.uri().path());
    let res = next.run(req).await;
    *counters
        .webhooks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry((provider, res.status().as_u16()))
        .or_default() += 1;
    res
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    eq_constant_time(given.as_bytes(), token.as_bytes())
}

/// Compares without stopping at the first difference (the time tells nothing of the token).
fn eq_constant_time(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | ((a.len() ^ b.len()) >> 8) as u8;
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0);
    }
    diff == 0 && a.len() == b.len()
}

pub async fn metrics_handler(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.settings.metrics_token.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "Metrics are off: set CONVERGENCE_METRICS_TOKEN to turn them on.",
        )
            .into_response();
    };
    if !authorized(&headers, token) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "The metrics need the bearer token (CONVERGENCE_METRICS_TOKEN).",
        )
            .into_response();
    }
    let snap = match operations::snapshot(&state.db, crate::leases::holder(), now_ms()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "metrics cannot read the database");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database does not answer; no metrics.",
            )
                .into_response();
        }
    };
    let pools = [
        ("read", state.db.read.size(), state.db.read.num_idle()),
        ("write", state.db.write.size(), state.db.write.num_idle()),
    ];
    let body = render(&snap, &state.counters, &pools);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// One metric's HELP and TYPE lines.
fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The exposition text (pure, for the unit test).
pub fn render(s: &operations::Snapshot, c: &Counters, pools: &[(&str, u32, usize)]) -> String {
    let webhooks: BTreeMap<(&'static str, u16), u64> =
        c.webhooks.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut o = String::new();
    let gauge = |o: &mut String, name: &str, help: &str, v: f64| {
        head(o, name, "gauge", help);
        let _ = writeln!(o, "{name} {v}");
    };
    gauge(
        &mut o,
        "convergence_inbound_queue_depth",
        "Inbound payloads stored and waiting to be processed.",
        s.inbound_pending as f64,
    );
    gauge(
        &mut o,
        "convergence_inbound_queue_oldest_age_seconds",
        "How long the oldest waiting inbound payload has waited.",
        s.inbound_oldest_age_s,
    );
    gauge(
        &mut o,
        "convergence_inbound_failed",
        "Inbound payloads that failed for good and wait for a person (admin, Failed events).",
        s.inbound_failed as f64,
    );
    gauge(
        &mut o,
        "convergence_outbox_depth",
        "Outgoing messages queued and not yet sent or given up.",
        s.outbox_depth as f64,
    );
    gauge(
        &mut o,
        "convergence_outbox_oldest_due_age_seconds",
        "How long ago the longest-waiting outgoing message became due (0 when none is overdue).",
        s.outbox_oldest_due_age_s,
    );
    head(
        &mut o,
        "convergence_mailbox_sync_lag_seconds",
        "gauge",
        "Seconds since each mailbox's sync last looked at its folder successfully.",
    );
    for (id, _, lag) in &s.mailboxes {
        if let Some(lag) = lag {
            let _ = writeln!(
                o,
                "convergence_mailbox_sync_lag_seconds{{account=\"{id}\"}} {lag}"
            );
        }
    }
    head(
        &mut o,
        "convergence_mailbox_phase",
        "gauge",
        "Each mailbox's sync phase (1 for the phase it is in).",
    );
    for (id, phase, _) in &s.mailboxes {
        let phase: String = phase
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let _ = writeln!(
            o,
            "convergence_mailbox_phase{{account=\"{id}\",phase=\"{phase}\"}} 1"
        );
    }
    head(
        &mut o,
        "convergence_webhook_requests_total",
        "counter",
        "Provider webhook requests this process answered, by provider and HTTP status.",
    );
    for ((provider, status), n) in &webhooks {
        let _ = writeln!(
            o,
            "convergence_webhook_requests_total{{provider=\"{provider}\",status=\"{status}\"}} {n}"
        );
    }
    head(
        &mut o,
        "convergence_deliveries",
        "gauge",
        "Outgoing messages by delivery state.",
    );
    for (state, n) in &s.deliveries {
        let _ = writeln!(o, "convergence_deliveries{{state=\"{state}\"}} {n}");
    }
    head(
        &mut o,
        "convergence_sse_clients",
        "gauge",
        "Live streams this process holds open: staff browsers and website chat visitors.",
    );
    let _ = writeln!(
        o,
        "convergence_sse_clients{{stream=\"staff\"}} {}",
        c.staff_streams.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        o,
        "convergence_sse_clients{{stream=\"chat\"}} {}",
        c.chat_streams.load(Ordering::Relaxed)
    );
    head(
        &mut o,
        "convergence_db_pool_connections",
        "gauge",
        "This process's database connections, by pool and whether in use.",
    );
    for (pool, size, idle) in pools {
        let busy = (*size as usize).saturating_sub(*idle);
        let _ = writeln!(
            o,
            "convergence_db_pool_connections{{pool=\"{pool}\",state=\"idle\"}} {idle}"
        );
        let _ = writeln!(
            o,
            "convergence_db_pool_connections{{pool=\"{pool}\",state=\"in_use\"}} {busy}"
        );
    }
    gauge(
        &mut o,
        "convergence_leases_held",
        "Singleton work this process holds (mailboxes, snooze wake-ups, report rollups).",
        s.leases_held as f64,
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_prometheus_exposition() {
        let s = operations::Snapshot {
            inbound_pending: 3,
            inbound_oldest_age_s: 1.5,
            mailboxes: vec![
                (7, "idle".into(), Some(12.0)),
                (8, "error\"}x".into(), None),
            ],
            deliveries: vec![("sent".into(), 4)],
            leases_held: 2,
            ..Default::default()
        };
        let c = Counters::default();
        c.webhooks.lock().unwrap().insert(("twilio", 200), 5);
        let t = render(&s, &c, &[("read", 4, 3)]);
        assert!(t.contains("convergence_inbound_queue_depth 3\n"));
        assert!(t.contains("convergence_inbound_queue_oldest_age_seconds 1.5\n"));
        assert!(t.contains("convergence_mailbox_sync_lag_seconds{account=\"7\"} 12\n"));
        assert!(
            !t.contains("account=\"8\"} "),
            "never-synced has no lag line: {t}"
        );
        // A phase cannot break out of its label.
        assert!(t.contains("convergence_mailbox_phase{account=\"8\",phase=\"errorx\"} 1"));
        assert!(
            t.contains("convergence_webhook_requests_total{provider=\"twilio\",status=\"200\"} 5")
        );
        assert!(t.contains("convergence_db_pool_connections{pool=\"read\",state=\"in_use\"} 1"));
        assert!(t.contains("convergence_leases_held 2\n"));
        // Every sample line belongs to a metric announced by a TYPE line before it.
        let mut typed = std::collections::HashSet::new();
        for line in t.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(typed.contains(name), "{line} has no TYPE");
            }
        }
    }

    #[test]
    fn the_token_must_match_exactly() {
        assert!(eq_constant_time(b"abcdefghijklmnop", b"abcdefghijklmnop"));
        assert!(!eq_constant_time(b"abcdefghijklmnoq", b"abcdefghijklmnop"));
        assert!(!eq_constant_time(b"abcdefghijklmno", b"abcdefghijklmnop"));
        assert!(!eq_constant_time(b"", b"abcdefghijklmnop"));
        assert!(!eq_constant_time(
            b"abcdefghijklmnopabcdefghijklmnop",
            b"abcdefghijklmnop"
        ));
    }

    #[test]
    fn webhook_labels_are_known_providers_only() {
        assert_eq!(provider_label("/webhooks/twilio/3"), "twilio");
        assert_eq!(provider_label("/webhooks/telegram/3/status"), "telegram");
        assert_eq!(provider_label("/webhooks/%7Bevil%7D/3"), "other");
        assert_eq!(provider_label("/webhooks/"), "other");
    }
}
