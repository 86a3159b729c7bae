//! Who a visitor is: a site's signed `identify()` joins the customer it names (and a forged
//! one is refused); what a visitor types only suggests.

use super::{
    api, new_chat, owner, say, session, stored, visitor_of, visitor_writes, ADMIN, SECRET, SITE,
};
use crate::support::{spawn_app, Engine, TestApp};
use serde_json::{json, Value};
use sqlx::Row;

both_engines!(
    a_verified_sign_in_joins_the_customer_and_a_forged_one_is_refused,
    a_typed_email_only_suggests,
);

fn hash(id: &str) -> String {
    server::channels::chat::token::identity_hash(SECRET.as_bytes(), id)
}

/// The customer holding `kind:value` (merged customers followed), and their conversation.
async fn identify(app: &TestApp, chat: i64, token: &str, body: Value) -> reqwest::Response {
    let mut body = body;
    body["site"] = json!(SITE);
    body["token"] = json!(token);
    api(app, chat, "identify", SITE, body).await
}

async fn a_verified_sign_in_joins_the_customer_and_a_forged_one_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let (ada, ada_conv) = owner(db, "email", "ada.lovelace@example.com").await;

    // An anonymous visitor writes first.
    let s = session(&app, chat, None).await;
    let token = s["token"].as_str().unwrap().to_string();
    let visitor = visitor_of(&token);
    assert_eq!(
        say(&app, chat, &token, "w-before-signin", "Hi, it's me")
            .await
            .status(),
        202
    );
    crate::support::messages::wait_for("the visitor's message", 5, || async {
        (!stored(db, &visitor).await.is_empty()).then_some(())
    })
    .await;
    let (anon, _) = owner(db, "chat", &visitor).await;
    assert_ne!(anon, ada);

    // A forged hash, a hash for another id, or none where one is required: refused, nothing joins.
    for (id, h) in [
        ("user-1042", "00".repeat(32)),
        ("user-1042", hash("user-9999")),
        ("user-1042", "zz".into()),
    ] {
        let r = identify(
            &app,
            chat,
            &token,
            json!({ "id": id, "email": "ada.lovelace@example.com", "hash": h }),
        )
        .await;
        assert_eq!(r.status(), 403, "{h}");
        let words: Value = r.json().await.unwrap();
        assert!(
            words["error"]
                .as_str()
                .unwrap()
                .contains("hash does not match"),
            "{words}"
        );
    }
    assert_eq!(owner(db, "chat", &visitor).await.0, anon);

    // The site signs its user in: the visitor joins Ada, through a merge on her timeline.
    let r = identify(
        &app,
        chat,
        &token,
        json!({ "id": "user-1042", "email": "Ada.Lovelace@example.com", "name": "Ada L.", "hash": hash("user-1042") }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "verified": true, "joined": true })
    );
    assert_eq!(owner(db, "chat", &visitor).await.0, ada);
    let merge: String = sqlx::query(
        "SELECT body FROM events WHERE conversation_id = $1 AND kind = 'merge' ORDER BY id DESC LIMIT 1",
    )
    .bind(ada_conv.unwrap())
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("body")
    .unwrap();
    assert!(
        merge.starts_with(
            "The website chat (a verified sign-in as ada.lovelace@example.com) merged"
        ),
        "{merge}"
    );
    // Her anonymous message is in her conversation now, and the widget keeps showing it.
    let again = session(&app, chat, Some(&token)).await;
    assert_eq!(again["messages"][0]["text"], "Hi, it's me");
    // The merge is reversible like any other.
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let r = app
        .call(
            &admin,
            "/api/customer/unmerge",
            &[("customer", &anon.to_string())],
        )
        .await;
    assert!(r.status().is_success(), "undo: {}", r.text().await.unwrap());
    assert_eq!(owner(db, "chat", &visitor).await.0, anon);

    // The same signed-in user on another device joins the same customer, even without email.
    let phone = session(&app, chat, None).await;
    let phone_token = phone["token"].as_str().unwrap().to_string();
    let r = identify(
        &app,
        chat,
        &phone_token,
        json!({ "id": "user-1042", "hash": hash("user-1042") }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(owner(db, "chat", &visitor_of(&phone_token)).await.0, ada);
}

async fn a_typed_email_only_suggests(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let (grace, _) = owner(db, "email", "grace@navy.example.org").await;
    // Grace's address typed into the pre-chat form: a suggestion, never a join.
    let (_, visitor) = visitor_writes(
        &app,
        chat,
        json!({ "client_id": "w-prechat-0001", "text": "Invoice question",
                "name": "G. Hopper", "email": "grace@navy.example.org" }),
    )
    .await;
    let (mine, _) = owner(db, "chat", &visitor).await;
    assert_ne!(mine, grace);
    let suggestion: String = sqlx::query(
        "SELECT detail FROM merge_suggestions WHERE reason = 'conflict' AND          ((customer_a = $1 AND customer_b = $2) OR (customer_a = $2 AND customer_b = $1))",
    )
    .bind(mine)
    .bind(grace)
    .fetch_one(&db.read)
    .await
    .unwrap()
    .try_get("detail")
    .unwrap();
    assert!(
        suggestion.contains("grace@navy.example.org") && suggestion.contains("not verified"),
        "{suggestion}"
    );
    assert_eq!(owner(db, "email", "grace@navy.example.org").await.0, grace);
    let name: String = sqlx::query("SELECT name FROM customers WHERE id = $1")
        .bind(mine)
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("name")
        .unwrap();
    assert_eq!(name, "G. Hopper");

    // A new address nobody has: the visitor's, unverified; an unsigned identify() the same.
    let other = session(&app, chat, None).await;
    let t2 = other["token"].as_str().unwrap().to_string();
    let r = identify(
        &app,
        chat,
        &t2,
        json!({ "email": "new.person@example.com" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "verified": false, "joined": false })
    );
    let (who, _) = owner(db, "email", "new.person@example.com").await;
    assert_eq!(who, owner(db, "chat", &visitor_of(&t2)).await.0);
    let verified: i64 = sqlx::query("SELECT verified FROM identifiers WHERE kind = 'email' AND value = 'new.person@example.com'")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("verified")
        .unwrap();
    assert_eq!(verified, 0);
    // A bad address is refused in words before the message is stored.
    let r = api(
        &app,
        chat,
        "messages",
        SITE,
        json!({ "site": SITE, "token": t2, "client_id": "w-prechat-0002", "text": "hi", "email": "not an email" }),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("does not look like an email address"));
}
