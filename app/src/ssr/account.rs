//! Sessions as their users and admins see them: what a sign-in records, and the handle that
//! names a session without giving its id (a bearer secret) away.

use crate::model::SessionInfo;
use crate::store::sessions::{
    OpenSession, SIGNED_IN_AGENT_KEY, SIGNED_IN_AT_KEY, SIGNED_IN_IP_KEY,
};
use sha2::{Digest, Sha256};
use tower_sessions::Session;

/// A session's public name: the first 16 hex digits of SHA-256 of its id.
pub fn handle(session_id: &str) -> String {
    let d = Sha256::digest(session_id.as_bytes());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The sessions for the browser, the caller's own (`current`, a session id) marked.
pub fn infos(open: &[OpenSession], current: Option<&str>) -> Vec<SessionInfo> {
    open.iter()
        .map(|s| SessionInfo {
            handle: handle(&s.id),
            signed_in_at: s.signed_in_at,
            ip: s.ip.clone(),
            agent: s.agent.clone(),
            expires_at: s.expires_at,
            current: current == Some(s.id.as_str()),
        })
        .collect()
}

/// The id of the request's session, when it has one stored.
pub fn session_id(s: &Session) -> Option<String> {
    s.id().map(|id| id.to_string())
}

/// A browser's User-Agent, shortened to what a person reads: at most 120 characters.
pub fn short_agent(agent: &str) -> String {
    let a: String = agent
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    a.trim().to_string()
}

/// Writes what this sign-in was (when, from where, which browser) into the session.
pub async fn mark_sign_in(s: &Session, at: i64) -> Result<(), tower_sessions::session::Error> {
    let ip = super::audit::request_ip().await;
    let agent = leptos_axum::extract::<http::HeaderMap>()
        .await
        .ok()
        .and_then(|h| {
            h.get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(short_agent)
        });
    s.insert(SIGNED_IN_AT_KEY, at).await?;
    if let Some(ip) = ip {
        s.insert(SIGNED_IN_IP_KEY, ip).await?;
    }
    if let Some(agent) = agent {
        s.insert(SIGNED_IN_AGENT_KEY, agent).await?;
    }
    Ok(())
}

/// Checks the caller's password before a change to their account, limited like signing in
/// (wrong passwords count as failed sign-ins).
pub async fn check_password(
    st: &super::AppState,
    me: &crate::model::UserView,
    password: &str,
) -> Result<(), leptos::prelude::ServerFnError> {
    use super::errors;
    let ip = super::audit::request_ip()
        .await
        .and_then(|i| i.parse().ok());
    if !st
        .limiter
        .allowed(&me.email, ip)
        .await
        .map_err(errors::store)?
    {
        return Err(errors::fail(
            http::StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong passwords. Wait 15 minutes and try again.",
        ));
    }
    let row = crate::store::users::get(&st.db, me.id)
        .await
        .map_err(errors::store)?
        .ok_or_else(|| errors::fail(http::StatusCode::UNAUTHORIZED, "Please sign in."))?;
    if !crate::store::users::verify_password(password, &row.password_hash) {
        st.limiter
            .record_failure(&me.email, ip)
            .await
            .map_err(errors::store)?;
        return Err(errors::bad_request("Your current password is not right."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_stable_short_and_not_the_id() {
        let h = handle("abc-session-id");
        assert_eq!(h.len(), 16);
        assert_eq!(h, handle("abc-session-id"));
        assert_ne!(h, handle("abc-session-ie"));
        assert!(!h.contains("abc"));
    }

    #[test]
    fn agents_are_shortened_and_cleaned() {
        assert_eq!(short_agent(" Mozilla/5.0\r\n(X11) "), "Mozilla/5.0(X11)");
        assert_eq!(short_agent(&"x".repeat(500)).len(), 120);
    }
}
