//! Singleton work across server processes: each process has one holder name, and takes a
//! named lease (`app::store::leases`) before doing work only one process may do at a time
//! (a mailbox's sync, snooze wake-ups, report rollups). The holder renews every [`RENEW`];
//! a lease lasts [`TTL`], so when a process dies another takes its work over within
//! `TTL + RENEW` (25 s).

use app::store::{leases, now_ms, Db};
use std::sync::OnceLock;
use std::time::Duration;

/// How long a lease lasts without renewal.
pub const TTL: Duration = Duration::from_secs(20);
/// How often holders renew (and others try to take over).
pub const RENEW: Duration = Duration::from_secs(5);

/// This process's holder name: host, process id and a random part (a restarted process with the
/// same pid is someone else).
pub fn holder() -> &'static str {
    static HOLDER: OnceLock<String> = OnceLock::new();
    HOLDER.get_or_init(|| {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "host".into());
        format!(
            "{host}/{}/{:08x}",
            std::process::id(),
            rand::random::<u32>()
        )
    })
}

/// Takes or renews `name` for this process. A database error counts as not holding it: work
/// that cannot prove its lease stops, rather than risk two processes doing it.
pub async fn hold(db: &Db, name: &str) -> bool {
    match leases::hold(db, name, holder(), now_ms(), TTL.as_millis() as i64).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(lease = name, error = %e, "cannot renew lease");
            false
        }
    }
}

/// Gives `name` up (work stopped here; another process may start it at once).
pub async fn release(db: &Db, name: &str) {
    if let Err(e) = leases::release(db, name, holder()).await {
        tracing::warn!(lease = name, error = %e, "cannot release lease");
    }
}

/// Gives up every lease of this process (a clean stop).
pub async fn release_all(db: &Db) {
    match leases::release_all(db, holder()).await {
        Ok(n) if n > 0 => tracing::info!(leases = n, "released leases for other processes"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot release leases"),
    }
}
