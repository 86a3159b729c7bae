use super::*;
use app::service;

async fn raw_row(t: &Tg, key: &str) -> Option<(String, Option<String>)> {
    let deadline = Deadline::new();
    loop {
        let r = sqlx::query(
            "SELECT state, error FROM raw_inbound WHERE channel_account_id = $1 AND dedupe_key = $2",
        )
        .bind(t.account)
        .bind(key)
        .fetch_optional(&t.db().read)
        .await
        .unwrap()?;
        let state: String = r.try_get("state").unwrap();
        if state != "pending" {
            return Some((state, r.try_get("error").unwrap()));
        }
        deadline
            .tick(&format!("raw update {key} to be processed"))
            .await;
    }
}

async fn attachments(db: &Db, message_id: i64) -> Vec<(String, String, Vec<u8>)> {
    sqlx::query(
        "SELECT filename, content_type, data FROM attachments WHERE message_id = $1 ORDER BY id",
    )
    .bind(message_id)
    .fetch_all(&db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get("filename").unwrap(),
            r.try_get("content_type").unwrap(),
            r.try_get("data").unwrap(),
        )
    })
    .collect()
}

async fn conversation_count(db: &Db) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM conversations")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

/// Waits for message `id` to be queued again after a failed attempt; returns the reason.
async fn retry_reason(t: &Tg, id: i64) -> String {
    let deadline = Deadline::new();
    loop {
        let m = t.message_by_id(id).await;
        if let (Some(r), "queued") = (&m.reason, m.state.as_str()) {
            return r.clone();
        }
        assert_ne!(m.state, "delivered", "the failed attempt was not noticed");
        deadline
            .tick(&format!("message {id} to be queued for a retry"))
            .await;
    }
}

async fn text_from_a_new_customer_starts_a_conversation(engine: DbEngine) {
    let t = setup(engine).await;
    let client = server::channels::http_client::client(Duration::from_secs(5));
    let row = channel_accounts::get(t.db(), t.account).await.unwrap();
    assert_eq!(
        server::channels::telegram::test_connection(&client, &row)
            .await
            .unwrap(),
        format!("Connected to @{BOT} (123456789)")
    );
    let a = t
        .customer(
            json!({"id": 7001, "first_name": "Grace", "last_name": "Hopper", "username": "grace"}),
            json!({"text": "Where is my order?"}),
        )
        .await;
    assert_eq!(a["status"], 200, "{a}");
    let mid = a["update"]["message"]["message_id"].as_i64().unwrap();
    let m = t.message(&format!("7001:{mid}")).await;
    assert_eq!(m.body, "Where is my order?");
    let r = sqlx::query(
        "SELECT c.name, i.kind, i.value FROM customers c JOIN identifiers i ON i.customer_id = c.id WHERE c.id = $1",
    )
    .bind(m.customer_id)
    .fetch_one(&t.db().read)
    .await
    .unwrap();
    assert_eq!(r.try_get::<String, _>("name").unwrap(), "Grace Hopper");
    assert_eq!(r.try_get::<String, _>("kind").unwrap(), "telegram");
    assert_eq!(r.try_get::<String, _>("value").unwrap(), "7001");
    let d = service::conversations::detail(t.db(), m.conversation_id)
        .await
        .unwrap();
    assert_eq!(d.customer.id, m.customer_id);
}

async fn a_known_customer_lands_in_their_conversation(engine: DbEngine) {
    let t = setup(engine).await;
    let r = sqlx::query("SELECT customer_id, id FROM conversations ORDER BY id LIMIT 1")
        .fetch_one(&t.db().read)
        .await
        .unwrap();
    let (customer, conversation): (i64, i64) =
        (r.try_get("customer_id").unwrap(), r.try_get("id").unwrap());
    sqlx::query(
        "INSERT INTO identifiers (customer_id, kind, value, label, created_at) VALUES ($1, 'telegram', '7002', '7002', 1)",
    )
    .bind(customer)
    .execute(&t.db().write)
    .await
    .unwrap();
    let conversations_before = conversation_count(t.db()).await;
    let a = t.says(7002, "Known", "It's me again").await;
    let m = t
        .message(&format!("7002:{}", a["update"]["message"]["message_id"]))
        .await;
    assert_eq!((m.customer_id, m.conversation_id), (customer, conversation));
    assert_eq!(conversation_count(t.db()).await, conversations_before);
}

async fn a_photo_and_a_document_are_stored_with_their_bytes(engine: DbEngine) {
    let t = setup(engine).await;
    let photo: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    let a = t
        .customer(
            json!({"id": 7003, "first_name": "Pat"}),
            json!({"text": "my receipt", "photo": {"base64": b64.encode(&photo), "content_type": "image/jpeg"}}),
        )
        .await;
    assert_eq!(a["status"], 200, "{a}");
    assert_eq!(a["update"]["message"]["photo"].as_array().unwrap().len(), 2);
    let m = t
        .message(&format!("7003:{}", a["update"]["message"]["message_id"]))
        .await;
    assert_eq!(m.body, "my receipt");
    let pdf = b"%PDF-1.4 stand-in document".to_vec();
    let a = t
        .customer(
            json!({"id": 7003, "first_name": "Pat"}),
            json!({"document": {"base64": b64.encode(&pdf), "content_type": "application/pdf", "file_name": "invoice.pdf"}}),
        )
        .await;
    let d = t
        .message(&format!("7003:{}", a["update"]["message"]["message_id"]))
        .await;
    let p = attachments(t.db(), m.id).await;
    assert_eq!(p.len(), 1, "one photo: the largest size only");
    assert_eq!(p[0].1, "image/jpeg");
    assert!(p[0].0.ends_with(".jpg"), "{}", p[0].0);
    assert_eq!(p[0].2, photo, "the full-size bytes, not the thumbnail");
    let f = attachments(t.db(), d.id).await;
    assert_eq!(
        f,
        vec![("invoice.pdf".into(), "application/pdf".into(), pdf)]
    );
    let paths: Vec<String> = t
        .standin
        .state
        .requests(Some("telegram"))
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(paths.iter().any(|p| p.ends_with("/getFile")), "{paths:?}");
    assert!(
        paths.iter().any(|p| p.starts_with("/file/bot")),
        "{paths:?}"
    );
}

async fn a_reply_is_sent_and_delivered(engine: DbEngine) {
    let t = setup(engine).await;
    let a = t.says(7004, "Lin", "Hello?").await;
    let inbound = t
        .message(&format!("7004:{}", a["update"]["message"]["message_id"]))
        .await;
    let id = t.reply(&inbound, "Your order ships today.").await;
    let m = t.until_state(id, "delivered").await;
    assert_eq!(m.reason, None);
    let sent = t.send_messages();
    assert_eq!(
        sent,
        vec![json!({"chat_id": 7004, "text": "Your order ships today."})]
    );
    let pid: String = sqlx::query("SELECT provider_message_id FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(&t.db().read)
        .await
        .unwrap()
        .try_get("provider_message_id")
        .unwrap();
    assert!(pid.starts_with("7004:"), "{pid}");
}

async fn a_repeated_update_id_is_stored_once(engine: DbEngine) {
    let t = setup(engine).await;
    let first = update(500_001, 11, private(7005), "once");
    assert_eq!(t.raw(json!({"update": first})).await.0, 200);
    t.message("7005:11").await;
    // Telegram's retry of the same update (even with a different body) is acknowledged.
    let again = update(500_001, 12, private(7005), "twice?");
    assert_eq!(t.raw(json!({"update": again})).await.0, 200);
    assert_eq!(t.raw(json!({"update": first})).await.0, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(t.messages_in().await, 1);
    assert_eq!(t.raws().await, 1);
}

async fn updates_out_of_order_are_all_stored(engine: DbEngine) {
    let t = setup(engine).await;
    assert_eq!(
        t.raw(json!({"update": update(600_005, 51, private(7006), "second")}))
            .await
            .0,
        200
    );
    assert_eq!(
        t.raw(json!({"update": update(600_004, 41, private(7006), "first")}))
            .await
            .0,
        200
    );
    let second = t.message("7006:51").await;
    let first = t.message("7006:41").await;
    assert_eq!(
        (first.body.as_str(), second.body.as_str()),
        ("first", "second")
    );
    assert_eq!(first.conversation_id, second.conversation_id);
}

async fn an_edit_is_stored_marked_edited(engine: DbEngine) {
    let t = setup(engine).await;
    assert_eq!(
        t.raw(json!({"update": update(650_001, 61, private(7012), "teh order")}))
            .await
            .0,
        200
    );
    let mut edit = update(650_002, 61, private(7012), "the order");
    let msg = edit["message"].take();
    edit["edited_message"] = msg;
    edit["edited_message"]["edit_date"] = json!(1_700_000_060);
    edit.as_object_mut().unwrap().remove("message");
    assert_eq!(t.raw(json!({"update": edit})).await.0, 200);
    let original = t.message("7012:61").await;
    let edited = t.message("7012:61:edit:1700000060").await;
    assert_eq!(original.body, "teh order");
    assert_eq!(edited.body, "(edited) the order");
    assert_eq!(edited.conversation_id, original.conversation_id);
}

async fn a_wrong_or_missing_secret_is_refused(engine: DbEngine) {
    let t = setup(engine).await;
    let u = update(700_001, 1, private(7007), "let me in");
    let (status, body) = t
        .raw(json!({"update": u, "secret": "not-the-secret"}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = t.raw(json!({"update": u, "omit_secret": true})).await;
    assert_eq!(status, 403);
    assert_eq!(t.raws().await, 0);
    assert_eq!(t.messages_in().await, 0);
}

async fn no_secret_configured_is_refused(engine: DbEngine) {
    let t = setup_with(engine, None).await;
    let a = t
        .customer(
            json!({"id": 7008, "first_name": "Eve"}),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(a["status"], 403, "{a}");
    assert!(
        a["body"].as_str().unwrap().contains("not configured"),
        "{a}"
    );
    let (status, _) = t
        .raw(json!({"update": update(1, 1, private(7008), "x"), "secret": "guess"}))
        .await;
    assert_eq!(status, 403);
    assert_eq!(t.raws().await, 0);
}

async fn malformed_updates_are_refused(engine: DbEngine) {
    let t = setup(engine).await;
    for (req, words) in [
        (json!({"body": "this is not JSON"}), "not JSON"),
        (
            json!({"update": {"update_id": "5", "message": {}}}),
            "integer",
        ),
        (
            json!({"update": {"message": {"text": "x"}}}),
            "no update_id",
        ),
    ] {
        let (status, body) = t.raw(req.clone()).await;
        assert_eq!(status, 400, "{req}: {body}");
        assert!(body.contains(words), "{req}: {body}");
    }
    assert_eq!(t.raws().await, 0);
}

async fn a_group_message_is_kept_raw_and_ignored(engine: DbEngine) {
    let t = setup(engine).await;
    let chat = json!({"id": -100_777, "title": "Acme fans", "type": "supergroup"});
    assert_eq!(
        t.raw(json!({"update": update(800_001, 5, chat, "hello all")}))
            .await
            .0,
        200
    );
    let (state, why) = raw_row(&t, "update:800001").await.unwrap();
    assert_eq!(state, "ignored");
    let why = why.unwrap();
    assert!(
        why.contains("supergroup") && why.contains("private"),
        "{why}"
    );
    assert_eq!(t.messages_in().await, 0);
}

/// A customer who wrote first, so the bot may answer them; returns their message.
async fn conversation(t: &Tg, chat: i64) -> Msg {
    let a = t.says(chat, "Sam", "help please").await;
    t.message(&format!("{chat}:{}", a["update"]["message"]["message_id"]))
        .await
}

async fn a_blocked_bot_fails_the_reply_in_words(engine: DbEngine) {
    let t = setup(engine).await;
    let inbound = conversation(&t, 7009).await;
    t.fault(
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
        0,
    );
    let id = t.reply(&inbound, "Are you there?").await;
    let m = t.until_state(id, "failed").await;
    let reason = m.reason.unwrap();
    assert!(reason.contains("bot was blocked by the user"), "{reason}");
    assert!(
        !reason.contains(TOKEN) && !reason.contains("Secret-token"),
        "{reason}"
    );
}

async fn flood_control_is_retried_then_delivered(engine: DbEngine) {
    let t = setup(engine).await;
    let inbound = conversation(&t, 7010).await;
    t.fault(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
        0,
    );
    let id = t.reply(&inbound, "Sorry for the wait").await;
    let reason = retry_reason(&t, id).await;
    assert!(
        reason.contains("Too Many Requests") && reason.contains("wait 1 s"),
        "{reason}"
    );
    let m = t.until_state(id, "delivered").await;
    assert_eq!(m.body, "Sorry for the wait");
    assert_eq!(t.send_messages().len(), 2, "refused once, then sent");
}

async fn a_hang_past_the_timeout_is_delivery_unknown_not_resent(engine: DbEngine) {
    let t = setup(engine).await;
    let inbound = conversation(&t, 7011).await;
    t.fault(200, json!({}), 2_500);
    let id = t.reply(&inbound, "Still there?").await;
    // The first attempt times out (2 s client timeout) after the request left: Telegram may
    // have sent it, and the Bot API cannot be asked, so it is not sent again by itself.
    let m = t.until_state(id, "failed").await;
    let reason = m.reason.unwrap_or_default();
    assert!(reason.starts_with("Delivery unknown"), "{reason}");
    assert!(
        !reason.contains(TOKEN) && !reason.contains("Secret-token"),
        "{reason}"
    );
    let last_error: Option<String> =
        sqlx::query("SELECT last_error FROM outbox WHERE message_id = $1")
            .bind(id)
            .fetch_one(&t.db().read)
            .await
            .unwrap()
            .try_get("last_error")
            .unwrap();
    assert!(!last_error.unwrap_or_default().contains(TOKEN));
    assert_eq!(t.send_messages().len(), 1, "not sent twice");
    // The agent's "Send again".
    assert!(app::store::outbox::requeue(t.db(), id, true).await.unwrap());
    t.app.state.wake.outbox.notify_one();
    t.until_state(id, "delivered").await;
    assert_eq!(t.send_messages().len(), 2);
}

async fn a_wrong_token_is_explained_without_the_token(engine: DbEngine) {
    let t = setup(engine).await;
    let mut row = channel_accounts::get(t.db(), t.account).await.unwrap();
    row.secrets = json!({"bot_token": "999:WRONG-token-value", "secret_token": SECRET}).to_string();
    let client = server::channels::http_client::client(Duration::from_secs(5));
    let e = server::channels::telegram::test_connection(&client, &row)
        .await
        .unwrap_err();
    assert!(e.contains("401") && e.contains("Unauthorized"), "{e}");
    assert!(!e.contains("WRONG-token-value"), "{e}");
}

both_engines!(
    text_from_a_new_customer_starts_a_conversation,
    a_known_customer_lands_in_their_conversation,
    a_photo_and_a_document_are_stored_with_their_bytes,
    a_reply_is_sent_and_delivered,
    a_repeated_update_id_is_stored_once,
    updates_out_of_order_are_all_stored,
    an_edit_is_stored_marked_edited,
    a_wrong_or_missing_secret_is_refused,
    no_secret_configured_is_refused,
    malformed_updates_are_refused,
    a_group_message_is_kept_raw_and_ignored,
    a_blocked_bot_fails_the_reply_in_words,
    flood_control_is_retried_then_delivered,
    a_hang_past_the_timeout_is_delivery_unknown_not_resent,
    a_wrong_token_is_explained_without_the_token,
);
