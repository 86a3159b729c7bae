//! Who may use a plain axum route. Server functions check with `app::ssr::auth::require`; the
//! routes outside Leptos (the live event stream, the message frame, attachments, replies with
//! files) take the [`Authorized`] extractor instead: the signed-in, enabled user who holds the
//! permission its type names, or the 401/403 answer in words.
//!
//! ```text
//! async fn handler(staff: Authorized<need::Reply>, State(state): State<AppState>) -> Response
//! ```
//!
//! Put it first among a handler's arguments, so a request without the permission is answered
//! before anything else about it is read.

use app::domain::Permission;
use app::ssr::AppState;
use app::store::{sessions::USER_ID_KEY, users};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::marker::PhantomData;
use tower_sessions::Session;

/// A permission named as a type, for [`Authorized`].
pub trait Needs {
    const PERMISSION: Permission;
}

/// One type per [`Permission`]: `Authorized<need::Reply>`.
pub mod need {
    use super::{Needs, Permission};

    macro_rules! needs {
        ($($p:ident),* $(,)?) => {$(
            #[doc = concat!("[`Permission::", stringify!($p), "`]")]
            pub struct $p;
            impl Needs for $p {
                const PERMISSION: Permission = Permission::$p;
            }
        )*};
    }

    needs!(
        ReadConversations,
        Reply,
        ManageConversations,
        WriteNotes,
        UsePlayground,
        ManageUsers,
        ManageChannels,
        ManageConsent,
        ViewReports,
        ViewMarketingReports,
        ManageReportSettings,
    );
}

/// The signed-in, enabled user who holds `P`'s permission.
pub struct Authorized<P: Needs> {
    pub user: users::UserRow,
    need: PhantomData<fn() -> P>,
}

impl<P: Needs> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let uid: Option<i64> = session.get(USER_ID_KEY).await.ok().flatten();
        let user = match uid {
            Some(id) => users::get(&state.db, id)
                .await
                .ok()
                .flatten()
                .filter(|u| !u.disabled),
            None => None,
        };
        match user {
            None => Err((StatusCode::UNAUTHORIZED, "Please sign in.").into_response()),
            Some(u) if u.needs_two_factor_setup() => {
                Err((StatusCode::FORBIDDEN, app::ssr::auth::NEEDS_TWO_FACTOR).into_response())
            }
            Some(u) if !u.role.allows(P::PERMISSION) => {
                Err((StatusCode::FORBIDDEN, "Not allowed.").into_response())
            }
            Some(user) => Ok(Authorized {
                user,
                need: PhantomData,
            }),
        }
    }
}
