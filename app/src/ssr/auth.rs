//! Who is calling, and may they. Every server function starts with [`require`].

use super::errors::fail;
use super::state::AppState;
use crate::domain::Permission;
use crate::model::UserView;
use crate::store::{sessions::USER_ID_KEY, users};
use http::StatusCode;
use leptos::prelude::*;
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
/// Why a user whose role requires two factors, and who has none yet, is refused.
pub const NEEDS_TWO_FACTOR: &str =
    "Your role signs in with two factors: set them up on Your account (/account) first.";

pub async fn require(p: Permission) -> Result<UserView, ServerFnError> {
    let Some(u) = current_user().await? else {
        return Err(fail(StatusCode::UNAUTHORIZED, "Please sign in."));
    };
    if u.needs_two_factor_setup {
        return Err(fail(StatusCode::FORBIDDEN, NEEDS_TWO_FACTOR));
    }
    if !u.role.allows(p) {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "You do not have permission to do that.",
        ));
    }
    Ok(u)
}
