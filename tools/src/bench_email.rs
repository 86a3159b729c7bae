//! `tools bench-email`: puts N varied messages into an IMAP mailbox, then measures the import
//! from the first IMAP command until every message is in its customer's conversation.
//! Prints messages per second and the process's peak memory.

use app::domain::email_account::{EmailSettings, TlsMode};
use app::domain::ChannelKind;
use app::ssr::live::Hub;
use app::store::{channel_accounts, Db};
use futures::StreamExt;
use serde_json::json;
use server::channels::email::sync::{run_mailbox, SyncContext, SyncOptions};
use server::channels::Registry;
use sqlx::Row;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub struct EmailBenchOptions {
    pub database_url: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub user: String,
    pub password: String,
    pub messages: usize,
    /// Skip filling the mailbox (it already holds the messages).
    pub no_fill: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Message `i` of the benchmark mailbox: plain, HTML, with an attachment, a reply in a thread,
/// or an auto-reply, from one of 2,000 customers.
pub fn sample_message(i: usize) -> Vec<u8> {
    let customer = i % 2000;
    let from = format!("Customer {customer} <customer{customer}@bench.test>");
    let date = "Sat, 21 Nov 2026 10:00:00 +0000";
    let head = |subject: &str, extra: &str| {
        format!(
            "From: {from}\r\nTo: support@shop.test\r\nSubject: {subject}\r\nDate: {date}\r\n\
             Message-ID: <bench-{i}@bench.test>\r\n{extra}MIME-Version: 1.0\r\n"
        )
    };
    let text = format!(
        "Hello,\r\n\r\nOrder {} has not arrived yet. It was due on Monday and the tracking page \
         has not changed for three days.\r\nCould you check with the carrier?\r\n\r\nThanks,\r\nCustomer {customer}\r\n",
        10_000 + i
    );
    match i % 20 {
        0..=7 => format!(
            "{}Content-Type: text/plain; charset=utf-8\r\n\r\n{text}",
            head("Where is my order?", "")
        ),
        8..=13 => format!(
            "{}Content-Type: multipart/alternative; boundary=\"alt{i}\"\r\n\r\n\
             --alt{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
             --alt{i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello,</p>\
             <p>Order <b>{}</b> has <i>not</i> arrived.</p><img src=\"https://tracker.example/p.gif\">\
             <blockquote>Earlier: your order shipped</blockquote><script>alert(1)</script></body></html>\r\n--alt{i}--\r\n",
            head("Order status", ""),
            10_000 + i
        ),
        14..=15 => {
            let blob = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n".repeat(400);
            format!(
                "{}Content-Type: multipart/mixed; boundary=\"mix{i}\"\r\n\r\n\
                 --mix{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
                 --mix{i}\r\nContent-Type: application/pdf; name=\"invoice-{i}.pdf\"\r\n\
                 Content-Disposition: attachment; filename=\"invoice-{i}.pdf\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{blob}--mix{i}--\r\n",
                head("Invoice attached", "")
            )
        }
        16..=18 => format!(
            "{}Content-Type: text/plain; charset=utf-8\r\n\r\nThanks, that helps.\r\n\r\n\
             On Fri, 20 Nov 2026, Support wrote:\r\n> We are looking into it.\r\n> Kind regards\r\n",
            head(
                "Re: Where is my order?",
                &format!(
                    "In-Reply-To: <bench-{}@bench.test>\r\nReferences: <bench-{}@bench.test>\r\n",
                    i.saturating_sub(20),
                    i.saturating_sub(20)
                )
            )
        ),
        _ => format!(
            "{}Content-Type: text/plain; charset=utf-8\r\n\r\nI am out of the office until Monday.\r\n",
            head("Out of office", "Auto-Submitted: auto-replied\r\n")
        ),
    }
    .into_bytes()
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn fill(o: &EmailBenchOptions) -> Result<(), BoxError> {
    let endpoint = server::channels::email::settings::Endpoint {
        host: o.imap_host.clone(),
        port: o.imap_port,
        tls: TlsMode::None,
        user: o.user.clone(),
        password: o.password.clone(),
    };
    let (mut s, _) =
        server::channels::email::imap::connect(&endpoint, Duration::from_secs(30)).await?;
    for i in 0..o.messages {
        s.append("INBOX", None, None, &sample_message(i)).await?;
    }
    let _ = s.logout().await;
    Ok(())
}

async fn count_in(db: &Db, account: i64) -> Result<i64, BoxError> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE channel_account_id = $1")
            .bind(account)
            .fetch_one(&db.read)
            .await?
            .try_get("n")?,
    )
}

pub async fn run(o: &EmailBenchOptions) -> Result<(), BoxError> {
    let db = Db::connect(&o.database_url).await?;
    db.migrate().await?;
    if !o.no_fill {
        let t = Instant::now();
        fill(o).await?;
        println!(
            "filled the mailbox with {} messages in {:.1} s",
            o.messages,
            t.elapsed().as_secs_f64()
        );
    }
    let settings = EmailSettings {
        from_name: "Bench".into(),
        imap_host: o.imap_host.clone(),
        imap_port: o.imap_port,
        imap_tls: TlsMode::None,
        imap_user: o.user.clone(),
        imap_folder: "INBOX".into(),
        import_since: None,
        smtp_host: String::new(),
        smtp_port: 0,
        smtp_tls: TlsMode::None,
        smtp_user: String::new(),
    };
    let account = channel_accounts::create(
        &db,
        ChannelKind::Email,
        server::channels::email::PROVIDER,
        "Bench mailbox",
        "support@shop.test",
        &serde_json::to_value(&settings)?,
        &json!({ "imap_password": o.password }),
    )
    .await?;
    let hub = Hub::new(&db);
    let wake = Arc::new(Notify::new());
    let registry = Registry::standard("bench-secret-key");
    let started = Instant::now();
    let inbound = tokio::spawn(server::workers::inbound::run(
        db.clone(),
        hub.clone(),
        registry,
        wake.clone(),
    ));
    let sync = tokio::spawn(run_mailbox(
        SyncContext {
            db: db.clone(),
            hub: hub.clone(),
            inbound: wake,
            opts: SyncOptions::default(),
            shown: Default::default(),
        },
        account,
    ));
    // Drain the live events nobody listens to here.
    let mut events = tokio_stream::wrappers::BroadcastStream::new(hub.subscribe());
    tokio::spawn(async move { while events.next().await.is_some() {} });
    let mut raw_done = None;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if raw_done.is_none() {
            let st = app::store::mailbox::status(&db, account).await?;
            if st.as_ref().is_some_and(|s| s.phase == "idle") {
                raw_done = Some(started.elapsed());
            }
            if let Some(s) = st.filter(|s| s.phase == "error") {
                return Err(format!("sync failed: {}", s.detail.unwrap_or_default()).into());
            }
        }
        let n = count_in(&db, account).await?;
        if n as usize >= o.messages {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            return Err(format!("only {n} of {} messages after 30 minutes", o.messages).into());
        }
    }
    let total = started.elapsed();
    sync.abort();
    inbound.abort();
    let failed: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM raw_inbound WHERE channel_account_id = $1 AND state = 'failed'",
    )
    .bind(account)
    .fetch_one(&db.read)
    .await?
    .try_get("n")?;
    let conversations: i64 = sqlx::query(
        "SELECT COUNT(DISTINCT conversation_id) AS n FROM messages WHERE channel_account_id = $1",
    )
    .bind(account)
    .fetch_one(&db.read)
    .await?
    .try_get("n")?;
    println!("email import benchmark ({:?})", db.backend);
    println!("  messages:           {}", o.messages);
    println!("  conversations:      {conversations}");
    println!("  failed to parse:    {failed}");
    if let Some(r) = raw_done {
        println!(
            "  raw fetch + store:  {:.2} s ({:.0} messages/s)",
            r.as_secs_f64(),
            o.messages as f64 / r.as_secs_f64()
        );
    }
    println!(
        "  import to threaded: {:.2} s ({:.0} messages/s)",
        total.as_secs_f64(),
        o.messages as f64 / total.as_secs_f64()
    );
    if let Some(k) = peak_rss_kib() {
        println!("  peak memory (RSS):  {:.1} MiB", k as f64 / 1024.0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_messages_parse_and_vary() {
        use server::channels::email::parse::{parse, Limits};
        let mut html = 0;
        let mut attachments = 0;
        let mut auto = 0;
        for i in 0..40 {
            let p = parse(&sample_message(i), &Limits::default()).unwrap();
            assert!(p.from.is_some());
            html += p.html.is_some() as usize;
            attachments += (!p.attachments.is_empty()) as usize;
            auto += p.auto.is_some() as usize;
        }
        assert!(html > 0 && attachments > 0 && auto > 0);
    }
}
