//! Who is calling, and may they. Every server function starts with [`require`].

use super::errors::fail;
use super::state::AppState;
use crate::domain::Permission;
use crate::model::UserView;
use crate::store::{sessions::USER_ID_KEY, users};
use http::StatusCode;
use leptos::prelude::*;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_sessions::Session;

/// The application state from the Leptos context. Take it before the first `.await` of a
/// server function: during server rendering a page can be rendered more than once, and a
/// discarded render's context is gone after an await ("application state missing").
pub fn state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::new("application state missing"))
}

pub async fn session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| ServerFnError::new(format!("no session: {e}")))
}

/// The signed-in, enabled user, if any.
pub async fn current_user() -> Result<Option<UserView>, ServerFnError> {
    let st = state()?;
    let s = session().await?;
    let Some(uid) = s
        .get::<i64>(USER_ID_KEY)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?
    else {
        return Ok(None);
    };
    match users::get(&st.db, uid)
        .await
        .map_err(super::errors::store)?
    {
        Some(u) if !u.disabled => Ok(Some(u.view())),
        _ => {
            let _ = s.flush().await;
            Ok(None)
        }
    }
}

/// The caller, if signed in and allowed `p`; otherwise 401 or 403.
pub async fn require(p: Permission) -> Result<UserView, ServerFnError> {
    let Some(u) = current_user().await? else {
        return Err(fail(StatusCode::UNAUTHORIZED, "Please sign in."));
    };
    if !u.role.allows(p) {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "You do not have permission to do that.",
        ));
    }
    Ok(u)
}

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
