//! With PostgreSQL, several server processes share one live stream: an event published by one
//! hub reaches the subscribers of another hub (another process) through LISTEN/NOTIFY.

mod common;

use app::model::{LiveEvent, LiveKind};
use app::ssr::live::{run_pg_listener, Hub};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_processes_through_notify() {
    let t = common::test_db(common::Engine::Postgres).await;
    // Two "processes": each has its own hub and its own listener connection.
    let a = Hub::new(&t.db);
    let b = Hub::new(&t.db);
    assert!(a.uses_notify() && b.uses_notify());
    tokio::spawn(run_pg_listener(t.db.url.clone(), a.clone()));
    tokio::spawn(run_pg_listener(t.db.url.clone(), b.clone()));
    let mut rx_a = a.subscribe();
    let mut rx_b = b.subscribe();
    let ev = LiveEvent { kind: LiveKind::Delivery, conversation_id: Some(42), message_id: Some(7) };
    // The listeners need a moment to LISTEN; publish until the other process hears it.
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            a.publish(ev.clone()).await;
            if let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(200), rx_b.recv()).await {
                return e;
            }
        }
    })
    .await
    .expect("hub B never received hub A's event");
    assert_eq!(got, ev);
    // The publisher's own subscribers get it through the same path, once per publish.
    let mine = tokio::time::timeout(Duration::from_secs(2), rx_a.recv()).await.unwrap().unwrap();
    assert_eq!(mine, ev);
}

#[tokio::test]
async fn sqlite_hub_is_in_process() {
    let t = common::test_db(common::Engine::Sqlite).await;
    let hub = Hub::new(&t.db);
    assert!(!hub.uses_notify());
    let mut rx = hub.subscribe();
    let ev = LiveEvent { kind: LiveKind::Message, conversation_id: Some(1), message_id: None };
    hub.publish(ev.clone()).await;
    assert_eq!(rx.try_recv().unwrap(), ev);
}
