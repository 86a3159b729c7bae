//! Security properties through the real pieces: the sign-in limiter kept in the database
//! (bounded whatever the input, shared by processes, kept across restarts), the page's
//! Content-Security-Policy with its per-response script nonce, and adding a user with the
//! least privileged role by default.

use crate::support::{spawn_app, test_db, Engine};
use app::ssr::login_limit::LoginLimiter;
use app::store::{login_throttle, now_ms, Db};
use std::net::IpAddr;
use std::time::Duration;

const ADMIN: (&str, &str) = ("admin@convergence.test", "admin-password-1");

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

/// Fails `email` from `ip` the way the sign-in does: only while allowed.
async fn fail(l: &LoginLimiter, email: &str, ip: Option<IpAddr>) -> bool {
    if !l.allowed(email, ip).await.unwrap() {
        return false;
    }
    l.record_failure(email, ip).await.unwrap();
    true
}

async fn lock(l: &LoginLimiter, email: &str, from: Option<IpAddr>) {
    for _ in 0..LoginLimiter::MAX_PER_ACCOUNT {
        assert!(fail(l, email, from).await);
    }
    assert!(!l.allowed(email, from).await.unwrap(), "{email} is locked");
}

async fn a_flood_of_huge_emails_is_bounded_and_unlocks_nothing(engine: Engine) {
    let t = test_db(engine).await;
    let l = LoginLimiter::new(t.db.clone());
    lock(&l, "victim@convergence.test", ip("10.0.0.1")).await;
    // One address, a thousand distinct 64 KiB emails: after its limit it records nothing.
    let flooder = ip("203.0.113.7");
    let mut recorded = 0;
    for i in 0..1000 {
        let email = format!("{i}-{}@x.test", "a".repeat(64 * 1024));
        if fail(&l, &email, flooder).await {
            recorded += 1;
        }
    }
    assert_eq!(
        recorded,
        LoginLimiter::MAX_PER_ADDRESS,
        "the address is locked"
    );
    let (rows, longest) = login_throttle::size(&t.db).await.unwrap();
    // victim + its address, the flooder's address + one row per recorded email.
    assert_eq!(rows, 2 + 1 + LoginLimiter::MAX_PER_ADDRESS);
    assert_eq!(longest, 66, "a key has a fixed size whatever the email");
    // Many addresses, distinct emails: every row is still of fixed size, and no amount of
    // them unlocks the locked account (nothing is cleared to make room).
    for i in 0..300u32 {
        let from = Some(IpAddr::from([198, 51, (i / 250) as u8, (i % 250) as u8]));
        fail(&l, &format!("{i}{}@y.test", "b".repeat(10_000)), from).await;
    }
    let (rows, longest) = login_throttle::size(&t.db).await.unwrap();
    assert!(rows >= 600, "{rows}");
    assert_eq!(longest, 66);
    assert!(!l
        .allowed("victim@convergence.test", ip("10.9.9.9"))
        .await
        .unwrap());
    // The same account however it is written, and past the length that counts.
    assert!(!l
        .allowed("  VICTIM@convergence.test ", ip("10.9.9.9"))
        .await
        .unwrap());
}

async fn processes_share_the_lockout_and_it_survives_a_restart(engine: Engine) {
    let t = test_db(engine).await;
    let a = LoginLimiter::new(t.db.clone());
    let other = Db::connect(&t.db.url).await.unwrap();
    let b = LoginLimiter::new(other.clone());
    // Failures counted by two processes add up.
    for n in 0..LoginLimiter::MAX_PER_ACCOUNT {
        let l = if n % 2 == 0 { &a } else { &b };
        assert!(fail(l, "shared@convergence.test", ip("10.0.0.2")).await);
    }
    assert!(!a
        .allowed("shared@convergence.test", ip("10.0.0.3"))
        .await
        .unwrap());
    assert!(!b
        .allowed("shared@convergence.test", ip("10.0.0.4"))
        .await
        .unwrap());
    other.close().await;
    // A new process on the same database (a restart) still refuses.
    let restarted = Db::connect(&t.db.url).await.unwrap();
    let c = LoginLimiter::new(restarted.clone());
    assert!(!c
        .allowed("shared@convergence.test", ip("10.0.0.5"))
        .await
        .unwrap());
    assert!(c
        .allowed("someone-else@convergence.test", ip("10.0.0.5"))
        .await
        .unwrap());
    // Success clears the account's failures for every process.
    c.record_success("shared@convergence.test", None)
        .await
        .unwrap();
    assert!(a
        .allowed("shared@convergence.test", ip("10.0.0.6"))
        .await
        .unwrap());
    restarted.close().await;
}

async fn lockouts_end_with_their_window_and_only_closed_windows_are_pruned(db: Db) {
    let l = LoginLimiter::with_window(db.clone(), Duration::from_millis(400));
    lock(&l, "brief@convergence.test", ip("10.0.0.8")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(l
        .allowed("brief@convergence.test", ip("10.0.0.8"))
        .await
        .unwrap());
    // Pruning at "now" with a long window keeps open windows, with a short one drops them.
    let window = 15 * 60 * 1000;
    login_throttle::record_failure(&db, "a:open", now_ms(), window)
        .await
        .unwrap();
    let before = login_throttle::size(&db).await.unwrap().0;
    assert_eq!(
        login_throttle::prune(&db, now_ms(), window).await.unwrap(),
        0
    );
    assert_eq!(login_throttle::size(&db).await.unwrap().0, before);
    assert_eq!(
        login_throttle::failures(&db, "a:open", now_ms(), window)
            .await
            .unwrap(),
        1
    );
    assert!(
        login_throttle::prune(&db, now_ms() + window + 1, window)
            .await
            .unwrap()
            >= 1
    );
    assert_eq!(login_throttle::size(&db).await.unwrap().0, 0);
}

async fn sign_in_uses_the_shared_limiter(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.client();
    for _ in 0..LoginLimiter::MAX_PER_ACCOUNT {
        let r = app
            .call(
                &c,
                "/api/login",
                &[("email", ADMIN.0), ("password", "wrong password")],
            )
            .await;
        assert_eq!(r.status(), 401);
    }
    // Another process on the database refuses too, before any password check.
    let other = Db::connect(&app.state.db.url).await.unwrap();
    let l = LoginLimiter::new(other.clone());
    assert!(!l.allowed(ADMIN.0, ip("192.0.2.1")).await.unwrap());
    other.close().await;
    let r = app
        .call(
            &c,
            "/api/login",
            &[("email", ADMIN.0), ("password", ADMIN.1)],
        )
        .await;
    assert_eq!(r.status(), 429);
}

/// Every inline script of a page carries the response's nonce, which the CSP names; another
/// response has another nonce; a response that is not a page allows no inline script.
async fn pages_allow_only_their_own_inline_scripts(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.client();
    let get = |path: &'static str| {
        let c = c.clone();
        let url = app.url(path);
        async move {
            let r = c
                .get(url)
                .header("Accept", "text/html")
                .send()
                .await
                .unwrap();
            let csp = r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string();
            (csp, r.text().await.unwrap())
        }
    };
    let nonce_of = |csp: &str| -> String {
        let start = csp.find("'nonce-").expect("a nonce in the CSP") + 7;
        csp[start..].split('\'').next().unwrap().to_string()
    };
    let (csp, html) = get("/login").await;
    assert!(csp.starts_with("script-src 'self' 'nonce-"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"),
        "{csp}"
    );
    let nonce = nonce_of(&csp);
    assert!(nonce.len() >= 16, "{nonce}");
    let scripts: Vec<&str> = html
        .match_indices("<script")
        .map(|(i, _)| &html[i..])
        .collect();
    assert!(!scripts.is_empty(), "the page has its hydration script");
    for s in &scripts {
        let tag = &s[..s.find('>').unwrap()];
        assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{tag}");
    }
    let (csp2, _) = get("/login").await;
    assert_ne!(nonce_of(&csp2), nonce, "a nonce is used once");
    // A page that is not found is drawn by the app too, with its nonce.
    let (csp404, _) = get("/no-such-page").await;
    assert!(csp404.contains("'nonce-"), "{csp404}");
    let (plain, _) = get("/healthz").await;
    assert!(
        plain.starts_with("script-src 'self' 'wasm-unsafe-eval';"),
        "{plain}"
    );
    assert!(!plain.contains("nonce"), "{plain}");
}

async fn a_new_user_gets_the_least_privileged_role_and_a_confirmation(engine: Engine) {
    let app = spawn_app(engine).await;
    let c = app.login(ADMIN.0, ADMIN.1).await;
    let r = app
        .call(
            &c,
            "/api/admin/users/create",
            &[
                ("email", "New.Person@convergence.test"),
                ("name", "New Person"),
                ("role", ""),
                ("password", "a-long-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let words: String = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(
        words,
        "Added New Person (new.person@convergence.test) as Marketing. They can sign in with the password you set."
    );
    let u = app::store::users::find_by_email(&app.state.db, "new.person@convergence.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.role, app::domain::Role::Marketing);
    // The form offers the least privileged role first, so it is the one chosen by default.
    let html = c
        .get(app.url("/admin"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let select = &html[html.find("id=\"new-role\"").unwrap()..];
    let first = &select[select.find("<option").unwrap()..];
    assert!(
        first.starts_with("<option value=\"marketing\""),
        "{}",
        &first[..60]
    );
}

both_engines!(
    a_flood_of_huge_emails_is_bounded_and_unlocks_nothing,
    processes_share_the_lockout_and_it_survives_a_restart,
    lockouts_end_with_their_window_and_only_closed_windows_are_pruned,
    sign_in_uses_the_shared_limiter,
    pages_allow_only_their_own_inline_scripts,
    a_new_user_gets_the_least_privileged_role_and_a_confirmation
);
