//! Failed sign-in throttling, per account and per client address, kept in the database
//! (`store::login_throttle`): every server process on the database shares it, a restart keeps
//! it, and this process holds nothing per key, so no input can grow its memory.
//!
//! - An account key is the SHA-256 of the email, trimmed, lower-cased and cut to
//!   [`MAX_EMAIL_CHARS`]: its size is fixed whatever was typed.
//! - An address key is the client's IPv4 address, or the /64 of an IPv6 address (one host
//!   usually holds a whole /64). A locked address records nothing more, so one address adds at
//!   most [`LoginLimiter::MAX_PER_ADDRESS`] account rows per window.
//! - A key is locked while its window (opened by its first failure) is open and holds the
//!   limit's failures; rows are deleted only once their window has closed.

use crate::store::{login_throttle, now_ms, Db, StoreError};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest email that counts (RFC 5321's limit for a path); the rest is ignored.
pub const MAX_EMAIL_CHARS: usize = 320;

/// Failed-login throttle: per account and per client address, in a fixed window.
#[derive(Clone)]
pub struct LoginLimiter {
    db: Db,
    window: Duration,
    failures_seen: Arc<AtomicU64>,
}

impl LoginLimiter {
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    pub const MAX_PER_ACCOUNT: i64 = 5;
    pub const MAX_PER_ADDRESS: i64 = 20;
    /// Expired rows are deleted once every this many failures.
    const PRUNE_EVERY: u64 = 32;

    pub fn new(db: Db) -> LoginLimiter {
        LoginLimiter::with_window(db, Self::WINDOW)
    }

    /// A limiter with another window (tests).
    pub fn with_window(db: Db, window: Duration) -> LoginLimiter {
        LoginLimiter {
            db,
            window,
            failures_seen: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The account key of `email`: fixed length whatever its length.
    pub fn account_key(email: &str) -> String {
        let norm: String = email
            .trim()
            .chars()
            .take(MAX_EMAIL_CHARS)
            .flat_map(char::to_lowercase)
            .collect();
        let digest = Sha256::digest(norm.as_bytes());
        let mut key = String::with_capacity(2 + 64);
        key.push_str("a:");
        for b in digest {
            key.push_str(&format!("{b:02x}"));
        }
        key
    }

    /// The address key of `ip`: the IPv4 address (also when mapped into IPv6), or the /64.
    pub fn address_key(ip: Option<IpAddr>) -> String {
        match ip.map(|i| i.to_canonical()) {
            Some(IpAddr::V4(v4)) => format!("i:{v4}"),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("i:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            None => "i:unknown".to_string(),
        }
    }

    fn window_ms(&self) -> i64 {
        self.window.as_millis() as i64
    }

    /// Whether another attempt is allowed now.
    pub async fn allowed(&self, email: &str, ip: Option<IpAddr>) -> Result<bool, StoreError> {
        let now = now_ms();
        let w = self.window_ms();
        let address = login_throttle::failures(&self.db, &Self::address_key(ip), now, w).await?;
        if address >= Self::MAX_PER_ADDRESS {
            return Ok(false);
        }
        let account = login_throttle::failures(&self.db, &Self::account_key(email), now, w).await?;
        Ok(account < Self::MAX_PER_ACCOUNT)
    }

    /// Counts a failed attempt against the address and the account.
    pub async fn record_failure(&self, email: &str, ip: Option<IpAddr>) -> Result<(), StoreError> {
        let now = now_ms();
        let w = self.window_ms();
        let address =
            login_throttle::record_failure(&self.db, &Self::address_key(ip), now, w).await?;
        // An address over its limit (attempts racing past `allowed`) adds no account rows.
        if address <= Self::MAX_PER_ADDRESS {
            login_throttle::record_failure(&self.db, &Self::account_key(email), now, w).await?;
        }
        if self
            .failures_seen
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(Self::PRUNE_EVERY)
        {
            login_throttle::prune(&self.db, now, w).await?;
        }
        Ok(())
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub async fn record_success(&self, email: &str, _ip: Option<IpAddr>) -> Result<(), StoreError> {
        login_throttle::clear(&self.db, &Self::account_key(email)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_keys_are_normalised_and_of_fixed_length() {
        let k = LoginLimiter::account_key(" A@X.io ");
        assert_eq!(k, LoginLimiter::account_key("a@x.io"));
        assert_eq!(k.len(), 66);
        let huge = "x".repeat(1_000_000);
        assert_eq!(LoginLimiter::account_key(&huge).len(), 66);
        // Only the first MAX_EMAIL_CHARS count.
        assert_eq!(
            LoginLimiter::account_key(&format!("{}a", "x".repeat(MAX_EMAIL_CHARS))),
            LoginLimiter::account_key(&format!("{}b", "x".repeat(MAX_EMAIL_CHARS)))
        );
        assert_ne!(k, LoginLimiter::account_key("b@x.io"));
    }

    #[test]
    fn address_keys_are_the_ipv4_address_or_the_ipv6_slash_64() {
        let k = |s: &str| LoginLimiter::address_key(Some(s.parse().unwrap()));
        assert_eq!(k("10.0.0.9"), "i:10.0.0.9");
        assert_eq!(k("::ffff:10.0.0.9"), "i:10.0.0.9");
        assert_eq!(k("2001:db8:1:2:aaaa::1"), k("2001:db8:1:2:bbbb::9"));
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_eq!(LoginLimiter::address_key(None), "i:unknown");
    }
}
