//! Two-factor sign-in through the HTTP edge: set-up confirmed with a code, the second step of
//! signing in (an app code, a recovery code, each good once), the admin's policy per role (a
//! user without it reaches only their account), turning it off, and an admin's reset.

use crate::support::{spawn_app, Engine, TestApp};
use app::ssr::totp;
use serde_json::Value;

both_engines!(two_factor_sign_in_from_set_up_to_reset);

const SUPPORT: &str = "support@convergence.test";
const PASSWORD: &str = "support-password-1";

async fn status(app: &TestApp, c: &reqwest::Client) -> Value {
    let r = app.call(c, "/api/account/two-factor", &[]).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn me(app: &TestApp, c: &reqwest::Client) -> Value {
    app.call(c, "/api/me", &[]).await.json().await.unwrap()
}

/// The password step: answers the client, waiting for its code.
async fn password_step(app: &TestApp) -> reqwest::Client {
    let c = app.client();
    let r = app
        .call(
            &c,
            "/api/login",
            &[("email", SUPPORT), ("password", PASSWORD)],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let to = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(to.as_deref(), Some("/login/code"));
    assert_eq!(
        me(app, &c).await,
        Value::Null,
        "not signed in before the code"
    );
    c
}

async fn two_factor_sign_in_from_set_up_to_reset(engine: Engine) {
    let app = spawn_app(engine).await;
    let a = app.login(SUPPORT, PASSWORD).await;
    assert_eq!(status(&app, &a).await["enabled"], false);
    let r = app.call(&a, "/api/account/two-factor/start", &[]).await;
    assert_eq!(r.status(), 200);
    let st = status(&app, &a).await;
    let secret = st["setup"]["secret"].as_str().unwrap().replace(' ', "");
    assert!(st["setup"]["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(st["setup"]["uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Convergence:"));
    let r = app
        .call(&a, "/api/account/two-factor/confirm", &[("code", "000000")])
        .await;
    assert_eq!(r.status(), 400, "a wrong code does not turn it on");
    let now = app::store::now_ms();
    let code = totp::code_for(&secret, now).unwrap();
    let r = app
        .call(&a, "/api/account/two-factor/confirm", &[("code", &code)])
        .await;
    assert_eq!(r.status(), 200);
    let codes: Vec<String> = r.json().await.unwrap();
    assert_eq!(codes.len(), 10);
    let st = status(&app, &a).await;
    assert_eq!(
        (st["enabled"].clone(), st["recovery_codes_left"].clone()),
        (Value::Bool(true), Value::from(10))
    );
    assert_eq!(st["setup"], Value::Null);
    assert_eq!(
        st["new_recovery_codes"],
        serde_json::json!(codes),
        "shown once on the page"
    );
    assert_eq!(
        status(&app, &a).await["new_recovery_codes"],
        serde_json::json!([]),
        "and only once"
    );

    // Signing in now takes a code: the one just used is refused, the next one works once.
    let b = password_step(&app).await;
    let r = app.call(&b, "/api/login/code", &[("code", &code)]).await;
    assert_eq!(r.status(), 400, "a code is good once");
    let next = totp::code_for(&secret, now + 30_000).unwrap();
    let r = app.call(&b, "/api/login/code", &[("code", &next)]).await;
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    assert_eq!(me(&app, &b).await["email"], SUPPORT);
    let c = password_step(&app).await;
    let r = app.call(&c, "/api/login/code", &[("code", &next)]).await;
    assert_eq!(r.status(), 400, "the same step cannot sign in twice");
    // A recovery code (as typed: any case, spaces for dashes) works once.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let r = app.call(&c, "/api/login/code", &[("code", &typed)]).await;
    assert!(r.status().is_success() || r.status().is_redirection());
    assert_eq!(status(&app, &c).await["recovery_codes_left"], 9);
    let d = password_step(&app).await;
    let r = app
        .call(&d, "/api/login/code", &[("code", &codes[3])])
        .await;
    assert_eq!(r.status(), 400, "a used recovery code is refused");
    // A code without the password step signs nobody in.
    let e = app.client();
    let r = app
        .call(&e, "/api/login/code", &[("code", &codes[4])])
        .await;
    assert_eq!(r.status(), 401);

    // The admin requires two factors for support: support2 (without them) reaches only their
    // account; support keeps working.
    let admin = app
        .login("admin@convergence.test", "admin-password-1")
        .await;
    let r = app
        .call(&admin, "/api/admin/two-factor/save", &[("support", "yes")])
        .await;
    assert_eq!(r.status(), 200);
    let policy: Value = app
        .call(&admin, "/api/admin/two-factor", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policy["required"], serde_json::json!(["support"]));
    let s2 = app
        .login("support2@convergence.test", "support-password-2")
        .await;
    assert_eq!(me(&app, &s2).await["needs_two_factor_setup"], true);
    let r = app.call(&s2, "/api/canned", &[]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("two factors"));
    let r = s2.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(r.status(), 403, "plain routes refuse too");
    assert_eq!(
        app.call(&s2, "/api/account/two-factor/start", &[])
            .await
            .status(),
        200
    );
    assert_eq!(me(&app, &b).await["needs_two_factor_setup"], false);
    // Required: the user cannot turn it off.
    let r = app
        .call(
            &b,
            "/api/account/two-factor/disable",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 400);

    // Lost phone: the admin turns it off; the user is signed out and signs in with the password.
    let support_id = app.user_id(SUPPORT).await;
    let r = app
        .call(
            &admin,
            "/api/admin/users/two-factor/reset",
            &[("id", &support_id)],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(me(&app, &b).await, Value::Null, "signed out");
    let f = app.login(SUPPORT, PASSWORD).await;
    assert_eq!(
        me(&app, &f).await["needs_two_factor_setup"],
        true,
        "required: set it up again"
    );

    // Set up again; wrong codes are then limited like wrong passwords.
    assert_eq!(
        app.call(&f, "/api/account/two-factor/start", &[])
            .await
            .status(),
        200
    );
    let secret = status(&app, &f).await["setup"]["secret"]
        .as_str()
        .unwrap()
        .replace(' ', "");
    let code = totp::code_for(&secret, app::store::now_ms()).unwrap();
    let r = app
        .call(&f, "/api/account/two-factor/confirm", &[("code", &code)])
        .await;
    assert_eq!(r.status(), 200);
    let g = password_step(&app).await;
    let wrong = if code == "123456" { "654321" } else { "123456" };
    for _ in 0..5 {
        let r = app.call(&g, "/api/login/code", &[("code", wrong)]).await;
        assert_eq!(r.status(), 400);
    }
    let r = app.call(&g, "/api/login/code", &[("code", wrong)]).await;
    assert_eq!(r.status(), 429, "guessing codes is limited");
    let r = app.call(&admin, "/api/admin/two-factor/save", &[]).await;
    assert_eq!(r.status(), 200);
    let trail = super::trail(
        &app,
        &admin,
        &[("action", ""), ("actor", ""), ("period", "")],
    )
    .await;
    let text = trail.to_string();
    for want in [
        "two_factor_enabled",
        "two_factor_disabled",
        "password and a recovery code (9 left)",
        "password and an authenticator code",
        "two-factor sign-in policy",
    ] {
        assert!(text.contains(want), "{want} in the audit trail");
    }
    assert!(!text.contains(&secret), "the secret is never recorded");
}
