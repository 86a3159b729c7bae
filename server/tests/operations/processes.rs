//! Three server processes on one PostgreSQL database and one real Dovecot mailbox (reached
//! through a proxy that counts open connections): exactly one IMAP session at a time, the
//! mailbox taken over within 30 s after its process is killed with `kill -9`, nothing imported
//! twice, and a reply sent once.

use crate::support::email::{
    conversation_of, count, eventually, mail, messages_of, servers, settings, PASSWORD, SUPPORT,
};
use crate::support::processes::{free_port, healthy, spawn_server, Guarded};
use crate::support::proxy::DropProxy;
use crate::support::{run_on, Engine};
use app::domain::{ChannelKind, Role};
use app::store::{channel_accounts, leases, users, Db};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_a_mailbox_one_session_at_a_time() {
    run_on(Engine::Postgres, three_processes).await
}

fn question(n: u32) -> Vec<u8> {
    mail(
        &format!("buyer{n}@example.com"),
        &format!("Order {n}"),
        Some(&format!("order-{n}@example.com")),
        "",
        "Where is my parcel?",
    )
}

async fn imported(db: &Db, account: i64) -> (i64, i64) {
    (
        count(
            db,
            "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1",
            account,
        )
        .await,
        messages_of(db, account).await,
    )
}

async fn three_processes(db: Db) {
    let mail_servers = servers().await;
    for n in 1..=20 {
        mail_servers.append(SUPPORT, "INBOX", &question(n)).await;
    }
    let proxy = DropProxy::start(mail_servers.imap_port).await;
    let account = channel_accounts::create(
        &db,
        ChannelKind::Email,
        "email",
        "Support mailbox",
        SUPPORT,
        &serde_json::to_value(settings(proxy.port, mail_servers.smtp_port, "INBOX")).unwrap(),
        &json!({ "imap_password": PASSWORD, "smtp_password": "" }),
    )
    .await
    .unwrap();
    let agent = users::create_user(&db, "ops@example.com", "Ops", Role::Support, "password-123")
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("convergence_ops_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = [free_port(), free_port(), free_port()];
    let mut procs: Vec<Option<Guarded>> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| Some(spawn_server(&db.url, &dir, *p, i + 1)))
        .collect();
    for p in ports {
        healthy(p).await;
    }
    eventually(60, "the 20 messages imported", || async {
        (imported(&db, account).await == (20, 20)).then_some(())
    })
    .await;
    // Give the other two processes several lease rounds to (wrongly) open sessions too.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(proxy.open(), 1, "one IMAP session for the mailbox");
    assert_eq!(proxy.max_open(), 1, "never two at once");
    assert_eq!(proxy.connections(), 1, "the holder kept its one session");

    // Kill the holder the hard way; another process takes the mailbox over.
    let name = format!("mailbox:{account}");
    let holder = leases::holder_of(&db, &name, app::store::now_ms())
        .await
        .unwrap()
        .expect("a process holds the mailbox");
    let pid: u32 = holder.split('/').nth(1).unwrap().parse().unwrap();
    let victim = procs
        .iter()
        .position(|p| p.as_ref().is_some_and(|g| g.child.id() == pid))
        .unwrap_or_else(|| panic!("the holder {holder} is one of ours"));
    let killed_at = Instant::now();
    procs[victim].take().unwrap().kill();
    for n in 21..=25 {
        mail_servers.append(SUPPORT, "INBOX", &question(n)).await;
    }
    eventually(60, "the 5 new messages imported after the kill", || async {
        (imported(&db, account).await == (25, 25)).then_some(())
    })
    .await;
    let took = killed_at.elapsed();
    eprintln!("failover: the 5 new messages were imported {took:?} after kill -9 of the holder");
    assert!(
        took < Duration::from_secs(30),
        "taken over within 30 s (took {took:?})"
    );
    let new_holder = leases::holder_of(&db, &name, app::store::now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(new_holder, holder, "another process holds it now");
    assert_eq!(proxy.open(), 1);
    assert_eq!(proxy.max_open(), 1, "still never two sessions at once");
    assert_eq!(
        proxy.connections(),
        2,
        "one session before the kill, one after"
    );
    let distinct: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT provider_message_id) FROM messages WHERE channel_account_id = $1",
    )
    .bind(account)
    .fetch_one(&db.read)
    .await
    .unwrap();
    assert_eq!(distinct, 25, "nothing imported twice");

    // A reply is sent once, by one of the two processes left.
    let conv = conversation_of(&db, "buyer7@example.com").await;
    let d = app::service::conversations::detail(&db, conv)
        .await
        .unwrap();
    let o = d
        .reply_options
        .iter()
        .find(|o| o.account_id == account)
        .unwrap();
    let text = "Your parcel left the warehouse this morning";
    app::service::reply::queue_reply(&db, conv, account, o.identifier_id, agent, text)
        .await
        .unwrap();
    let sent = || {
        mail_servers
            .smtp_copies()
            .iter()
            .filter(|(_, raw)| String::from_utf8_lossy(raw).contains(text))
            .count()
    };
    eventually(30, "the reply sent", || async {
        (sent() > 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sent(), 1, "the reply went once");
    drop(procs);
}
