//! Failed sign-in throttling.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed-login throttle: per account and per client address, in a sliding window.
#[derive(Clone, Default)]
pub struct LoginLimiter {
    inner: Arc<Mutex<HashMap<String, Vec<Instant>>>>,
}

impl LoginLimiter {
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    pub const MAX_PER_ACCOUNT: usize = 5;
    pub const MAX_PER_ADDRESS: usize = 20;

    fn keys(email: &str, ip: Option<IpAddr>) -> [(String, usize); 2] {
        [
            (
                format!("a:{}", email.trim().to_lowercase()),
                Self::MAX_PER_ACCOUNT,
            ),
            (
                format!("i:{}", ip.map(|i| i.to_string()).unwrap_or_default()),
                Self::MAX_PER_ADDRESS,
            ),
        ]
    }

    /// Whether another attempt is allowed now.
    pub fn allowed(&self, email: &str, ip: Option<IpAddr>) -> bool {
        let now = Instant::now();
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(email, ip).iter().all(|(k, max)| {
            let v = m.entry(k.clone()).or_default();
            v.retain(|t| now.duration_since(*t) < Self::WINDOW);
            v.len() < *max
        })
    }

    pub fn record_failure(&self, email: &str, ip: Option<IpAddr>) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 100_000 {
            m.clear();
        }
        for (k, _) in Self::keys(email, ip) {
            m.entry(k).or_default().push(Instant::now());
        }
    }

    pub fn record_success(&self, email: &str, ip: Option<IpAddr>) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.remove(&Self::keys(email, ip)[0].0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_is_throttled_after_five_failures_and_reset_by_success() {
        let l = LoginLimiter::default();
        let ip: Option<IpAddr> = Some("127.0.0.1".parse().unwrap());
        for _ in 0..LoginLimiter::MAX_PER_ACCOUNT {
            assert!(l.allowed("a@x.io", ip));
            l.record_failure("A@x.io ", ip);
        }
        assert!(!l.allowed("a@x.io", ip), "sixth attempt must be refused");
        assert!(l.allowed("b@x.io", ip), "other accounts are not affected");
        l.record_success("a@x.io", ip);
        assert!(l.allowed("a@x.io", ip));
    }

    #[test]
    fn address_is_throttled_across_accounts() {
        let l = LoginLimiter::default();
        let ip: Option<IpAddr> = Some("10.0.0.9".parse().unwrap());
        for i in 0..LoginLimiter::MAX_PER_ADDRESS {
            l.record_failure(&format!("u{i}@x.io"), ip);
        }
        assert!(!l.allowed("fresh@x.io", ip));
        assert!(l.allowed("fresh@x.io", Some("10.0.0.10".parse().unwrap())));
    }
}
