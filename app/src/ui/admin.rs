//! Administration: users and channel accounts. Admins only; enforced by the server functions.

use super::{err_text, Authed, CurrentUser};
use crate::api::admin::{admin_users, CreateUser, SetUserDisabled};
use crate::domain::{Permission, Role};
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

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
    let users = Resource::new(
        move || (create.version().get(), disable.version().get()),
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
                                                view! {
                                                    <tr>
                                                        <td>{u.user.name}</td>
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
            <channels::Channels/>
            <failed::FailedEvents/>
            <labels::Labels/>
        </main>
    }
    .into_any()
}
