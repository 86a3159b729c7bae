//! One sync worker per mailbox, and the supervisor that starts, restarts and stops them.
//!
//! A worker connects, EXAMINEs the folder (read-only: nothing is ever marked read or moved),
//! imports every message after the stored (UIDVALIDITY, last UID) in batches with
//! `BODY.PEEK[]`, stores each raw message before anything parses it, then waits with IDLE
//! (ended every `reconcile_interval`, so a server that never announces new mail still cannot
//! hold a message back for more than a minute) or polls when the server has no IDLE. Mail the
//! server announces while an import runs (an unsolicited EXISTS during FETCH, which it will not
//! announce again in IDLE) and mail that arrived since the last search are looked for right
//! before IDLE starts. Every command has a timeout; any failure is shown on the account in the
//! server's words and the worker reconnects with exponential backoff.
//!
//! With several server processes on one database, each mailbox is synced by the one process
//! that holds its lease (`mailbox:<id>`, see `crate::leases`); the others take over within
//! 25 s when it dies. Account changes reach every process's supervisor at once through the
//! live hub (NOTIFY on PostgreSQL).

use super::imap::{self, timed, ImapError, Session};
use super::parse;
use super::settings::{imap_date, EmailAccount};
use crate::leases;
use app::model::{LiveEvent, LiveKind};
use app::ports::BatchItem;
use app::ssr::live::Hub;
use app::store::mailbox::{self, Position};
use app::store::raw_inbound;
use app::store::{channel_accounts, Db};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Messages fetched per `UID FETCH`.
    pub batch: usize,
    pub command_timeout: Duration,
    /// IDLE is ended and re-issued after this long (RFC 2177: before 29 minutes).
    pub idle_timeout: Duration,
    /// How often a server without IDLE is asked for new mail.
    pub poll_interval: Duration,
    /// IDLE is ended and the folder searched again at least this often, whatever the server
    /// announces (a server may fail to announce new mail at all).
    pub reconcile_interval: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Larger messages keep only their header, quarantined with an error.
    pub max_message_bytes: u32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            batch: 200,
            command_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(25 * 60),
            poll_interval: Duration::from_secs(30),
            reconcile_interval: Duration::from_secs(50),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            max_message_bytes: 25 * 1024 * 1024,
        }
    }
}

/// What the workers share.
#[derive(Clone)]
pub struct SyncContext {
    pub db: Db,
    pub hub: Hub,
    /// Wakes the inbound worker when raw messages were stored.
    pub inbound: Arc<Notify>,
    pub opts: SyncOptions,
    /// What each mailbox last told the admin page (phase, detail, total): the periodic
    /// reconciliation writes its success every 50 s, and browsers hear only of changes.
    pub shown: Arc<std::sync::Mutex<HashMap<i64, String>>>,
}

impl SyncContext {
    async fn phase(&self, account_id: i64, phase: &str, detail: Option<&str>, total: Option<i64>) {
        if let Err(e) = mailbox::set_phase(&self.db, account_id, phase, detail, total).await {
            tracing::error!(account_id, error = %e, "cannot record mailbox phase");
        }
        let (state, state_detail) = match phase {
            "error" => ("error", detail),
            "disabled" => ("disabled", None),
            _ => ("ok", None),
        };
        if let Err(e) = mailbox::set_account_state(&self.db, account_id, state, state_detail).await
        {
            tracing::error!(account_id, error = %e, "cannot record account state");
        }
        let now_showing = format!("{phase}|{detail:?}|{total:?}");
        let news = self
            .shown
            .lock()
            .map(|mut m| m.insert(account_id, now_showing.clone()) != Some(now_showing))
            .unwrap_or(true);
        if news {
            self.changed().await;
        }
    }

    async fn changed(&self) {
        self.hub
            .publish(LiveEvent {
                kind: LiveKind::Channel,
                conversation_id: None,
                message_id: None,
                presence: None,
            })
            .await;
    }
}

fn backoff(opts: &SyncOptions, failures: u32) -> Duration {
    let f = failures.clamp(1, 16) - 1;
    opts.backoff_min
        .saturating_mul(1u32 << f)
        .min(opts.backoff_max)
}

/// Runs the worker of one mailbox until it is disabled or misconfigured (the supervisor
/// restarts it when its settings change).
pub async fn run_mailbox(ctx: SyncContext, account_id: i64) {
    let mut failures = 0u32;
    loop {
        let row = match channel_accounts::get(&ctx.db, account_id).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(account_id, error = %e, "mailbox worker cannot read its account");
                failures += 1;
                tokio::time::sleep(backoff(&ctx.opts, failures)).await;
                continue;
            }
        };
        if !row.enabled {
            ctx.phase(account_id, "disabled", None, None).await;
            return;
        }
        let acc = match EmailAccount::from_row(&row) {
            Ok(a) => a,
            Err(e) => {
                let _ = mailbox::ensure(&ctx.db, account_id, "INBOX").await;
                ctx.phase(account_id, "error", Some(&e.to_string()), None)
                    .await;
                return;
            }
        };
        if let Err(e) = mailbox::ensure(&ctx.db, account_id, &acc.folder).await {
            tracing::error!(account_id, error = %e, "cannot prepare mailbox sync");
        }
        let err = sync_session(&ctx, &acc, &mut failures).await;
        failures += 1;
        let wait = backoff(&ctx.opts, failures);
        tracing::warn!(account_id, error = %err, retry_in = ?wait, "mailbox sync stopped");
        ctx.phase(
            account_id,
            "error",
            Some(&format!("{err} (retrying in {} s)", wait.as_secs().max(1))),
            None,
        )
        .await;
        tokio::time::sleep(wait).await;
    }
}

/// One connection's life: returns only with the error that ended it.
async fn sync_session(ctx: &SyncContext, acc: &EmailAccount, failures: &mut u32) -> ImapError {
    match sync_session_inner(ctx, acc, failures).await {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

enum Never {}

async fn sync_session_inner(
    ctx: &SyncContext,
    acc: &EmailAccount,
    failures: &mut u32,
) -> Result<Never, ImapError> {
    let t = ctx.opts.command_timeout;
    ctx.phase(acc.id, "connecting", None, None).await;
    let (mut s, caps) = imap::connect(&acc.imap, t).await?;
    let mut pos = mailbox::position(&ctx.db, acc.id)
        .await
        .map_err(|e| ImapError::Server(format!("storage: {e}")))?;
    *failures = 0;
    let has_idle = caps.has_str("IDLE");
    let mut quick_rounds = 0u32;
    loop {
        // EXAMINE again after every wait: it refreshes the folder and shows a changed
        // UIDVALIDITY (the folder was recreated), which means reading it again.
        let mbox = timed(t, "EXAMINE", s.examine(&acc.folder)).await?;
        if pos.uidvalidity != mbox.uid_validity {
            if pos.uidvalidity.is_some() {
                tracing::info!(
                    account_id = acc.id,
                    "UIDVALIDITY changed; reading the folder again (duplicates are recognised)"
                );
            }
            pos = Position {
                uidvalidity: mbox.uid_validity,
                last_uid: 0,
            };
            mailbox::set_position(&ctx.db, acc.id, pos, 0)
                .await
                .map_err(|e| ImapError::Server(format!("storage: {e}")))?;
        }
        import_new(ctx, &mut s, acc, &mut pos).await?;
        // Mail announced during the import, or delivered since its search, is read now: IDLE
        // only reports what happens after it starts. A server that keeps announcing gets a
        // few quick rounds, then waits like any other (the reconciliation bounds the delay).
        if quick_rounds < MAX_QUICK_ROUNDS
            && (announced(&s) || has_newer(&mut s, t, pos.last_uid).await?)
        {
            quick_rounds += 1;
            continue;
        }
        quick_rounds = 0;
        ctx.phase(
            acc.id,
            if has_idle { "idle" } else { "polling" },
            None,
            None,
        )
        .await;
        if has_idle {
            s = wait_idle(s, &ctx.opts).await?;
        } else {
            tokio::time::sleep(ctx.opts.poll_interval.min(ctx.opts.reconcile_interval)).await;
        }
    }
}

/// Rounds in a row that look again without waiting (mail announced mid-import).
const MAX_QUICK_ROUNDS: u32 = 5;

/// Drains what the server said on its own since the last look; answers whether any of it
/// means the folder changed (new mail, expunged mail, a new UIDVALIDITY).
fn announced(s: &Session) -> bool {
    use async_imap::types::UnsolicitedResponse as U;
    let mut changed = false;
    while let Ok(r) = s.unsolicited_responses.try_recv() {
        changed |= match r {
            U::Exists(_) | U::Recent(_) | U::Expunge(_) | U::Status { .. } => true,
            U::Other(data) => matches!(
                data.parsed(),
                imap_proto::Response::Data {
                    code: Some(imap_proto::ResponseCode::UidValidity(_)),
                    ..
                }
            ),
        };
    }
    changed
}

/// Whether the folder holds a UID after `last_uid` (a cheap `UID SEARCH`; the answer to
/// `n:*` always includes the highest UID, so it is compared).
async fn has_newer(s: &mut Session, t: Duration, last_uid: u32) -> Result<bool, ImapError> {
    let found = timed(
        t,
        "UID SEARCH",
        s.uid_search(format!("UID {}:*", last_uid.saturating_add(1))),
    )
    .await?;
    Ok(found.into_iter().any(|u| u > last_uid))
}

/// Waits for the server to report a change, or for the reconciliation (or IDLE) period to end.
async fn wait_idle(s: Session, opts: &SyncOptions) -> Result<Session, ImapError> {
    let t = opts.command_timeout;
    let period = opts.idle_timeout.min(opts.reconcile_interval);
    let mut h = s.idle();
    timed(t, "IDLE", h.init()).await?;
    {
        let (fut, stop) = h.wait_with_timeout(period);
        // The library's timer restarts on every keep-alive; ours bounds the whole IDLE.
        if let Ok(r) = tokio::time::timeout(period, fut).await {
            r?;
        }
        drop(stop);
    }
    timed(t, "DONE", h.done()).await
}

/// `1,2,3,7,9,10` as `1:3,7,9:10`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// Imports every message after `pos`, in batches, advancing `pos` after each stored batch.
async fn import_new(
    ctx: &SyncContext,
    s: &mut Session,
    acc: &EmailAccount,
    pos: &mut Position,
) -> Result<(), ImapError> {
    let t = ctx.opts.command_timeout;
    let query = match acc.import_since.as_deref().and_then(imap_date) {
        Some(day) if pos.last_uid == 0 => format!("SINCE {day}"),
        _ => format!("UID {}:*", pos.last_uid.saturating_add(1)),
    };
    let found = timed(t, "UID SEARCH", s.uid_search(&query)).await?;
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > pos.last_uid).collect();
    uids.sort_unstable();
    if uids.is_empty() {
        return Ok(());
    }
    let total = uids.len() as i64;
    ctx.phase(acc.id, "importing", None, Some(total)).await;
    let mut done = 0i64;
    for chunk in uids.chunks(ctx.opts.batch.max(1)) {
        let set = uid_set(chunk);
        let sizes = fetch_map(s, t, &set, "(UID RFC822.SIZE)", |f| f.size).await?;
        let (small, big): (Vec<u32>, Vec<u32>) = chunk.iter().partition(|u| {
            sizes
                .get(u)
                .is_none_or(|n| *n <= ctx.opts.max_message_bytes)
        });
        let mut items = Vec::with_capacity(chunk.len());
        if !small.is_empty() {
            let bodies = fetch_map(s, t, &uid_set(&small), "(UID BODY.PEEK[])", |f| {
                f.body().map(<[u8]>::to_vec)
            })
            .await?;
            for uid in &small {
                if let Some(raw) = bodies.get(uid) {
                    items.push(BatchItem {
                        dedupe_key: parse::dedupe_key(raw),
                        payload: raw.clone(),
                        error: None,
                    });
                }
            }
        }
        if !big.is_empty() {
            let heads = fetch_map(s, t, &uid_set(&big), "(UID BODY.PEEK[HEADER])", |f| {
                f.header().map(<[u8]>::to_vec)
            })
            .await?;
            for uid in &big {
                if let Some(head) = heads.get(uid) {
                    items.push(BatchItem {
                        dedupe_key: parse::dedupe_key(head),
                        payload: head.clone(),
                        error: Some(format!(
                            "the message (UID {uid}) is larger than the {} MB limit; only its header was kept",
                            ctx.opts.max_message_bytes / (1024 * 1024)
                        )),
                    });
                }
            }
        }
        raw_inbound::store_batch(&ctx.db, acc.id, "message/rfc822", &items)
            .await
            .map_err(|e| ImapError::Server(format!("storage: {e}")))?;
        done += chunk.len() as i64;
        pos.last_uid = *chunk.last().expect("chunks are not empty");
        mailbox::set_position(&ctx.db, acc.id, *pos, done)
            .await
            .map_err(|e| ImapError::Server(format!("storage: {e}")))?;
        ctx.inbound.notify_one();
        ctx.changed().await;
    }
    Ok(())
}

/// Runs one `UID FETCH` and keeps `pick(fetch)` by UID; every response under the timeout.
async fn fetch_map<T>(
    s: &mut Session,
    t: Duration,
    set: &str,
    query: &str,
    pick: impl Fn(&async_imap::types::Fetch) -> Option<T>,
) -> Result<HashMap<u32, T>, ImapError> {
    let mut out = HashMap::new();
    let mut stream = timed(t, "UID FETCH", s.uid_fetch(set, query)).await?;
    loop {
        let next = match tokio::time::timeout(t, stream.next()).await {
            Ok(n) => n,
            Err(_) => {
                return Err(ImapError::Network(format!(
                    "no FETCH data within {} s",
                    t.as_secs()
                )))
            }
        };
        let Some(item) = next else { break };
        let f = item?;
        if let (Some(uid), Some(v)) = (f.uid, pick(&f)) {
            out.insert(uid, v);
        }
    }
    Ok(out)
}

/// Keeps one worker per email account whose lease this process holds, restarting a worker
/// when its account's settings change and stopping it when the account is removed or the lease
/// is lost. Looks again when woken (`changed`), when the hub says accounts changed (any
/// process), and every `leases::RENEW` to renew its leases and take over those that expired.
pub async fn supervise(ctx: SyncContext, changed: Arc<Notify>) {
    let mut running: HashMap<i64, (String, JoinHandle<()>)> = HashMap::new();
    let mut events = ctx.hub.subscribe();
    loop {
        match channel_accounts::list(&ctx.db).await {
            Ok(rows) => {
                let rows: Vec<_> = rows
                    .into_iter()
                    .filter(|r| r.provider == super::PROVIDER)
                    .collect();
                let gone: Vec<i64> = running
                    .keys()
                    .filter(|id| !rows.iter().any(|r| r.id == **id))
                    .copied()
                    .collect();
                for id in gone {
                    if let Some((_, h)) = running.remove(&id) {
                        h.abort();
                    }
                    leases::release(&ctx.db, &lease_name(id)).await;
                }
                for r in rows {
                    if !leases::hold(&ctx.db, &lease_name(r.id)).await {
                        if let Some((_, h)) = running.remove(&r.id) {
                            tracing::warn!(
                                account_id = r.id,
                                "mailbox lease lost; another process syncs it now"
                            );
                            h.abort();
                        }
                        continue;
                    }
                    let fp = format!("{}|{}|{}|{}", r.enabled, r.address, r.settings, r.secrets);
                    let same = running.get(&r.id).map(|(f, _)| *f == fp).unwrap_or(false);
                    if same {
                        continue;
                    }
                    if let Some((_, h)) = running.remove(&r.id) {
                        h.abort();
                    }
                    let h = tokio::spawn(run_mailbox(ctx.clone(), r.id));
                    running.insert(r.id, (fp, h));
                }
            }
            Err(e) => tracing::error!(error = %e, "mailbox supervisor cannot list accounts"),
        }
        let accounts_event = async {
            loop {
                match events.recv().await {
                    Ok(ev) if ev.kind == LiveKind::Accounts => return,
                    Ok(_) => {}
                    // Missed events may have held an account change.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await
                    }
                }
            }
        };
        tokio::select! {
            _ = changed.notified() => {}
            _ = accounts_event => {}
            _ = tokio::time::sleep(leases::RENEW) => {}
        }
    }
}

fn lease_name(account_id: i64) -> String {
    format!("mailbox:{account_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let o = SyncOptions::default();
        assert_eq!(backoff(&o, 1), Duration::from_secs(1));
        assert_eq!(backoff(&o, 2), Duration::from_secs(2));
        assert_eq!(backoff(&o, 4), Duration::from_secs(8));
        assert_eq!(backoff(&o, 40), Duration::from_secs(300));
    }
}
