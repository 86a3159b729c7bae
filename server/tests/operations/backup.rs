//! `server backup --to FILE` while webhooks keep arriving: the backup, restored (opened and
//! migrated as a server would), holds every message acknowledged before it started, and passes
//! SQLite's integrity check. A second backup to the same file is refused and changes nothing.

use crate::support::{spawn_app, Engine};
use app::domain::ChannelKind;
use app::store::{channel_accounts, Db};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "backup-hook-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_webhook_load_holds_every_acknowledged_message() {
    let app = spawn_app(Engine::Sqlite).await;
    let db = &app.state.db;
    let account = channel_accounts::create(
        db,
        ChannelKind::Telegram,
        "telegram",
        "Backup bot",
        "backup_bot",
        &json!({ "bot_username": "backup_bot" }),
        &json!({ "bot_token": "1:AA", "secret_token": SECRET }),
    )
    .await
    .unwrap();
    let hook = app.url(&format!("/webhooks/telegram/{account}"));
    // Four clients post updates until told to stop; each acknowledged update is noted with
    // the time of its answer.
    let acked: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for client in 0..4i64 {
        let (hook, acked, stop) = (hook.clone(), acked.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0i64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                let id = client * 1_000_000 + n;
                let update = json!({"update_id": id, "message": {
                    "message_id": id, "date": 1_700_000_000, "text": format!("update {id}"),
                    "from": {"id": 9000 + client, "is_bot": false, "first_name": "Load"},
                    "chat": {"id": 9000 + client, "type": "private", "first_name": "Load"}}});
                let r = http
                    .post(&hook)
                    .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                    .json(&update)
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().is_success()) {
                    acked.lock().unwrap().push((id, Instant::now()));
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let dir = std::env::temp_dir().join(format!(
        "convergence_backup_{}_{}",
        std::process::id(),
        app::store::now_ms()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("convergence-backup.db");
    let backup = |file: std::path::PathBuf| {
        let url = db.url.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .env("CONVERGENCE_LOG", "warn")
                .args(["--database-url", &url, "backup", "--to"])
                .arg(&file)
                .output()
                .await
                .unwrap()
        }
    };
    let started = Instant::now();
    let out = backup(file.clone()).await;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "backup: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("integrity ok"), "{stdout}");
    eprintln!("under load: {}", stdout.trim());
    // Load goes on a little after the backup, then stops.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for l in load {
        l.await.unwrap();
    }
    let before: BTreeSet<i64> = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| *at < started)
        .map(|(id, _)| *id)
        .collect();
    assert!(
        before.len() >= 20,
        "load was running when the backup began ({} acknowledged)",
        before.len()
    );

    // Restore: open the file as a server would (migrations included) and read it.
    let restored = Db::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    restored.migrate().await.unwrap();
    assert_eq!(restored.integrity().await.unwrap(), "ok");
    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM raw_inbound WHERE channel_account_id = $1")
            .bind(account)
            .fetch_all(&restored.read)
            .await
            .unwrap();
    let held: BTreeSet<i64> = payloads
        .iter()
        .filter_map(|p| serde_json::from_slice::<Value>(p).ok()?["update_id"].as_i64())
        .collect();
    let missing: Vec<&i64> = before.difference(&held).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged before the backup are missing from it: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&restored.read)
        .await
        .unwrap();
    assert!(users > 0, "the rest of the data came too");
    restored.close().await;

    // The same target again: refused, and the backup is untouched.
    let size = std::fs::metadata(&file).unwrap().len();
    let again = backup(file.clone()).await;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists already"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::metadata(&file).unwrap().len(), size);
    let _ = std::fs::remove_dir_all(&dir);
}
