//! Recording to the audit trail from a server function: the acting user in words, the
//! request's address, and a failure to record logged loudly (the change itself is done).

use crate::domain::audit::AuditAction;
use crate::model::UserView;
use crate::store::audit::{self, NewEntry};
use crate::store::Db;

/// A user as the trail names them: `Name <email>`.
pub fn who(u: &UserView) -> String {
    format!("{} <{}>", u.name, u.email)
}

/// The address of the request being served, when there is one.
pub async fn request_ip() -> Option<String> {
    leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|c| c.0.ip().to_string())
}

/// Records `action` by `user` (None: nobody known) on `target`, with `detail` in words.
pub async fn record(
    db: &Db,
    user: Option<&UserView>,
    actor_words: Option<&str>,
    action: AuditAction,
    target: &str,
    detail: &str,
) {
    let ip = request_ip().await;
    let actor = match (user, actor_words) {
        (Some(u), _) => who(u),
        (None, Some(w)) => w.to_string(),
        (None, None) => "unknown".to_string(),
    };
    write(
        db,
        &NewEntry {
            actor_id: user.map(|u| u.id),
            actor: &actor,
            action,
            target,
            detail,
            ip: ip.as_deref(),
        },
    )
    .await
}

/// Writes `entry`; a failure is logged loudly, not returned (the change itself is done). For
/// the plain axum routes, which have no server-function context to take the address from.
pub async fn write(db: &Db, entry: &NewEntry<'_>) {
    if let Err(e) = audit::record(db, entry).await {
        tracing::error!(error = %e, action = entry.action.as_str(), "cannot write the audit trail");
    }
}

/// A refused sign-in, named by the address that was typed (nobody is known yet).
pub async fn sign_in_refused(db: &Db, typed_email: &str, why: &str) {
    let actor = format!("someone as {}", typed_email.trim());
    record(db, None, Some(&actor), AuditAction::SignInFailed, "", why).await
}

/// Records `action` that `user` did to their own account.
pub async fn on_own_account(db: &Db, user: &UserView, action: AuditAction, detail: &str) {
    record(db, Some(user), None, action, &who(user), detail).await
}
