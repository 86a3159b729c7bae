//! Every message of the real email corpus through the whole inbound path (raw store, email
//! receiver, threading into conversations) on SQLite and PostgreSQL: nothing is lost, nothing
//! hangs, failures are kept raw with their error, and a second delivery adds nothing.

use app::domain::ChannelKind;
use app::store::raw_inbound::{self, Stored};
use app::store::{channel_accounts, Db};
use server::channels::email::{parse, sanitize, PROVIDER};
use server::channels::Registry;
use sqlx::Row;
use std::path::{Path, PathBuf};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dirs = [
        std::env::var("CONVERGENCE_EML_CORPUS")
            .map(PathBuf::from)
            .ok(),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/eml")),
        Some(PathBuf::from("/work/shared/corpus/eml")),
    ];
    let dir = dirs
        .iter()
        .flatten()
        .find(|d| d.is_dir())
        .unwrap_or_else(|| panic!("the email corpus was not found; tried {dirs:?}"));
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 100,
        "expected the 107-message corpus, found {}",
        files.len()
    );
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

async fn count(db: &Db, sql: &str, account: i64) -> i64 {
    sqlx::query(sql)
        .bind(account)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn whole_corpus_ingests_once(db: Db) {
    let settings = serde_json::json!({
        "from_name": "Support", "imap_host": "127.0.0.1", "imap_port": 1, "imap_tls": "none",
        "imap_user": "u", "imap_folder": "INBOX", "smtp_host": "", "smtp_port": 0, "smtp_tls": "none", "smtp_user": ""
    });
    let acc = channel_accounts::create(
        &db,
        ChannelKind::Email,
        PROVIDER,
        "Corpus",
        "support@convergence.test",
        &settings,
        &serde_json::json!({}),
    )
    .await
    .unwrap();
    let files = corpus();
    let deliver = || async {
        let mut new = 0;
        for (name, raw) in &files {
            match raw_inbound::store(&db, acc, &parse::dedupe_key(raw), "message/rfc822", raw)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
            {
                Stored::New(_) => new += 1,
                Stored::Duplicate => {}
            }
        }
        new
    };
    let first = deliver().await;
    let hub = app::ssr::live::Hub::new(&db);
    let registry = Registry::standard(crate::support::TEST_SECRET);
    let started = std::time::Instant::now();
    while server::workers::inbound::process_pending(&db, &hub, &registry, 200)
        .await
        .unwrap()
        > 0
    {
        assert!(
            started.elapsed().as_secs() < 120,
            "processing the corpus hung"
        );
    }
    let pending = count(
        &db,
        "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1 AND state = 'pending'",
        acc,
    )
    .await;
    assert_eq!(pending, 0, "every raw message was dealt with");
    let failed_without_words = count(
        &db,
        "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1 AND state = 'failed' AND (error IS NULL OR error = '')",
        acc,
    )
    .await;
    assert_eq!(failed_without_words, 0, "every failure says why");
    let raw_total = count(
        &db,
        "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1",
        acc,
    )
    .await;
    assert_eq!(
        raw_total, first as i64,
        "every distinct message is kept raw"
    );
    let messages = count(
        &db,
        "SELECT COUNT(*) FROM messages WHERE channel_account_id = $1",
        acc,
    )
    .await;
    assert!(
        messages as usize >= files.len() / 2,
        "most of the corpus became messages: {messages}"
    );
    // Every stored HTML body renders without scripts, handlers or remote loads.
    let rows = sqlx::query(
        "SELECT body_html FROM messages WHERE channel_account_id = $1 AND body_html IS NOT NULL",
    )
    .bind(acc)
    .fetch_all(&db.read)
    .await
    .unwrap();
    for r in &rows {
        let html: String = r.try_get("body_html").unwrap();
        let frame = sanitize::render_frame(&html, false).html.to_lowercase();
        for bad in [
            "<script",
            "javascript:",
            "src=\"http",
            "src=\"//",
            "<iframe",
            "<object",
            "<embed",
            "<form",
        ] {
            assert!(!frame.contains(bad), "rendered email contains {bad}");
        }
        assert!(
            !regex_like_handler(&frame),
            "rendered email contains an event handler attribute"
        );
    }
    for r in sqlx::query(
        "SELECT error FROM raw_inbound WHERE channel_account_id = $1 AND state = 'failed'",
    )
    .bind(acc)
    .fetch_all(&db.read)
    .await
    .unwrap()
    {
        println!("failed: {}", r.try_get::<String, _>("error").unwrap());
    }
    // The same corpus again: nothing new anywhere.
    assert_eq!(deliver().await, 0);
    server::workers::inbound::process_pending(&db, &hub, &registry, 200)
        .await
        .unwrap();
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM messages WHERE channel_account_id = $1",
            acc
        )
        .await,
        messages
    );
    println!(
        "corpus: {} files, {first} distinct, {messages} messages, {} failed, {} ignored",
        files.len(),
        count(
            &db,
            "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1 AND state = 'failed'",
            acc
        )
        .await,
        count(
            &db,
            "SELECT COUNT(*) FROM raw_inbound WHERE channel_account_id = $1 AND state = 'ignored'",
            acc
        )
        .await,
    );
}

/// ` on<letters>=` inside a tag.
fn regex_like_handler(html: &str) -> bool {
    let b = html.as_bytes();
    let mut in_tag = false;
    for i in 0..b.len() {
        match b[i] {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b' ' | b'\t' | b'\n' | b'/' if in_tag => {
                let rest = &b[i + 1..];
                if rest.len() > 3 && rest[0] == b'o' && rest[1] == b'n' {
                    let n = rest[2..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .count();
                    if n > 0 && rest.get(2 + n) == Some(&b'=') {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

both_engines!(whole_corpus_ingests_once);
