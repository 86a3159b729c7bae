//! The edge's own guards: state changes need our origin, sessions rotate at sign-in and end at
//! sign-out, sign-in is rate limited, and `/healthz` reports the database.

use super::{first_conversation, ADMIN, SUPPORT};
use crate::support::{spawn_app, Engine};

both_engines!(
    state_changes_need_our_origin,
    sessions_rotate_at_login_and_end_at_logout,
    login_is_rate_limited,
    health_reports_database,
    refused_forms_without_javascript_go_back_with_words,
);

async fn state_changes_need_our_origin(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let conv = first_conversation(&app).await.to_string();
    let args = [("id", conv.as_str()), ("body", "csrf")];
    let evil = c
        .post(app.url("/api/conversation/note"))
        .header("Origin", "https://evil.example")
        .form(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let none = c
        .post(app.url("/api/conversation/note"))
        .form(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 403, "no Origin and no Referer");
    // Fetch metadata is not an origin: without Origin or Referer the request is refused.
    let fetch_meta = c
        .post(app.url("/api/conversation/note"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_meta.status(), 403, "Sec-Fetch-Site alone");
    // The Host header is never the reference: an Origin naming the host the request was sent
    // to, but another scheme or port than the public URL's, is refused.
    let host = app.addr.trim_start_matches("http://").to_string();
    for origin in [format!("https://{host}"), "http://127.0.0.1:1".to_string()] {
        let r = c
            .post(app.url("/api/conversation/note"))
            .header("Origin", &origin)
            .header("Host", &host)
            .form(&args)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{origin}");
    }
    let wrong_port_referer = c
        .post(app.url("/api/conversation/note"))
        .header("Referer", "http://127.0.0.1:1/inbox")
        .form(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_port_referer.status(), 403);
    // Without Origin, a Referer from our own origin passes.
    let referer = c
        .post(app.url("/api/conversation/note"))
        .header("Referer", app.url("/inbox"))
        .header("Accept", "application/json")
        .form(&args)
        .send()
        .await
        .unwrap();
    assert_eq!(referer.status(), 200);
    // Nothing was written by the refused requests.
    let page = app::store::timeline::page(&app.state.db, conv.parse().unwrap(), None, 50)
        .await
        .unwrap();
    let notes = page.items.iter().filter(|i| matches!(i, app::model::TimelineItem::Event(e) if e.body.as_deref() == Some("csrf"))).count();
    assert_eq!(notes, 1);
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("convergence_session="))
        .map(|v| v.to_string())
}

async fn sessions_rotate_at_login_and_end_at_logout(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.client();
    let r1 = app
        .call(
            &c,
            "/api/login",
            &[("email", SUPPORT.0), ("password", SUPPORT.1)],
        )
        .await;
    let first = session_cookie(&r1).expect("cookie set at login");
    assert!(first.contains("HttpOnly"), "{first}");
    assert!(first.contains("SameSite=Lax"), "{first}");
    let first_id = first.split(';').next().unwrap().to_string();
    let r2 = app
        .call(
            &c,
            "/api/login",
            &[("email", SUPPORT.0), ("password", SUPPORT.1)],
        )
        .await;
    let second_id = session_cookie(&r2)
        .expect("new cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(first_id, second_id, "the session id rotates at login");
    // The old id no longer works.
    let stale = reqwest::Client::new();
    let r = stale
        .post(app.url("/api/me"))
        .header("Origin", &app.addr)
        .header("Cookie", &first_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "null");
    // Logout ends the server-side session: replaying its cookie is anonymous.
    let r = app.call(&c, "/api/logout", &[]).await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let r = stale
        .post(app.url("/api/me"))
        .header("Origin", &app.addr)
        .header("Cookie", &second_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "null");
}

async fn login_is_rate_limited(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.client();
    for _ in 0..5 {
        let r = app
            .call(
                &c,
                "/api/login",
                &[("email", SUPPORT.0), ("password", "wrong password")],
            )
            .await;
        assert_eq!(r.status(), 401);
    }
    let r = app
        .call(
            &c,
            "/api/login",
            &[("email", SUPPORT.0), ("password", SUPPORT.1)],
        )
        .await;
    assert_eq!(
        r.status(),
        429,
        "even the right password waits after five failures"
    );
    // Disabled users cannot sign in, and their sessions end.
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let support2 = app
        .login("support2@convergence.test", "support-password-2")
        .await;
    let id = app::store::users::find_by_email(&app.state.db, "support2@convergence.test")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let r = app
        .call(
            &admin,
            "/api/admin/users/disable",
            &[("id", &id), ("disabled", "true")],
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let r = app
        .call(
            &support2,
            "/api/conversations/list",
            &[("status", "open"), ("assignee", "all"), ("channel", "")],
        )
        .await;
    assert_eq!(r.status(), 401);
}

async fn health_reports_database(engine: Engine) {
    let app = spawn_app(engine).await;
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    app.state.db.close().await;
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 503);
}

/// Without JavaScript a form posts to its server function and the browser follows the answer.
/// A refusal must lead back to the form's page, which says why in words, not to a bare error
/// body: the wrong password (401), an empty note (400), a note without the right (403).
async fn refused_forms_without_javascript_go_back_with_words(engine: Engine) {
    let app = spawn_app(engine).await;
    let html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    // The page the browser lands on after answer `r` to a form posted from `back`.
    async fn follow(c: &reqwest::Client, r: reqwest::Response, back: &str) -> String {
        assert_eq!(r.status(), 302, "a redirect, not a bare error page");
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(back), "{location} goes back to {back}");
        assert!(location.contains("__err="), "{location} carries the error");
        let page = c
            .get(&location)
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{location}");
        page.text().await.unwrap()
    }

    let anon = app.client();
    let login = app.url("/login");
    let r = anon
        .post(app.url("/api/login"))
        .header("Origin", &app.addr)
        .header("Referer", &login)
        .header("Accept", html)
        .form(&[("email", SUPPORT.0), ("password", "not-the-password")])
        .send()
        .await
        .unwrap();
    let page = follow(&anon, r, &login).await;
    assert!(page.contains("Wrong email or password."), "{page}");

    let c = app.login(SUPPORT.0, SUPPORT.1).await;
    let conv = first_conversation(&app).await;
    let back = app.url(&format!("/inbox/{conv}"));
    let r = c
        .post(app.url("/api/conversation/note"))
        .header("Origin", &app.addr)
        .header("Referer", &back)
        .header("Accept", html)
        .form(&[("id", conv.to_string().as_str()), ("body", "   ")])
        .send()
        .await
        .unwrap();
    let page = follow(&c, r, &back).await;
    assert!(page.contains("a note cannot be empty"), "{page}");

    // The app's own calls (JavaScript) keep their status codes.
    let r = app
        .call(
            &c,
            "/api/conversation/note",
            &[("id", &conv.to_string()), ("body", " ")],
        )
        .await;
    assert_eq!(r.status(), 400);
}
