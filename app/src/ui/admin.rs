//! Administration: users and channel accounts. Admins only; enforced by the server functions.

use super::{err_text, Authed, CurrentUser};
use crate::api::account::{EndUserSessions, ResetPassword};
use crate::api::admin::{admin_users, CreateUser, SetUserDisabled};
use crate::api::two_factor::{get_two_factor_policy, ResetUserTwoFactor, SaveTwoFactorPolicy};
use crate::domain::{Permission, Role};
use crate::ui::widgets::Time;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

mod audit;
mod channels;
mod failed;
mod form;
mod labels;
mod providers;

/// The `/admin` route, a separate wasm chunk (with the channel and provider forms) loaded
/// when it is opened.
pub struct AdminRoute;

#[lazy_route]
impl LazyRoute for AdminRoute {
    fn data() -> Self {
        AdminRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AdminPage/> }.into_any()
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Authed>
            <Admin/>
        </Authed>
    }
}

#[component]
fn Admin() -> impl IntoView {
    let user = expect_context::<CurrentUser>();
    if !user.can(Permission::ManageUsers) {
        return super::no_access("Administration");
    }
    let create = ServerAction::<CreateUser>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    // A user added: the form empties for the next one (the confirmation stays).
    let add_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            if let Some(f) = add_form.get_untracked() {
                f.reset();
            }
        }
    });
    let reset = ServerAction::<ResetPassword>::new();
    let end = ServerAction::<EndUserSessions>::new();
    let reset_2fa = ServerAction::<ResetUserTwoFactor>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                disable.version().get(),
                reset.version().get(),
                end.version().get(),
                reset_2fa.version().get(),
            )
        },
        |_| admin_users(),
    );
    view! {
        <main class="admin" id="main">
            <h1>"Administration"</h1>
            <section aria-label="Users">
                <h2>"Users"</h2>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match users.await {
                            Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                            Ok(list) => view! {
                                <table>
                                    <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"State"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|u| {
                                                let id = u.user.id;
                                                let disabled = u.disabled;
                                                let sessions = u.sessions;
                                                let two_factor = u.two_factor;
                                                view! {
                                                    <tr>
                                                        <td>
                                                            {u.user.name}
                                                            <UserManage id=id sessions=sessions two_factor=two_factor reset=reset end=end reset_2fa=reset_2fa/>
                                                        </td>
                                                        <td>{u.user.email}</td>
                                                        <td>{u.user.role.label()}</td>
                                                        <td>{if disabled { "Disabled" } else { "Active" }}</td>
                                                        <td>
                                                            <ActionForm action=disable attr:class="inline">
                                                                <input type="hidden" name="id" value=id/>
                                                                <input type="hidden" name="disabled" value=(!disabled).to_string()/>
                                                                <button type="submit">{if disabled { "Enable" } else { "Disable" }}</button>
                                                            </ActionForm>
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
                {move || disable.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                {move || reset.value().get().or_else(|| end.value().get()).or_else(|| reset_2fa.value().get()).map(|r| match r {
                    Ok(done) => view! { <p class="ok" role="status">{done}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                })}
                <h3>"Add a user"</h3>
                <ActionForm action=create node_ref=add_form attr:class="grid-form">
                    <label for="new-email">"Email"</label>
                    <input id="new-email" type="email" name="email" required/>
                    <label for="new-name">"Name"</label>
                    <input id="new-name" name="name" required/>
                    <label for="new-role">"Role"</label>
                    // The least privileged role first, so it is the one chosen unless the admin
                    // picks another.
                    <select id="new-role" name="role">
                        {Role::BY_PRIVILEGE.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                    <label for="new-password">"Password"</label>
                    <input id="new-password" type="password" name="password" minlength="10" required autocomplete="new-password"/>
                    <button type="submit">"Add user"</button>
                </ActionForm>
                {move || create.value().get().map(|r| match r {
                    Ok(done) => view! { <p class="ok" role="status">{done}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                })}
            </section>
            <TwoFactorPolicyForm/>
            <channels::Channels/>
            <failed::FailedEvents/>
            <labels::Labels/>
            <audit::AuditTrail/>
        </main>
    }
    .into_any()
}

/// A user's sessions (each can be ended, or all at once) and a new password, folded away under
/// the user's name.
#[component]
fn UserManage(
    id: i64,
    sessions: Vec<crate::model::SessionInfo>,
    two_factor: bool,
    reset: ServerAction<ResetPassword>,
    end: ServerAction<EndUserSessions>,
    reset_2fa: ServerAction<ResetUserTwoFactor>,
) -> impl IntoView {
    let n = sessions.len();
    let pw_id = format!("reset-pw-{id}");
    view! {
        <details class="user-manage">
            <summary>
                {match n { 0 => "Not signed in".to_string(), 1 => "1 session".to_string(), n => format!("{n} sessions") }}
                {if two_factor { " · two-factor on" } else { " · password only" }}
            </summary>
            <ul class="plain">
                {sessions.into_iter().map(|s| view! {
                    <li>
                        {match s.signed_in_at { Some(t) => view! { <Time ms=t/> }.into_any(), None => "—".into_any() }}
                        " · "{s.ip.unwrap_or_else(|| "—".into())}" · "
                        <span class="agent">{s.agent.unwrap_or_else(|| "unknown browser".into())}</span>
                        {s.current.then_some(" (you, now)")}
                        <ActionForm action=end attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="handle" value=s.handle/>
                            <button type="submit">"End"</button>
                        </ActionForm>
                    </li>
                }).collect_view()}
            </ul>
            {(n > 1).then(|| view! {
                <ActionForm action=end attr:class="inline">
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="handle" value=""/>
                    <button type="submit">"End all sessions"</button>
                </ActionForm>
            })}
            <ActionForm action=reset attr:class="inline">
                <input type="hidden" name="id" value=id/>
                <label for=pw_id.clone()>"New password"</label>
                <input id=pw_id type="password" name="password" required minlength=crate::domain::role::MIN_PASSWORD_LEN.to_string() autocomplete="new-password"/>
                <button type="submit">"Set password"</button>
            </ActionForm>
            {two_factor.then(|| view! {
                <ActionForm action=reset_2fa attr:class="inline">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit">"Turn off two-factor (lost phone)"</button>
                </ActionForm>
            })}
        </details>
    }
}

/// Which roles must sign in with two factors.
#[component]
fn TwoFactorPolicyForm() -> impl IntoView {
    let save = ServerAction::<SaveTwoFactorPolicy>::new();
    let policy = Resource::new(move || save.version().get(), |_| get_two_factor_policy());
    view! {
        <section aria-labelledby="policy-title" id="two-factor-policy">
            <h2 id="policy-title">"Two-factor sign-in"</h2>
            <p class="hint">"Users of a ticked role sign in with their password and a code from an authenticator app. Those who have not set it up can only reach their account page until they do."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match policy.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(p) => view! {
                            <ActionForm action=save attr:class="inline policy-form">
                                <fieldset>
                                    <legend>"Required for"</legend>
                                    {Role::BY_PRIVILEGE.into_iter().rev().map(|r| {
                                        let id = format!("policy-{}", r.as_str());
                                        view! {
                                            <input type="checkbox" id=id.clone() name=r.as_str() value="yes" checked=p.required.contains(&r)/>
                                            <label for=id>{r.label()}</label>
                                        }
                                    }).collect_view()}
                                </fieldset>
                                <button type="submit">"Save"</button>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || save.value().get().map(|r| match r {
                Ok(done) => view! { <p class="ok" role="status">{done}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
            })}
        </section>
    }
}
