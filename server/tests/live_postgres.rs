//! With PostgreSQL, several server processes share one live stream: an event published by one
//! hub reaches the subscribers of another hub (another process) through LISTEN/NOTIFY.

use app::model::{LiveEvent, LiveKind};
use app::ssr::live::{run_pg_listener, Hub};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_processes_through_notify() {
    let t = crate::support::test_db(crate::support::Engine::Postgres).await;
    // Two "processes": each has its own hub and its own listener connection.
    let a = Hub::new(&t.db);
    let b = Hub::new(&t.db);
    assert!(a.uses_notify() && b.uses_notify());
    tokio::spawn(run_pg_listener(t.db.url.clone(), a.clone()));
    tokio::spawn(run_pg_listener(t.db.url.clone(), b.clone()));
    let mut rx_a = a.subscribe();
    let mut rx_b = b.subscribe();
    // Each listener needs a moment to LISTEN; publish from A until both processes heard one
    // (a process's own subscribers get its events through the database too).
    let mut heard_a = None;
    let mut heard_b = None;
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut n = 0;
        while heard_a.is_none() || heard_b.is_none() {
            n += 1;
            let ev = LiveEvent {
                kind: LiveKind::Delivery,
                conversation_id: Some(42),
                message_id: Some(n),
                presence: None,
            };
            a.publish(ev).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            while let Ok(e) = rx_a.try_recv() {
                heard_a.get_or_insert(e);
            }
            while let Ok(e) = rx_b.try_recv() {
                heard_b.get_or_insert(e);
            }
        }
    })
    .await
    .expect("both processes should hear events published by one of them");
    for e in [heard_a.unwrap(), heard_b.unwrap()] {
        assert_eq!(e.kind, LiveKind::Delivery);
        assert_eq!(e.conversation_id, Some(42));
    }
}

#[tokio::test]
async fn sqlite_hub_is_in_process() {
    let t = crate::support::test_db(crate::support::Engine::Sqlite).await;
    let hub = Hub::new(&t.db);
    assert!(!hub.uses_notify());
    let mut rx = hub.subscribe();
    let ev = LiveEvent {
        kind: LiveKind::Message,
        conversation_id: Some(1),
        message_id: None,
        presence: None,
    };
    hub.publish(ev.clone()).await;
    assert_eq!(rx.try_recv().unwrap(), ev);
}
