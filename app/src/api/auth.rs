use crate::model::UserView;
use leptos::prelude::*;

/// Signs in. Rate-limited per account and per address; the session id rotates on success.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), ServerFnError> {
    use crate::domain::audit::AuditAction;
    use crate::ssr::{auth, errors};
    use crate::store::{sessions::USER_ID_KEY, users};
    use http::StatusCode;

    let st = auth::state()?;
    let ip = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|c| c.0.ip());
    if !st
        .limiter
        .allowed(&email, ip)
        .await
        .map_err(errors::store)?
    {
        crate::ssr::audit::sign_in_refused(&st.db, &email, "refused: too many attempts").await;
        return Err(errors::fail(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts. Wait 15 minutes and try again.",
        ));
    }
    let user = users::find_by_email(&st.db, &email)
        .await
        .map_err(errors::store)?;
    let ok = match &user {
        Some(u) if !u.disabled => users::verify_password(&password, &u.password_hash),
        _ => {
            // Same work as a real check, so timing does not reveal which emails exist.
            users::verify_password(&password, dummy_hash());
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        crate::ssr::audit::sign_in_refused(
            &st.db,
            &email,
            "wrong email or password, or a disabled account",
        )
        .await;
        st.limiter
            .record_failure(&email, ip)
            .await
            .map_err(errors::store)?;
        return Err(errors::fail(
            StatusCode::UNAUTHORIZED,
            "Wrong email or password.",
        ));
    };
    st.limiter
        .record_success(&email, ip)
        .await
        .map_err(errors::store)?;
    let session = auth::session().await?;
    session
        .cycle_id()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    if user.totp_enabled {
        // The password was right; the code comes next, on /login/code.
        use crate::api::two_factor::{PENDING_AT_KEY, PENDING_USER_KEY};
        let fail = |e: tower_sessions::session::Error| ServerFnError::new(e.to_string());
        session
            .insert(PENDING_USER_KEY, user.id)
            .await
            .map_err(fail)?;
        session
            .insert(PENDING_AT_KEY, crate::store::now_ms())
            .await
            .map_err(fail)?;
        leptos_axum::redirect("/login/code");
        return Ok(());
    }
    session
        .insert(USER_ID_KEY, user.id)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    crate::ssr::account::mark_sign_in(&session, crate::store::now_ms())
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    crate::ssr::audit::record(
        &st.db,
        Some(&user.view()),
        None,
        AuditAction::SignIn,
        "",
        "",
    )
    .await;
    leptos_axum::redirect("/inbox");
    Ok(())
}

#[cfg(feature = "ssr")]
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| {
        crate::store::users::hash_password("not a real password at all").unwrap_or_default()
    })
}

/// Signs out: the server-side session is deleted.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    if let (Ok(st), Ok(Some(u))) = (
        crate::ssr::auth::state(),
        crate::ssr::auth::current_user().await,
    ) {
        crate::ssr::audit::record(
            &st.db,
            Some(&u),
            None,
            crate::domain::audit::AuditAction::SignOut,
            "",
            "",
        )
        .await;
    }
    let session = crate::ssr::auth::session().await?;
    session
        .flush()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or None.
#[server(endpoint = "me", output = crate::api::codec::JsonText)]
pub async fn me() -> Result<Option<UserView>, ServerFnError> {
    crate::ssr::auth::current_user().await
}
