//! Two-factor sign-in: the second step of signing in, the user's own set-up (QR code, confirm
//! with a code, recovery codes shown once), turning it off, and the admin's policy per role and
//! reset for a user who lost their device. Every change is in the audit trail.

use crate::model::{TwoFactorPolicy, TwoFactorStatus};
use leptos::prelude::*;

/// The session keys of a sign-in waiting for its second factor: the user and when the password
/// was accepted (the code must follow within five minutes).
#[cfg(feature = "ssr")]
pub const PENDING_USER_KEY: &str = "pending_2fa_user";
#[cfg(feature = "ssr")]
pub const PENDING_AT_KEY: &str = "pending_2fa_at";
#[cfg(feature = "ssr")]
const PENDING_MS: i64 = 5 * 60_000;
/// Recovery codes just made, until the account page has shown them once.
#[cfg(feature = "ssr")]
const FRESH_CODES_KEY: &str = "fresh_recovery_codes";

/// Keeps `codes` in the session for the account page to show once.
#[cfg(feature = "ssr")]
async fn keep_for_showing(codes: &[String]) -> Result<(), ServerFnError> {
    crate::ssr::auth::session()
        .await?
        .insert(FRESH_CODES_KEY, codes)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The second step of signing in: an authenticator code or a recovery code, for the password
/// accepted just before in this session.
#[server(endpoint = "login/code")]
pub async fn verify_sign_in_code(code: String) -> Result<(), ServerFnError> {
    use crate::domain::audit::AuditAction;
    use crate::ssr::{account, audit, auth, errors, totp};
    use crate::store::{now_ms, sessions::USER_ID_KEY, users};
    use http::StatusCode;
    let st = auth::state()?;
    let session = auth::session().await?;
    let fail = |e: tower_sessions::session::Error| ServerFnError::new(e.to_string());
    let uid: Option<i64> = session.get(PENDING_USER_KEY).await.map_err(fail)?;
    let at: Option<i64> = session.get(PENDING_AT_KEY).await.map_err(fail)?;
    let now = now_ms();
    let (Some(uid), Some(at)) = (uid, at) else {
        return Err(errors::fail(
            StatusCode::UNAUTHORIZED,
            "Sign in with your email and password first.",
        ));
    };
    if now - at > PENDING_MS {
        let _ = session.flush().await;
        return Err(errors::fail(
            StatusCode::UNAUTHORIZED,
            "That took more than five minutes: sign in with your password again.",
        ));
    }
    let user = users::get(&st.db, uid)
        .await
        .map_err(errors::store)?
        .filter(|u| !u.disabled)
        .ok_or_else(|| errors::fail(StatusCode::UNAUTHORIZED, "Please sign in again."))?;
    let ip = audit::request_ip().await.and_then(|i| i.parse().ok());
    if !st
        .limiter
        .allowed(&user.email, ip)
        .await
        .map_err(errors::store)?
    {
        return Err(errors::fail(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong codes. Wait 15 minutes and try again.",
        ));
    }
    let (_, secret, last_step) = users::totp_secrets(&st.db, uid)
        .await
        .map_err(errors::store)?;
    let how = if totp::looks_like_recovery_code(&code) {
        let used = users::use_recovery_code(&st.db, uid, &totp::hash_recovery_code(&code), now)
            .await
            .map_err(errors::store)?;
        used.then(|| "a recovery code".to_string())
    } else {
        match secret
            .as_deref()
            .and_then(|s| totp::verify(s, &code, now, last_step))
        {
            Some(step) => users::use_totp_step(&st.db, uid, step)
                .await
                .map_err(errors::store)?
                .then(|| "an authenticator code".to_string()),
            None => None,
        }
    };
    let Some(how) = how else {
        st.limiter
            .record_failure(&user.email, ip)
            .await
            .map_err(errors::store)?;
        audit::sign_in_refused(
            &st.db,
            &user.email,
            "right password, wrong or used second-factor code",
        )
        .await;
        return Err(errors::bad_request(
            "That code is not right (or was used already). Type the six digits your app shows now, or a recovery code.",
        ));
    };
    st.limiter
        .record_success(&user.email, ip)
        .await
        .map_err(errors::store)?;
    session
        .remove::<i64>(PENDING_USER_KEY)
        .await
        .map_err(fail)?;
    session.remove::<i64>(PENDING_AT_KEY).await.map_err(fail)?;
    session.cycle_id().await.map_err(fail)?;
    session.insert(USER_ID_KEY, uid).await.map_err(fail)?;
    account::mark_sign_in(&session, now).await.map_err(fail)?;
    let mut detail = format!("password and {how}");
    if how == "a recovery code" {
        let left = users::recovery_codes_left(&st.db, uid)
            .await
            .map_err(errors::store)?;
        detail.push_str(&format!(" ({left} left)"));
    }
    audit::record(
        &st.db,
        Some(&user.view()),
        None,
        AuditAction::SignIn,
        "",
        &detail,
    )
    .await;
    leptos_axum::redirect("/inbox");
    Ok(())
}

/// The caller's two-factor state, with the set-up under way if any.
#[server(endpoint = "account/two-factor", output = crate::api::codec::JsonText)]
pub async fn get_two_factor_status() -> Result<TwoFactorStatus, ServerFnError> {
    use crate::model::TwoFactorSetup;
    use crate::ssr::{auth, errors, totp};
    use crate::store::users;
    let st = auth::state()?;
    let me = signed_in().await?;
    let row = users::get(&st.db, me.id)
        .await
        .map_err(errors::store)?
        .ok_or_else(|| errors::fail(http::StatusCode::UNAUTHORIZED, "Please sign in."))?;
    let (pending, _, _) = users::totp_secrets(&st.db, me.id)
        .await
        .map_err(errors::store)?;
    let setup = pending.map(|secret| {
        let uri = totp::otpauth_uri("Convergence", &me.email, &secret);
        TwoFactorSetup {
            qr_svg: totp::qr_svg(&uri).unwrap_or_default(),
            secret: secret
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).to_string())
                .collect::<Vec<_>>()
                .join(" "),
            uri,
        }
    });
    let new_recovery_codes: Vec<String> = auth::session()
        .await?
        .remove(FRESH_CODES_KEY)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?
        .unwrap_or_default();
    Ok(TwoFactorStatus {
        new_recovery_codes,
        enabled: row.totp_enabled,
        required: row.two_factor_required,
        recovery_codes_left: users::recovery_codes_left(&st.db, me.id)
            .await
            .map_err(errors::store)?,
        setup,
    })
}

#[cfg(feature = "ssr")]
async fn signed_in() -> Result<crate::model::UserView, ServerFnError> {
    crate::ssr::auth::current_user()
        .await?
        .ok_or_else(|| crate::ssr::errors::fail(http::StatusCode::UNAUTHORIZED, "Please sign in."))
}

/// Starts setting up (or starts again): a new secret to scan, kept until confirmed.
#[server(endpoint = "account/two-factor/start")]
pub async fn start_two_factor() -> Result<(), ServerFnError> {
    use crate::ssr::{auth, errors, totp};
    let st = auth::state()?;
    let me = signed_in().await?;
    crate::store::users::set_totp_pending(&st.db, me.id, &totp::new_secret())
        .await
        .map_err(errors::store)
}

/// Confirms the set-up with a code from the app; answers the recovery codes, shown this once.
#[server(endpoint = "account/two-factor/confirm", output = crate::api::codec::JsonText)]
pub async fn confirm_two_factor(code: String) -> Result<Vec<String>, ServerFnError> {
    use crate::domain::audit::AuditAction;
    use crate::ssr::{audit, auth, errors, totp};
    use crate::store::users;
    let st = auth::state()?;
    let me = signed_in().await?;
    let (pending, _, _) = users::totp_secrets(&st.db, me.id)
        .await
        .map_err(errors::store)?;
    let Some(pending) = pending else {
        return Err(errors::bad_request("Start the set-up first."));
    };
    let Some(step) = totp::verify(&pending, &code, crate::store::now_ms(), 0) else {
        return Err(errors::bad_request(
            "That code is not right. Check the time on your phone and type the six digits the app shows now.",
        ));
    };
    let (codes, hashes) = totp::new_recovery_codes_hashed();
    users::enable_totp(&st.db, me.id, step, &hashes)
        .await
        .map_err(errors::store)?;
    keep_for_showing(&codes).await?;
    audit::on_own_account(&st.db, &me, AuditAction::TwoFactorEnabled, "").await;
    Ok(codes)
}

/// Turns the caller's two-factor sign-in off (refused while their role requires it).
#[server(endpoint = "account/two-factor/disable")]
pub async fn disable_two_factor(password: String) -> Result<(), ServerFnError> {
    use crate::domain::audit::AuditAction;
    use crate::ssr::{audit, auth, errors};
    let st = auth::state()?;
    let me = signed_in().await?;
    crate::ssr::account::check_password(&st, &me, &password).await?;
    let row = crate::store::users::get(&st.db, me.id)
        .await
        .map_err(errors::store)?;
    if row.is_some_and(|r| r.two_factor_required) {
        return Err(errors::bad_request(
            "Your role must sign in with two factors, so it stays on. To move it to a new phone, set it up again.",
        ));
    }
    crate::store::users::disable_totp(&st.db, me.id)
        .await
        .map_err(errors::store)?;
    audit::on_own_account(&st.db, &me, AuditAction::TwoFactorDisabled, "by the user").await;
    Ok(())
}

/// New recovery codes for the caller (the old ones stop working); shown this once.
#[server(endpoint = "account/two-factor/codes", output = crate::api::codec::JsonText)]
pub async fn renew_recovery_codes(password: String) -> Result<Vec<String>, ServerFnError> {
    use crate::domain::audit::AuditAction;
    use crate::ssr::{audit, auth, errors, totp};
    let st = auth::state()?;
    let me = signed_in().await?;
    crate::ssr::account::check_password(&st, &me, &password).await?;
    let row = crate::store::users::get(&st.db, me.id)
        .await
        .map_err(errors::store)?;
    if !row.is_some_and(|r| r.totp_enabled) {
        return Err(errors::bad_request("Set up two-factor sign-in first."));
    }
    let (codes, hashes) = totp::new_recovery_codes_hashed();
    crate::store::users::replace_recovery_codes(&st.db, me.id, &hashes)
        .await
        .map_err(errors::store)?;
    keep_for_showing(&codes).await?;
    audit::on_own_account(&st.db, &me, AuditAction::RecoveryCodesRenewed, "").await;
    Ok(codes)
}

/// Which roles must sign in with two factors (admins).
#[server(endpoint = "admin/two-factor", output = crate::api::codec::JsonText)]
pub async fn get_two_factor_policy() -> Result<TwoFactorPolicy, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ManageUsers).await?;
    Ok(TwoFactorPolicy {
        required: crate::store::users::two_factor_roles(&st.db)
            .await
            .map_err(errors::store)?,
    })
}

/// Sets the roles that must sign in with two factors (a ticked box per role: `admin`,
/// `support`, `marketing`). Their users who have not set it up may only reach their account
/// page until they do.
#[server(endpoint = "admin/two-factor/save")]
pub async fn save_two_factor_policy(
    admin: Option<String>,
    support: Option<String>,
    marketing: Option<String>,
) -> Result<String, ServerFnError> {
    use crate::domain::{audit::AuditAction, Permission, Role};
    use crate::ssr::{audit, auth, errors};
    let st = auth::state()?;
    let me = auth::require(Permission::ManageUsers).await?;
    let ticked = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|v| !matches!(v.trim(), "" | "no" | "false" | "off"))
    };
    let roles: Vec<Role> = [
        (Role::Admin, &admin),
        (Role::Support, &support),
        (Role::Marketing, &marketing),
    ]
    .into_iter()
    .filter(|(_, v)| ticked(v))
    .map(|(r, _)| r)
    .collect();
    crate::store::users::set_two_factor_roles(&st.db, &roles)
        .await
        .map_err(errors::store)?;
    let words = if roles.is_empty() {
        "nobody".to_string()
    } else {
        roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    audit::record(
        &st.db,
        Some(&me),
        None,
        AuditAction::SettingsChanged,
        "two-factor sign-in policy",
        &format!("required for: {words}"),
    )
    .await;
    Ok(format!("Two-factor sign-in is now required for: {words}."))
}

/// Turns a user's two factors off (they lost their phone and their codes); if their role
/// requires it, they set it up again at their next sign-in. Their sessions end.
#[server(endpoint = "admin/users/two-factor/reset")]
pub async fn reset_user_two_factor(id: i64) -> Result<String, ServerFnError> {
    use crate::domain::{audit::AuditAction, Permission};
    use crate::ssr::{audit, auth, errors};
    use crate::store::{sessions, users};
    let st = auth::state()?;
    let me = auth::require(Permission::ManageUsers).await?;
    let target = users::get(&st.db, id)
        .await
        .map_err(errors::store)?
        .ok_or_else(|| errors::fail(http::StatusCode::NOT_FOUND, "No such user."))?;
    users::disable_totp(&st.db, id)
        .await
        .map_err(errors::store)?;
    sessions::end_for_user(&st.db, id, None)
        .await
        .map_err(errors::store)?;
    audit::record(
        &st.db,
        Some(&me),
        None,
        AuditAction::TwoFactorDisabled,
        &crate::ssr::audit::who(&target.view()),
        "reset by an admin; sessions ended",
    )
    .await;
    Ok(format!(
        "Two-factor sign-in is off for {}; they were signed out.",
        target.name
    ))
}
