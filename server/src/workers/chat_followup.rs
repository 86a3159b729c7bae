//! Sends a website chat's unseen answers on by email once the visitor has gone
//! (`app::service::chat_followup`), with a link that continues the chat where it was.

use crate::channels::chat::token;
use app::service::chat_followup::{follow_up_unseen, FollowUp, Timing};
use app::ssr::live::Hub;
use app::store::{now_ms, Db, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long a "continue in the chat" link in a follow-up email stays valid.
pub const LINK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// A chat visitor not seen for this long is forgotten (`chat_visitors`): far beyond the visitor
/// token's lifetime, so no widget can name them again. What they wrote stays.
pub const FORGET_VISITORS_AFTER_MS: i64 = 7 * 24 * 3600 * 1000;
const _: () = assert!(FORGET_VISITORS_AFTER_MS > 2 * crate::http::chat::TOKEN_TTL_MS);

/// How often the worker forgets gone visitors, and how many per statement.
const FORGET_EVERY_MS: i64 = 10 * 60 * 1000;
const FORGET_BATCH: i64 = 1000;

/// Forgets the visitors gone since before `now - FORGET_VISITORS_AFTER_MS`, a batch at a time;
/// answers how many. Bounded work per call: at most 100 batches.
pub async fn forget_gone_visitors(db: &Db, now: i64) -> Result<u64, StoreError> {
    let mut total = 0;
    for _ in 0..100 {
        let n = app::store::chat::prune(db, now - FORGET_VISITORS_AFTER_MS, FORGET_BATCH).await?;
        total += n;
        if n < FORGET_BATCH as u64 {
            break;
        }
    }
    Ok(total)
}

/// The page the visitor wrote from with the signed continue parameter the widget reads.
pub fn continue_link(key: &[u8], chat: i64, customer: i64, page: &str, now: i64) -> Option<String> {
    let t = token::continue_token(key, chat, customer, now + LINK_TTL_MS);
    let base = page.split('#').next()?;
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return None;
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}convergence_chat={t}"))
}

/// One round at `now`: follows up what is due, wakes the outbox, tells agents' browsers.
pub async fn round(
    db: &Db,
    hub: &Hub,
    key: &[u8],
    outbox: &Notify,
    timing: Timing,
    now: i64,
) -> Result<Vec<FollowUp>, StoreError> {
    let link = move |customer: i64, at: Option<(i64, &str)>| {
        at.and_then(|(chat, page)| continue_link(key, chat, customer, page, now))
    };
    let done = follow_up_unseen(db, now, timing, &link).await?;
    for f in &done {
        match &f.outcome {
            Ok(_) => {
                outbox.notify_one();
                hub.conversation_changed(f.conversation).await;
            }
            Err(why) => tracing::info!(
                conversation = f.conversation,
                answers = f.answers.len(),
                "unseen chat answers not emailed: {why}"
            ),
        }
    }
    Ok(done)
}

/// Runs a round every `timing.every_ms`. Each round is a task of its own: a failure or a panic
/// is logged and the next round goes on.
pub async fn run(db: Db, hub: Hub, key: Arc<[u8]>, outbox: Arc<Notify>, timing: Timing) {
    let mut last_forget = 0;
    loop {
        let now = now_ms();
        if now - last_forget >= FORGET_EVERY_MS {
            last_forget = now;
            match forget_gone_visitors(&db, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(visitors = n, "gone chat visitors forgotten"),
                Err(e) => tracing::warn!(error = %e, "forgetting gone chat visitors"),
            }
        }
        let (db2, hub2, key2, outbox2) = (db.clone(), hub.clone(), key.clone(), outbox.clone());
        let done =
            tokio::spawn(
                async move { round(&db2, &hub2, &key2, &outbox2, timing, now_ms()).await },
            )
            .await;
        match done {
            Ok(Ok(f)) if !f.is_empty() => {
                let emailed = f.iter().filter(|f| f.outcome.is_ok()).count();
                tracing::info!(
                    conversations = f.len(),
                    emailed,
                    "unseen chat answers followed up"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "chat follow-up worker"),
            Err(e) => tracing::error!(error = %e, "chat follow-up round panicked"),
        }
        tokio::time::sleep(Duration::from_millis(timing.every_ms as u64)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_is_the_visitors_page_with_a_signed_parameter() {
        let l = continue_link(b"k", 3, 42, "https://shop.example.com/cart?step=2#top", 0).unwrap();
        let (page, t) = l.split_once("&convergence_chat=").unwrap();
        assert_eq!(page, "https://shop.example.com/cart?step=2");
        assert_eq!(token::verify_continue(b"k", t, 3, 1), Ok(42));
        assert!(continue_link(b"k", 3, 42, "javascript:alert(1)", 0).is_none());
        let plain = continue_link(b"k", 3, 42, "https://shop.example.com/", 0).unwrap();
        assert!(plain.starts_with("https://shop.example.com/?convergence_chat=k1.3.42."));
    }
}
