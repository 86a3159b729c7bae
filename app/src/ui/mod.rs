//! The browser UI, by feature: sign-in, the three-pane inbox, the playground, administration.

pub mod account;
pub mod admin;
pub mod campaign_form;
pub mod campaigns;
pub mod canned;
pub mod inbox;
pub mod live;
pub mod login;
pub mod playground;
pub mod report_settings;
pub mod reports;
pub mod widgets;

use crate::api::auth::{me, Login, Logout};
use crate::domain::{Permission, Role};
use crate::model::UserView;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::{path, Lazy, SsrMode};

/// The app icon, inline so the site needs no static assets folder.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"%3E%3Ccircle cx=\"16\" cy=\"16\" r=\"15\" fill=\"%233652d9\"/%3E%3Cpath d=\"M9 11h14M9 16h10M9 21h6\" stroke=\"#fff\" stroke-width=\"3\" stroke-linecap=\"round\"/%3E%3C/svg%3E";

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <link rel="icon" type="image/svg+xml" href=FAVICON/>
                <MetaTags/>
            </head>
            <body data-zone=widgets::page_zone_attr()>
                <App/>
            </body>
        </html>
    }
}

/// Sign-in state shared by every page.
#[derive(Clone, Copy)]
pub struct SessionCtx {
    pub me: Resource<Result<Option<UserView>, ServerFnError>>,
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    /// The second step of signing in (a two-factor code).
    pub code: ServerAction<crate::api::two_factor::VerifySignInCode>,
}

/// The signed-in user, provided to everything under [`Authed`].
#[derive(Clone, Debug)]
pub struct CurrentUser(pub UserView);

impl CurrentUser {
    pub fn can(&self, p: Permission) -> bool {
        self.0.role.allows(p)
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    let code = ServerAction::<crate::api::two_factor::VerifySignInCode>::new();
    let me = Resource::new(
        move || {
            (
                login.version().get(),
                logout.version().get(),
                code.version().get(),
            )
        },
        |_| me(),
    );
    provide_context(SessionCtx {
        me,
        login,
        logout,
        code,
    });
    live::provide_live();
    widgets::provide_zone();

    view! {
        <Stylesheet id="leptos" href="/pkg/convergence.css"/>
        <Title text="Convergence"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/inbox"/> } ssr=SsrMode::Async/>
                // The inbox is in the main bundle; the other pages are fetched when opened.
                <Route path=path!("/login") view={Lazy::<login::LoginRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/login/code") view={Lazy::<login::CodeRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/inbox") view=inbox::InboxPage ssr=SsrMode::Async/>
                <Route path=path!("/inbox/:id") view=inbox::InboxPage ssr=SsrMode::Async/>
                <Route path=path!("/playground") view={Lazy::<playground::PlaygroundRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin") view={Lazy::<admin::AdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/account") view={Lazy::<account::AccountRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/reports") view={Lazy::<reports::ReportsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/reports/episodes") view={Lazy::<reports::EpisodesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/reports/settings") view={Lazy::<report_settings::ReportSettingsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/canned") view={Lazy::<canned::CannedRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/campaigns") view={Lazy::<campaigns::CampaignsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/campaigns/new") view={Lazy::<campaigns::CampaignRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/campaigns/:id") view={Lazy::<campaigns::CampaignRoute>::new()} ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// The page for someone whose role does not allow `title`'s page: 403, as its server
/// functions answer (one copy for every page; only lazy routes use it).
pub fn no_access(title: &'static str) -> AnyView {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <main class="notice" id="main">
            <h1>{title}</h1>
            <p role="alert">"You do not have access to this page."</p>
        </main>
    }
    .into_any()
}

/// The error a form of server function `S` left in the page's URL: without JavaScript a
/// refused form post is redirected back with it (`__path`, `__err`). Actions made under the
/// router read it themselves; the session's actions are made above it, so their pages ask here.
pub fn error_from_url<S>() -> Option<ServerFnError>
where
    S: leptos::server_fn::ServerFn<Error = ServerFnError>,
{
    use leptos::server_fn::error::ServerFnUrlError;
    use_context::<leptos::server::ServerActionError>()
        .filter(|e| e.path() == S::PATH)
        .map(|e| ServerFnUrlError::<ServerFnError>::decode_err(e.err()))
}

/// What a session form says went wrong: its last answer, or before any, the URL's error.
pub fn session_error<S>(action: ServerAction<S>) -> Option<ServerFnError>
where
    S: leptos::server_fn::ServerFn<Error = ServerFnError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    match action.value().get() {
        Some(answer) => answer.err(),
        None => error_from_url::<S>(),
    }
}

/// An action's error is about the input that was sent: once the agent changes any field of
/// its form it is stale, and goes. Put this on the form as `on:input` and `on:change` (both
/// bubble from every field).
pub fn forget_error<S>(action: ServerAction<S>) -> impl Fn(leptos::ev::Event) + Copy + 'static
where
    S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    move |_| {
        if action.value().with_untracked(|v| matches!(v, Some(Err(_)))) {
            action.clear();
        }
    }
}

/// A fresh idempotency key for a draft (random; unique per conversation in practice). The
/// server stores one message per key, so a double submit or a retried request sends once.
#[cfg(feature = "ssr")]
pub fn fresh_key() -> String {
    use rand::Rng;
    let n: u128 = rand::thread_rng().gen();
    format!("{n:032x}")
}

/// A fresh idempotency key for a draft, in the browser.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn fresh_key() -> String {
    let part = || (js_sys::Math::random() * 4_503_599_627_370_496.0) as u64;
    format!(
        "{:013x}{:013x}{:x}",
        part(),
        part(),
        js_sys::Date::now() as u64
    )
}

/// A fresh idempotency key for a draft, in a build for neither side (unit tests).
#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
pub fn fresh_key() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("local-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Renders `children` for a signed-in user (with the top bar); sends anyone else to sign in.
#[component]
pub fn Authed(children: ChildrenFn) -> impl IntoView {
    let session = expect_context::<SessionCtx>();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match session.me.await {
                        Ok(Some(user)) if user.needs_two_factor_setup
                            && !use_location().pathname.get_untracked().starts_with("/account") =>
                        {
                            view! {
                                <main class="notice-page" id="main">
                                    <h1>"Set up two-factor sign-in"</h1>
                                    <p>"Your role signs in with a password and a code from an authenticator app. Set it up on your account page; everything else opens once it is done."</p>
                                    <p><a href="/account#two-factor">"Set up two-factor sign-in"</a></p>
                                    <ActionForm action=session.logout attr:class="logout">
                                        <button type="submit">"Sign out"</button>
                                    </ActionForm>
                                </main>
                            }
                                .into_any()
                        }
                        Ok(Some(user)) => {
                            provide_context(CurrentUser(user.clone()));
                            view! {
                                <a class="skip-link" href="#main">"Skip to main content"</a>
                                <TopBar user/>
                                <live::LiveConnector/>
                                {children()}
                            }
                                .into_any()
                        }
                        _ => view! { <Redirect path="/login"/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn TopBar(user: UserView) -> impl IntoView {
    let session = expect_context::<SessionCtx>();
    view! {
        <header class="topbar">
            <a class="brand" href="/inbox">"Convergence"</a>
            <nav aria-label="Main">
                <a href="/inbox">"Inbox"</a>
                {user.role.allows(Permission::ViewReports).then(|| view! { <a href="/reports">"Reports"</a> })}
                {user.role.allows(Permission::ManageCampaigns).then(|| view! { <a href="/campaigns">"Campaigns"</a> })}
                {user.role.allows(Permission::UsePlayground).then(|| view! { <a href="/playground">"Playground"</a> })}
                {(user.role == Role::Admin).then(|| view! { <a href="/admin">"Admin"</a> })}
            </nav>
            <widgets::ZoneNote/>
            <a class="whoami" href="/account" aria-label=format!("Your account: {} ({})", user.name, user.role.label()) title="Your account: password, two-factor sign-in, sessions">
                <span class="name">{user.name.clone()}</span>
                <span class="role">{user.role.label()}</span>
            </a>
            <ActionForm action=session.logout attr:class="logout">
                <button type="submit">"Sign out"</button>
            </ActionForm>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="notice">
            <h1>"Page not found"</h1>
            <p><a href="/inbox">"Back to the inbox"</a></p>
        </main>
    }
}

/// The words of a server function error, without the framework's prefix, and never a
/// decoder's message: an answer that is not a server function's (a proxy's error page, the
/// origin check's refusal) is shown by its own short text when it has one.
pub fn err_text(e: &ServerFnError) -> String {
    const UNREADABLE: &str =
        "The server's answer could not be read. Reload the page and try again.";
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        ServerFnError::Request(_) => {
            "The server could not be reached. Check the connection and try again.".into()
        }
        ServerFnError::Deserialization(m) => plain_answer(m).unwrap_or_else(|| UNREADABLE.into()),
        _ => UNREADABLE.into(),
    }
}

/// The text of a plain answer the server function client could not decode: short, one line,
/// no markup.
fn plain_answer(decoder_message: &str) -> Option<String> {
    let quoted = decoder_message
        .strip_prefix("Invalid format: missing delimiter in \"")?
        .strip_suffix('"')?;
    let text = quoted.replace("\\\"", "\"");
    let text = text.trim();
    let plain = !text.is_empty()
        && text.len() <= 300
        && !text.contains(['<', '>', '{', '}', '\\'])
        && !text.chars().any(char::is_control);
    plain.then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_words_never_a_decoders_message() {
        let e = |x: ServerFnError| err_text(&x);
        assert_eq!(
            e(ServerFnError::ServerError("Enter the name.".into())),
            "Enter the name."
        );
        // The origin check's refusal is plain text, not a server function error.
        assert_eq!(
            e(ServerFnError::Deserialization(
                "Invalid format: missing delimiter in \"Cross-origin request refused.\"".into()
            )),
            "Cross-origin request refused."
        );
        for raw in [
            "expected value at line 1 column 1",
            "Invalid format: missing delimiter in \"<html><title>502 Bad Gateway</title></html>\"",
            "Invalid format: missing delimiter in \"\"",
        ] {
            let w = e(ServerFnError::Deserialization(raw.into()));
            assert!(
                w.starts_with("The server's answer could not be read"),
                "{raw}: {w}"
            );
        }
        let w = e(ServerFnError::Request("error sending request".into()));
        assert!(w.starts_with("The server could not be reached"), "{w}");
    }
}
