//! Passwords and sessions: a user changes their password (their other sessions end, this one
//! goes on under a new id) and ends sessions elsewhere; an admin resets a password and ends a
//! user's sessions; session ids never leave the server; all of it in the audit trail.

use crate::support::{spawn_app, Engine, TestApp};
use serde_json::Value;

both_engines!(passwords_and_sessions_are_the_users_and_the_admins);

const SUPPORT: &str = "support@convergence.test";

async fn signed_in(app: &TestApp, c: &reqwest::Client) -> bool {
    let r = app.call(c, "/api/account/sessions", &[]).await;
    r.status() == 200
}

async fn sessions(app: &TestApp, c: &reqwest::Client) -> Vec<Value> {
    let r = app.call(c, "/api/account/sessions", &[]).await;
    assert_eq!(r.status(), 200);
    r.json::<Vec<Value>>().await.unwrap()
}

async fn passwords_and_sessions_are_the_users_and_the_admins(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.state.db;
    let a = app.login(SUPPORT, "support-password-1").await;
    let b = app.login(SUPPORT, "support-password-1").await;
    let c = app.login(SUPPORT, "support-password-1").await;
    let mine = sessions(&app, &a).await;
    assert_eq!(mine.len(), 3);
    assert_eq!(mine.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(mine[0]["ip"], "127.0.0.1");
    // The handles name sessions without being their ids.
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(&db.read)
        .await
        .unwrap();
    let text = serde_json::to_string(&mine).unwrap();
    assert!(
        ids.iter().all(|id| !text.contains(id.as_str())),
        "no session id is sent"
    );

    // End one other session by its handle; this one cannot be ended that way.
    let c_handle = {
        let theirs = sessions(&app, &c).await;
        theirs.iter().find(|s| s["current"] == true).unwrap()["handle"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let r = app
        .call(&a, "/api/account/sessions/end", &[("handle", &c_handle)])
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(!signed_in(&app, &c).await, "c was signed out");
    assert!(signed_in(&app, &b).await);
    let own = sessions(&app, &a).await;
    let own_handle = own.iter().find(|s| s["current"] == true).unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .call(&a, "/api/account/sessions/end", &[("handle", &own_handle)])
        .await;
    assert_eq!(r.status(), 400);

    // Changing the password: the current one is checked, the two new ones must agree.
    let change = |current: &'static str, new: &'static str, again: &'static str| {
        let (app, a) = (&app, &a);
        async move {
            app.call(
                a,
                "/api/account/password",
                &[
                    ("current", current),
                    ("new_password", new),
                    ("confirm", again),
                ],
            )
            .await
        }
    };
    let r = change(
        "wrong-password-9",
        "brand-new-secret-1",
        "brand-new-secret-1",
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("current password"));
    let r = change(
        "support-password-1",
        "brand-new-secret-1",
        "brand-new-secret-2",
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = change("support-password-1", "short", "short").await;
    assert_eq!(r.status(), 400);
    let before: Vec<String> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE user_id IS NOT NULL")
            .fetch_all(&db.read)
            .await
            .unwrap();
    let r = change(
        "support-password-1",
        "brand-new-secret-1",
        "brand-new-secret-1",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("other session was signed out"));
    assert!(!signed_in(&app, &b).await, "b was signed out");
    assert!(signed_in(&app, &a).await, "a goes on");
    let after: Vec<String> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE user_id IS NOT NULL")
            .fetch_all(&db.read)
            .await
            .unwrap();
    assert_eq!(after.len(), 1);
    assert!(!before.contains(&after[0]), "a's session has a new id");
    let fresh = app.client();
    let r = app
        .call(
            &fresh,
            "/api/login",
            &[("email", SUPPORT), ("password", "support-password-1")],
        )
        .await;
    assert_eq!(r.status(), 401, "the old password no longer works");
    let d = app.login(SUPPORT, "brand-new-secret-1").await;

    // Another user may not reset or end someone's sessions; an admin may.
    let r = app
        .call(
            &d,
            "/api/admin/users/password",
            &[("id", "1"), ("password", "taken-over-123")],
        )
        .await;
    assert_eq!(r.status(), 403);
    let admin = app
        .login("admin@convergence.test", "admin-password-1")
        .await;
    let support_id = app.user_id(SUPPORT).await;
    let r = app
        .call(&admin, "/api/admin/users", &[])
        .await
        .json::<Value>()
        .await
        .unwrap();
    let listed = r
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"]["email"] == SUPPORT)
        .unwrap();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 2, "a and d");
    let r = app
        .call(
            &admin,
            "/api/admin/users/sessions/end",
            &[("id", &support_id), ("handle", "")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(!signed_in(&app, &a).await && !signed_in(&app, &d).await);
    let e = app.login(SUPPORT, "brand-new-secret-1").await;
    let r = app
        .call(
            &admin,
            "/api/admin/users/password",
            &[("id", &support_id), ("password", "set-by-the-admin-1")],
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(
        !signed_in(&app, &e).await,
        "a reset ends the user's sessions"
    );
    app.login(SUPPORT, "set-by-the-admin-1").await;

    let actions = super::actions(
        &super::trail(
            &app,
            &admin,
            &[("action", ""), ("actor", "sam support"), ("period", "")],
        )
        .await,
    );
    for want in ["password_changed", "password_reset", "sessions_ended"] {
        assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
    }
}
