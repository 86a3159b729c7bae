//! The signed-in user's own account: their password and their sessions; and the admin's side
//! of the same for any user (reset a password, end sessions). Every change is in the audit
//! trail.

use crate::model::SessionInfo;
use leptos::prelude::*;

/// Changes the caller's password after checking the current one (the same limits as signing
/// in hold). Their other sessions end; this one continues under a new id.
#[server(endpoint = "account/password")]
pub async fn change_password(
    current: String,
    new_password: String,
    confirm: String,
) -> Result<String, ServerFnError> {
    use crate::domain::audit::AuditAction;
    use crate::ssr::{audit, auth, errors};
    use crate::store::{sessions, users};
    let st = auth::state()?;
    let Some(me) = auth::current_user().await? else {
        return Err(errors::fail(
            http::StatusCode::UNAUTHORIZED,
            "Please sign in.",
        ));
    };
    crate::ssr::account::check_password(&st, &me, &current).await?;
    if new_password != confirm {
        return Err(errors::bad_request(
            "The new password and its repetition differ.",
        ));
    }
    if new_password == current {
        return Err(errors::bad_request(
            "The new password is the same as the current one.",
        ));
    }
    users::set_password(&st.db, me.id, &new_password)
        .await
        .map_err(errors::store)?;
    // Every other session ends; this one continues under a new id (stored as the answer
    // leaves, when the old id is deleted).
    let session = auth::session().await?;
    let keep = crate::ssr::account::session_id(&session);
    let ended = sessions::end_for_user(&st.db, me.id, keep.as_deref())
        .await
        .map_err(errors::store)?;
    session
        .cycle_id()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    audit::on_own_account(
        &st.db,
        &me,
        AuditAction::PasswordChanged,
        &format!("{ended} other session(s) ended"),
    )
    .await;
    Ok(match ended {
        0 => "Password changed.".to_string(),
        1 => "Password changed. Your other session was signed out.".to_string(),
        n => format!("Password changed. Your {n} other sessions were signed out."),
    })
}

/// The caller's open sessions, this one marked.
#[server(endpoint = "account/sessions", output = crate::api::codec::JsonText)]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, ServerFnError> {
    use crate::ssr::{account, auth, errors};
    let st = auth::state()?;
    let Some(me) = auth::current_user().await? else {
        return Err(errors::fail(
            http::StatusCode::UNAUTHORIZED,
            "Please sign in.",
        ));
    };
    let open = crate::store::sessions::open_of(&st.db, &[me.id], crate::store::now_ms())
        .await
        .map_err(errors::store)?;
    let current = account::session_id(&auth::session().await?);
    Ok(account::infos(&open, current.as_deref()))
}

/// Ends sessions of `user` (one named by `handle`, or all but `keep` when `handle` is empty);
/// answers how many ended.
#[cfg(feature = "ssr")]
async fn end_sessions(
    db: &crate::store::Db,
    user: i64,
    handle: &str,
    keep: Option<&str>,
) -> Result<u64, ServerFnError> {
    use crate::ssr::{account, errors};
    use crate::store::sessions;
    let handle = handle.trim();
    if handle.is_empty() {
        return sessions::end_for_user(db, user, keep)
            .await
            .map_err(errors::store);
    }
    let open = sessions::open_of(db, &[user], crate::store::now_ms())
        .await
        .map_err(errors::store)?;
    let Some(s) = open.iter().find(|s| account::handle(&s.id) == handle) else {
        return Err(errors::fail(
            http::StatusCode::NOT_FOUND,
            "That session has ended already.",
        ));
    };
    Ok(sessions::end_one(db, user, &s.id)
        .await
        .map_err(errors::store)? as u64)
}

/// Signs the caller out of one of their other sessions (`handle`), or of every other one
/// (`handle` empty).
#[server(endpoint = "account/sessions/end")]
pub async fn end_my_sessions(handle: String) -> Result<String, ServerFnError> {
    use crate::domain::audit::AuditAction;
    use crate::ssr::{account, audit, auth, errors};
    let st = auth::state()?;
    let Some(me) = auth::current_user().await? else {
        return Err(errors::fail(
            http::StatusCode::UNAUTHORIZED,
            "Please sign in.",
        ));
    };
    let keep = account::session_id(&auth::session().await?);
    if keep.as_deref().map(account::handle).as_deref() == Some(handle.trim()) {
        return Err(errors::bad_request(
            "That is this session: use Sign out instead.",
        ));
    }
    let n = end_sessions(&st.db, me.id, &handle, keep.as_deref()).await?;
    audit::on_own_account(
        &st.db,
        &me,
        AuditAction::SessionsEnded,
        &format!("{n} session(s) ended by their user"),
    )
    .await;
    Ok(match n {
        1 => "Signed out of 1 other session.".to_string(),
        n => format!("Signed out of {n} other sessions."),
    })
}

/// Sets a new password for a user (admins), ending all of that user's sessions.
#[server(endpoint = "admin/users/password")]
pub async fn reset_password(id: i64, password: String) -> Result<String, ServerFnError> {
    use crate::domain::{audit::AuditAction, Permission};
    use crate::ssr::{audit, auth, errors};
    use crate::store::{sessions, users};
    let st = auth::state()?;
    let me = auth::require(Permission::ManageUsers).await?;
    let target = users::get(&st.db, id)
        .await
        .map_err(errors::store)?
        .ok_or_else(|| errors::fail(http::StatusCode::NOT_FOUND, "No such user."))?;
    users::set_password(&st.db, id, &password)
        .await
        .map_err(errors::store)?;
    let keep = if id == me.id {
        crate::ssr::account::session_id(&auth::session().await?)
    } else {
        None
    };
    let ended = sessions::end_for_user(&st.db, id, keep.as_deref())
        .await
        .map_err(errors::store)?;
    let name = crate::ssr::audit::who(&target.view());
    audit::record(
        &st.db,
        Some(&me),
        None,
        AuditAction::PasswordReset,
        &name,
        &format!("{ended} session(s) ended"),
    )
    .await;
    Ok(format!(
        "New password set for {}; {ended} session(s) signed out. Tell them the password by another way than email.",
        target.name
    ))
}

/// Ends a user's sessions (admins): one named by `handle`, or all when `handle` is empty.
#[server(endpoint = "admin/users/sessions/end")]
pub async fn end_user_sessions(id: i64, handle: String) -> Result<String, ServerFnError> {
    use crate::domain::{audit::AuditAction, Permission};
    use crate::ssr::{audit, auth, errors};
    let st = auth::state()?;
    let me = auth::require(Permission::ManageUsers).await?;
    let target = crate::store::users::get(&st.db, id)
        .await
        .map_err(errors::store)?
        .ok_or_else(|| errors::fail(http::StatusCode::NOT_FOUND, "No such user."))?;
    let n = end_sessions(&st.db, id, &handle, None).await?;
    audit::record(
        &st.db,
        Some(&me),
        None,
        AuditAction::SessionsEnded,
        &crate::ssr::audit::who(&target.view()),
        &format!("{n} session(s) ended by an admin"),
    )
    .await;
    Ok(format!("{} signed out of {n} session(s).", target.name))
}
