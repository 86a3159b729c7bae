//! Your account (`/account`, every signed-in user): change your password, see where you are
//! signed in and sign out elsewhere. A separate wasm chunk; works without JavaScript (each form
//! posts and comes back with its answer in words).

use super::{err_text, Authed, CurrentUser};
use crate::api::account::{my_sessions, ChangePassword, EndMySessions};
use crate::api::two_factor::{
    get_two_factor_status, ConfirmTwoFactor, DisableTwoFactor, RenewRecoveryCodes, StartTwoFactor,
};
use crate::domain::role::MIN_PASSWORD_LEN;
use crate::model::SessionInfo;
use crate::ui::widgets::Time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};

pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        AccountRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Authed><AccountPage/></Authed> }.into_any()
    }
}

#[component]
fn AccountPage() -> impl IntoView {
    let me = expect_context::<CurrentUser>().0;
    let change = ServerAction::<ChangePassword>::new();
    let end = ServerAction::<EndMySessions>::new();
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = change.value().get() {
            if let Some(f) = form.get_untracked() {
                f.reset();
            }
        }
    });
    let sessions = Resource::new(
        move || (change.version().get(), end.version().get()),
        |_| my_sessions(),
    );
    let min = MIN_PASSWORD_LEN.to_string();
    view! {
        <Title text="Your account · Convergence"/>
        <main class="account-page" id="main">
            <h1>"Your account"</h1>
            <p>{me.name.clone()}" · "{me.email.clone()}" · "{me.role.label()}</p>
            <section aria-labelledby="password-title">
                <h2 id="password-title">"Change your password"</h2>
                <ActionForm action=change node_ref=form attr:class="grid-form">
                    <label for="pw-current">"Current password"</label>
                    <input id="pw-current" type="password" name="current" required autocomplete="current-password"/>
                    <label for="pw-new">"New password"</label>
                    <input id="pw-new" type="password" name="new_password" required minlength=min.clone() autocomplete="new-password" aria-describedby="pw-rule"/>
                    <label for="pw-confirm">"New password again"</label>
                    <input id="pw-confirm" type="password" name="confirm" required minlength=min autocomplete="new-password"/>
                    <p class="hint" id="pw-rule">{format!("At least {MIN_PASSWORD_LEN} characters. Your other sessions are signed out.")}</p>
                    <button type="submit">"Change password"</button>
                </ActionForm>
                {move || change.value().get().map(|r| match r {
                    Ok(done) => view! { <p class="ok" role="status">{done}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                })}
            </section>
            <TwoFactor/>
            <section aria-labelledby="sessions-title">
                <h2 id="sessions-title">"Where you are signed in"</h2>
                {move || end.value().get().map(|r| match r {
                    Ok(done) => view! { <p class="ok" role="status">{done}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                })}
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match sessions.await {
                            Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                            Ok(list) => {
                                let others = list.iter().filter(|s| !s.current).count();
                                view! {
                                    <SessionTable list=list end=end/>
                                    {(others > 1).then(|| view! {
                                        <ActionForm action=end attr:class="inline">
                                            <input type="hidden" name="handle" value=""/>
                                            <button type="submit">"Sign out everywhere else"</button>
                                        </ActionForm>
                                    })}
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </main>
    }
}

/// A user's sessions with a button to end each one but the current.
#[component]
pub fn SessionTable(list: Vec<SessionInfo>, end: ServerAction<EndMySessions>) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Your sessions">
            <table class="sessions">
                <thead><tr><th>"Signed in"</th><th>"From"</th><th>"Browser"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {list.into_iter().map(|s| view! {
                        <tr>
                            <td>{match s.signed_in_at { Some(t) => view! { <Time ms=t/> }.into_any(), None => "—".into_any() }}</td>
                            <td>{s.ip.unwrap_or_else(|| "—".into())}</td>
                            <td class="agent">{s.agent.unwrap_or_else(|| "—".into())}</td>
                            <td>{if s.current {
                                view! { <span class="current">"This session"</span> }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=end attr:class="inline">
                                        <input type="hidden" name="handle" value=s.handle/>
                                        <button type="submit">"Sign out"</button>
                                    </ActionForm>
                                }.into_any()
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Two-factor sign-in: set up with a QR code and a confirming code, recovery codes shown once,
/// new codes, off (unless the role requires it).
#[component]
fn TwoFactor() -> impl IntoView {
    let start = ServerAction::<StartTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let renew = ServerAction::<RenewRecoveryCodes>::new();
    let status = Resource::new(
        move || {
            (
                start.version().get(),
                confirm.version().get(),
                disable.version().get(),
                renew.version().get(),
            )
        },
        |_| get_two_factor_status(),
    );
    let errors = move || {
        [
            start.value().get().and_then(Result::err),
            confirm.value().get().and_then(Result::err),
            disable.value().get().and_then(Result::err),
            renew.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })
        .collect_view()
    };
    view! {
        <section aria-labelledby="two-factor-title" id="two-factor">
            <h2 id="two-factor-title">"Two-factor sign-in"</h2>
            {errors}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(st) => {
                            let fresh = (!st.new_recovery_codes.is_empty()).then(|| view! {
                                <div class="recovery-codes" role="status">
                                    <p><strong>"Your recovery codes. Save them now: they are shown only this once."</strong>" Each one signs you in once if you lose your phone."</p>
                                    <ul>{st.new_recovery_codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}</ul>
                                </div>
                            });
                            let on = if st.enabled {
                                view! {
                                    <p class="ok">{format!(
                                        "On: you sign in with your password and a code from your app. {} recovery code{} left.",
                                        st.recovery_codes_left,
                                        if st.recovery_codes_left == 1 { "" } else { "s" }
                                    )}</p>
                                }.into_any()
                            } else if st.required {
                                view! { <p class="warning">"Your role must sign in with two factors. Set it up to open the rest of Convergence."</p> }.into_any()
                            } else {
                                view! { <p>"Off. With it on, signing in also asks for a code from an authenticator app on your phone."</p> }.into_any()
                            };
                            let setup = match st.setup {
                                Some(setup) => view! {
                                    <div class="totp-setup">
                                        <p>"1. Scan this code with an authenticator app (such as Google Authenticator, Microsoft Authenticator, 1Password or Aegis), or type the key."</p>
                                        <div class="qr" role="img" aria-label="QR code of the key" inner_html=setup.qr_svg></div>
                                        <p>"Key: "<code class="totp-key">{setup.secret}</code></p>
                                        <p>"2. Type the six digits the app shows."</p>
                                        <ActionForm action=confirm attr:class="inline">
                                            <label for="totp-confirm">"Code"</label>
                                            <input id="totp-confirm" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="7"/>
                                            <button type="submit">"Turn on"</button>
                                        </ActionForm>
                                    </div>
                                }.into_any(),
                                None => view! {
                                    <ActionForm action=start attr:class="inline">
                                        <button type="submit">{if st.enabled { "Move to a new phone" } else { "Set up two-factor sign-in" }}</button>
                                    </ActionForm>
                                }.into_any(),
                            };
                            let manage = st.enabled.then(|| view! {
                                <ActionForm action=renew attr:class="inline">
                                    <label for="renew-pw">"Password"</label>
                                    <input id="renew-pw" type="password" name="password" required autocomplete="current-password"/>
                                    <button type="submit">"New recovery codes"</button>
                                </ActionForm>
                                {(!st.required).then(|| view! {
                                    <ActionForm action=disable attr:class="inline">
                                        <label for="disable-pw">"Password"</label>
                                        <input id="disable-pw" type="password" name="password" required autocomplete="current-password"/>
                                        <button type="submit">"Turn off"</button>
                                    </ActionForm>
                                })}
                            });
                            view! { {fresh}{on}{setup}{manage} }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}
