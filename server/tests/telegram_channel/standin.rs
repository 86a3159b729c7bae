//! The stand-in answers like the Bot API: auth, method names, parameter encodings, errors.

use super::*;

async fn call(base: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let c = reqwest::Client::new();
    let req = c.post(format!("{base}{path}"));
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_standin_speaks_the_bot_api() {
    let s = ::standin::spawn("127.0.0.1:0").await.unwrap();
    let base = s.base_url.as_str();
    let (st, _) = call(
        base,
        "/_standin/telegram/bot",
        Some(json!({"token": TOKEN, "username": BOT})),
    )
    .await;
    assert_eq!(st, 200);

    let unauthorized = json!({"ok": false, "error_code": 401, "description": "Unauthorized"});
    assert_eq!(
        call(base, "/bot1:nope/getMe", None).await,
        (401, unauthorized)
    );
    let not_found = json!({"ok": false, "error_code": 404, "description": "Not Found"});
    assert_eq!(
        call(base, &format!("/bot{TOKEN}/noSuchMethod"), None).await,
        (404, not_found)
    );

    let (st, me) = call(base, &format!("/bot{TOKEN}/getme"), None).await;
    assert_eq!(st, 200, "method names are case-insensitive");
    assert_eq!(me["ok"], true);
    assert_eq!(me["result"]["id"], 123456789);
    assert_eq!(me["result"]["username"], BOT);
    assert_eq!(me["result"]["is_bot"], true);

    // Form parameters, as Telegram takes them; allowed_updates as a JSON-serialised array.
    let r = reqwest::Client::new()
        .post(format!("{base}/bot{TOKEN}/setWebhook"))
        .form(&[
            ("url", "http://127.0.0.1:9/hook"),
            ("secret_token", "abc_1"),
            ("allowed_updates", r#"["message"]"#),
        ])
        .send()
        .await
        .unwrap();
    let set: Value = r.json().await.unwrap();
    assert_eq!(
        set,
        json!({"ok": true, "result": true, "description": "Webhook was set"})
    );
    let (_, info) = call(base, &format!("/bot{TOKEN}/getWebhookInfo"), None).await;
    assert_eq!(info["result"]["url"], "http://127.0.0.1:9/hook");
    assert_eq!(info["result"]["allowed_updates"], json!(["message"]));
    let (st, bad) = call(
        base,
        &format!("/bot{TOKEN}/setWebhook"),
        Some(json!({"url": "http://x/", "secret_token": "no spaces"})),
    )
    .await;
    assert_eq!(
        (st, bad["description"].as_str().unwrap()),
        (
            400,
            "Bad Request: secret token contains unallowed characters"
        )
    );

    // sendMessage reaches only chats that wrote to the bot (posting fails: nothing listens on
    // port 9, but the chat is known from then on).
    let send_path = format!("/bot{TOKEN}/sendMessage");
    let send = |chat: Value, text: Value| {
        call(
            base,
            &send_path,
            Some(json!({"chat_id": chat, "text": text})),
        )
    };
    let (st, e) = send(json!(4242), json!("hi")).await;
    assert_eq!(
        (st, e["description"].as_str().unwrap()),
        (400, "Bad Request: chat not found")
    );
    let (_, posted) = call(
        base,
        "/_standin/telegram/update",
        Some(json!({"token": TOKEN, "from": {"id": 4242, "first_name": "Q"}, "text": "hello"})),
    )
    .await;
    assert_eq!(
        posted["update"]["message"]["chat"],
        json!({"id": 4242, "first_name": "Q", "type": "private"})
    );
    let (st, e) = send(json!(4242), json!("")).await;
    assert_eq!(
        (st, e["description"].as_str().unwrap()),
        (400, "Bad Request: message text is empty")
    );
    let (st, e) = send(json!("4242"), json!("x".repeat(4097))).await;
    assert_eq!(
        (st, e["description"].as_str().unwrap()),
        (400, "Bad Request: message is too long")
    );
    let (st, ok1) = send(json!("4242"), json!("x".repeat(4096))).await;
    assert_eq!(st, 200);
    let (_, ok2) = send(json!(4242), json!("again")).await;
    assert_eq!(
        ok2["result"]["chat"],
        json!({"id": 4242, "type": "private"})
    );
    assert_eq!(ok2["result"]["from"]["username"], BOT);
    assert_eq!(ok2["result"]["text"], "again");
    assert!(ok2["result"]["message_id"].as_i64() > ok1["result"]["message_id"].as_i64());

    // Faults apply to sendMessage: the provider's exact error body and status.
    s.state.add_fault(Fault {
        provider: "telegram".into(),
        status: 429,
        body: json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}).to_string(),
        hang_ms: 0,
        times: 1,
        ..Default::default()
    });
    let (st, e) = send(json!(4242), json!("x")).await;
    assert_eq!(
        (st, e["parameters"]["retry_after"].as_i64()),
        (429, Some(7))
    );
    assert_eq!(send(json!(4242), json!("x")).await.0, 200);

    // Files: getFile names a path the file server serves, for this bot only.
    let (_, photo) = call(
        base,
        "/_standin/telegram/update",
        Some(
            json!({"token": TOKEN, "from": {"id": 4242, "first_name": "Q"},
        "photo": {"base64": "AAECAwQFBgcICQ=="}, "text": "pic"}),
        ),
    )
    .await;
    let sizes = photo["update"]["message"]["photo"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(photo["update"]["message"]["caption"], "pic");
    let file_id = sizes[1]["file_id"].as_str().unwrap();
    let (st, f) = call(
        base,
        &format!("/bot{TOKEN}/getFile"),
        Some(json!({"file_id": file_id})),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(f["result"]["file_size"], 10);
    let path = f["result"]["file_path"].as_str().unwrap();
    let bytes = reqwest::get(format!("{base}/file/bot{TOKEN}/{path}"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), &[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let (st, e) = call(
        base,
        &format!("/bot{TOKEN}/getFile"),
        Some(json!({"file_id": "nope"})),
    )
    .await;
    assert_eq!(
        (st, e["description"].as_str().unwrap()),
        (400, "Bad Request: invalid file_id")
    );
    assert_eq!(
        reqwest::get(format!("{base}/file/bot1:other/{path}"))
            .await
            .unwrap()
            .status(),
        401
    );
}
