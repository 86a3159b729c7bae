use super::{err_text, SessionCtx};
use leptos::prelude::*;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = expect_context::<SessionCtx>().login;
    view! {
        <main class="login">
            <div class="login-card">
                <h1>"Sign in"</h1>
                <p class="tagline">"Convergence: one conversation per customer, on every channel."</p>
                <ActionForm action=login>
                    <label for="login-email">"Email"</label>
                    <input id="login-email" type="email" name="email" autocomplete="username" required/>
                    <label for="login-password">"Password"</label>
                    <input id="login-password" type="password" name="password" autocomplete="current-password" required/>
                    <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
                </ActionForm>
                {move || {
                    login.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })
                }}
            </div>
        </main>
    }
}
