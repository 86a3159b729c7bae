//! The browser UI, by feature: sign-in, the three-pane inbox, the playground, administration.

pub mod admin;
pub mod inbox;
pub mod live;
pub mod login;
pub mod playground;
pub mod widgets;

use crate::api::auth::{me, Login, Logout};
use crate::domain::{Permission, Role};
use crate::model::UserView;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

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
            <body>
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
    let me = Resource::new(
        move || (login.version().get(), logout.version().get()),
        |_| me(),
    );
    provide_context(SessionCtx { me, login, logout });
    live::provide_live();

    view! {
        <Stylesheet id="leptos" href="/pkg/convergence.css"/>
        <Title text="Convergence"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/inbox"/> } ssr=SsrMode::Async/>
                <Route path=path!("/login") view=login::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/inbox") view=inbox::InboxPage ssr=SsrMode::Async/>
                <Route path=path!("/inbox/:id") view=inbox::InboxPage ssr=SsrMode::Async/>
                <Route path=path!("/playground") view=playground::PlaygroundPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=admin::AdminPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
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
                        Ok(Some(user)) => {
                            provide_context(CurrentUser(user.clone()));
                            view! {
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
                {user.role.allows(Permission::UsePlayground).then(|| view! { <a href="/playground">"Playground"</a> })}
                {(user.role == Role::Admin).then(|| view! { <a href="/admin">"Admin"</a> })}
            </nav>
            <span class="whoami">
                <span class="name">{user.name.clone()}</span>
                <span class="role">{user.role.label()}</span>
            </span>
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

/// The words of a server function error, without the framework's prefix.
pub fn err_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}
