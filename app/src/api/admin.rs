use crate::model::AdminUser;
use leptos::prelude::*;

#[server(endpoint = "admin/users", output = crate::api::codec::JsonText)]
pub async fn admin_users() -> Result<Vec<AdminUser>, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    // The state is taken before the first await: a page render the server discards while this
    // runs takes its context with it (see `channels_page`).
    let st = auth::state()?;
    auth::require(Permission::ManageUsers).await?;
    let open = crate::store::sessions::open_of(&st.db, &[], crate::store::now_ms())
        .await
        .map_err(errors::store)?;
    let current = crate::ssr::account::session_id(&auth::session().await?);
    Ok(crate::store::users::list(&st.db)
        .await
        .map_err(errors::store)?
        .into_iter()
        .map(|(user, disabled, two_factor)| {
            let mine: Vec<_> = open
                .iter()
                .filter(|s| s.user_id == user.id)
                .cloned()
                .collect();
            AdminUser {
                sessions: crate::ssr::account::infos(&mine, current.as_deref()),
                user,
                disabled,
                two_factor,
            }
        })
        .collect())
}

/// Adds a user and answers what was done, in words. A blank role is the least privileged one.
#[server(endpoint = "admin/users/create")]
pub async fn create_user(
    email: String,
    name: String,
    role: String,
    password: String,
) -> Result<String, ServerFnError> {
    use crate::domain::{Permission, Role};
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let me = auth::require(Permission::ManageUsers).await?;
    let role = match role.trim() {
        "" => Role::BY_PRIVILEGE[0],
        r => Role::parse(r).ok_or_else(|| errors::bad_request("unknown role"))?,
    };
    crate::store::users::create_user(&st.db, &email, &name, role, &password)
        .await
        .map_err(errors::store)?;
    let user = crate::store::users::find_by_email(&st.db, &email)
        .await
        .map_err(errors::store)?;
    let (name, email) = user
        .map(|u| (u.name, u.email))
        .unwrap_or((name.trim().to_string(), email.trim().to_string()));
    crate::ssr::audit::record(
        &st.db,
        Some(&me),
        None,
        crate::domain::audit::AuditAction::UserAdded,
        &format!("{name} <{email}>"),
        &format!("role {}", role.label()),
    )
    .await;
    Ok(format!(
        "Added {name} ({email}) as {}. They can sign in with the password you set.",
        role.label()
    ))
}

/// Disables (ending their sessions) or re-enables a user. Admins cannot disable themselves.
#[server(endpoint = "admin/users/disable")]
pub async fn set_user_disabled(id: i64, disabled: bool) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let me = auth::require(Permission::ManageUsers).await?;
    if me.id == id && disabled {
        return Err(errors::bad_request("you cannot disable your own account"));
    }
    crate::store::users::set_disabled(&st.db, id, disabled)
        .await
        .map_err(errors::store)?;
    let target = match crate::store::users::get(&st.db, id).await {
        Ok(Some(u)) => crate::ssr::audit::who(&u.view()),
        _ => format!("user {id}"),
    };
    let action = if disabled {
        crate::domain::audit::AuditAction::UserDisabled
    } else {
        crate::domain::audit::AuditAction::UserEnabled
    };
    crate::ssr::audit::record(&st.db, Some(&me), None, action, &target, "").await;
    Ok(())
}
