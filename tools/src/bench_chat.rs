//! `tools bench-chat`: the website chat under load against the real router and workers (in
//! this process, on the database CONVERGENCE_DATABASE_URL names). `streams` visitors each hold
//! the widget's live stream open (every one of them has written before, as real visitors have);
//! then, at 1 and at 4 clients, visitors send messages for `seconds` each. Prints the messages
//! per second the server took, the send latency (POST answered: the message is stored) and the
//! delivery latency (POST sent until the message came back on the visitor's own stream: stored,
//! threaded, and pushed past every other open stream), each as p50/p90/p99/max, and any
//! message that never came back.

use crate::stats::percentile;
use app::domain::ChannelKind;
use app::ssr::chat_token;
use app::store::{channel_accounts, now_ms, Db};
use futures::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct ChatBenchOptions {
    pub database_url: String,
    pub streams: usize,
    pub clients: Vec<usize>,
    pub seconds: u64,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const SITE: &str = "https://bench.example.com";
const SECRET: &str = "bench-secret-key-bench-secret-key";

/// When each message was sent, by its widget id; the streams take the entry out on arrival.
type Pending = Arc<Mutex<HashMap<String, Instant>>>;

pub async fn run(o: &ChatBenchOptions) -> Result<(), BoxError> {
    // One address sends everything here: the per-address limits would stop a load test.
    std::env::set_var("CONVERGENCE_CHAT_LIMIT_SCALE", "100000");
    let db = Db::connect(&o.database_url).await?;
    db.migrate().await?;
    let chat = channel_accounts::create(
        &db,
        ChannelKind::Chat,
        "chat",
        "Bench chat",
        SITE,
        &json!({"origins": SITE, "colour": "#1f5fbf", "name_field": "off", "email_field": "off", "phone_field": "off"}),
        &json!({}),
    )
    .await?;
    let addr = crate::in_process::serve(&db, SECRET).await?;
    println!(
        "bench-chat: {} open widget streams, clients {:?}, {} s each ({})",
        o.streams, o.clients, o.seconds, o.database_url
    );

    // Visitors, each with a first message (so each stream knows its conversation).
    let expires = now_ms() + 24 * 3600 * 1000;
    let tokens: Vec<String> = (0..o.streams)
        .map(|_| {
            let v = chat_token::new_visitor_id();
            chat_token::visitor_token(SECRET.as_bytes(), chat, &v, expires)
        })
        .collect();
    let tokens = Arc::new(tokens);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let messages_url = Arc::new(format!("{addr}/chat/api/{chat}/messages"));
    let started = Instant::now();
    futures::stream::iter(tokens.iter().enumerate())
        .for_each_concurrent(16, |(i, t)| {
            let (http, url) = (http.clone(), messages_url.clone());
            async move {
                let _ = send(&http, &url, t, &format!("w-first-{i:08}"), "Hello").await;
            }
        })
        .await;
    wait_ingested(&db, chat, o.streams as i64).await?;
    println!(
        "setup         {} visitors wrote a first message ({:.1} s)",
        o.streams,
        started.elapsed().as_secs_f64()
    );

    // The streams.
    let pending: Pending = Arc::default();
    let arrivals: Arc<Mutex<Vec<f64>>> = Arc::default();
    let opened = Arc::new(AtomicU64::new(0));
    let stream_client = reqwest::Client::builder().build()?;
    for t in tokens.iter() {
        let url = format!(
            "{addr}/chat/api/{chat}/stream?site={}&token={t}",
            SITE.replace(':', "%3A").replace('/', "%2F")
        );
        let (client, pending, arrivals, opened) = (
            stream_client.clone(),
            pending.clone(),
            arrivals.clone(),
            opened.clone(),
        );
        tokio::spawn(async move {
            let Ok(mut r) = client.get(&url).send().await else {
                return;
            };
            if r.status() != 200 {
                return;
            }
            opened.fetch_add(1, Ordering::Relaxed);
            let mut buf = String::new();
            while let Ok(Some(chunk)) = r.chunk().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    let Some(id) = block
                        .split("\"client_id\":\"")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                    else {
                        continue;
                    };
                    if let Some(sent) = pending.lock().unwrap().remove(id) {
                        arrivals
                            .lock()
                            .unwrap()
                            .push(sent.elapsed().as_secs_f64() * 1000.0);
                    }
                }
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while (opened.load(Ordering::Relaxed) as usize) < o.streams && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("streams       {} open", opened.load(Ordering::Relaxed));

    let counter = Arc::new(AtomicU64::new(0));
    for &clients in &o.clients {
        arrivals.lock().unwrap().clear();
        let stop = Instant::now() + Duration::from_secs(o.seconds);
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (http, url, tokens, pending, counter) = (
                http.clone(),
                messages_url.clone(),
                tokens.clone(),
                pending.clone(),
                counter.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let (mut lat, mut failed) = (Vec::new(), 0u64);
                while Instant::now() < stop {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let token = &tokens[n as usize % tokens.len()];
                    let id = format!("w-bench-{n:012}");
                    let t = Instant::now();
                    pending.lock().unwrap().insert(id.clone(), t);
                    match send(&http, &url, token, &id, "Is my order on its way?").await {
                        Ok(()) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                        Err(_) => {
                            failed += 1;
                            pending.lock().unwrap().remove(&id);
                        }
                    }
                }
                (lat, failed)
            }));
        }
        let (mut lat, mut failed) = (Vec::new(), 0);
        for t in tasks {
            let (l, f) = t.await?;
            lat.extend(l);
            failed += f;
        }
        let elapsed = t0.elapsed().as_secs_f64();
        // The last messages still on their way back.
        let wait = Instant::now() + Duration::from_secs(10);
        while !pending.lock().unwrap().is_empty() && Instant::now() < wait {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let lost = std::mem::take(&mut *pending.lock().unwrap()).len();
        let mut back = arrivals.lock().unwrap().clone();
        lat.sort_by(|a, b| a.total_cmp(b));
        back.sort_by(|a, b| a.total_cmp(b));
        println!(
            "clients {clients}     {:.0} messages/s ({} sent, {failed} refused or failed, {lost} never came back)",
            lat.len() as f64 / elapsed,
            lat.len()
        );
        print_dist("  send", &lat);
        print_dist("  delivered", &back);
    }
    Ok(())
}

fn print_dist(what: &str, v: &[f64]) {
    println!(
        "{what:<14}p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        percentile(v, 50.0),
        percentile(v, 90.0),
        percentile(v, 99.0),
        v.last().copied().unwrap_or(0.0)
    );
}

async fn send(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    id: &str,
    text: &str,
) -> Result<(), BoxError> {
    let r = http
        .post(url)
        .header("Origin", SITE)
        .json(&json!({ "site": SITE, "token": token, "client_id": id, "text": text }))
        .send()
        .await?;
    if r.status() != 202 {
        return Err(format!("{}: {}", r.status(), r.text().await.unwrap_or_default()).into());
    }
    Ok(())
}

async fn wait_ingested(db: &Db, chat: i64, n: i64) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let done: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE channel_account_id = $1")
                .bind(chat)
                .fetch_one(&db.read)
                .await?,
            "n",
        )?;
        if done >= n || Instant::now() > deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
