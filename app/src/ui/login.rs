use super::{err_text, session_error, SessionCtx};
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// The `/login` route. Its view is a separate wasm chunk: a signed-in agent never loads it.
pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        LoginRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <LoginPage/> }.into_any()
    }
}

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
                    session_error(login).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })
                }}
            </div>
        </main>
    }
}

/// `/login/code`: the second step, for users with two-factor sign-in. A separate wasm chunk.
pub struct CodeRoute;

#[lazy_route]
impl LazyRoute for CodeRoute {
    fn data() -> Self {
        CodeRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <CodePage/> }.into_any()
    }
}

#[component]
pub fn CodePage() -> impl IntoView {
    let code = expect_context::<SessionCtx>().code;
    view! {
        <main class="login">
            <div class="login-card">
                <h1>"Enter your code"</h1>
                <p class="tagline">"Open your authenticator app and type the six digits it shows for Convergence. Lost your phone? Type one of your recovery codes."</p>
                <ActionForm action=code>
                    <label for="login-code">"Code"</label>
                    <input id="login-code" name="code" autocomplete="one-time-code" required autofocus maxlength="14" aria-describedby="code-hint"/>
                    <p class="hint" id="code-hint">"Six digits, or a recovery code such as abcd-efgh-jk."</p>
                    <button type="submit" disabled=move || code.pending().get()>"Continue"</button>
                </ActionForm>
                {move || {
                    session_error(code).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })
                }}
                <p><a href="/login">"Start again with your password"</a></p>
            </div>
        </main>
    }
}
