//! What the website chat refuses: other websites (CORS, preflights, the frame's
//! `frame-ancestors`), forged, altered, foreign and expired tokens, markup, oversize messages
//! and floods (limits kept in the database, so they hold across processes).

use super::{api, new_chat, say, session, stored, urlencode, visitor_of, SITE};
use crate::support::{spawn_app, Engine};
use serde_json::{json, Value};
use sqlx::Row;

both_engines!(
    other_websites_and_bad_tokens_are_refused,
    floods_markup_and_oversize_messages_are_stopped,
    gone_visitors_are_forgotten_and_their_words_kept,
);

async fn other_websites_and_bad_tokens_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let s = session(&app, chat, None).await;
    let token = s["token"].as_str().unwrap().to_string();

    // Another website: refused in words, and no CORS header lets its script read anything.
    for (origin, site) in [
        ("https://evil.example.net", "https://evil.example.net"),
        ("https://evil.example.net", SITE),
        (SITE, "https://evil.example.net"),
    ] {
        let r = api(&app, chat, "session", origin, json!({ "site": site })).await;
        assert_eq!(r.status(), 403, "{origin} {site}");
        assert!(r.headers().get("access-control-allow-origin").is_none());
        let words: Value = r.json().await.unwrap();
        assert!(
            words["error"]
                .as_str()
                .unwrap()
                .contains("not one of the websites"),
            "{words}"
        );
    }
    // A subdomain of a wildcard site is allowed.
    let sub = "https://help.example.org";
    let r = api(&app, chat, "session", sub, json!({ "site": sub })).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], sub);

    // Preflight: the allowed site only.
    let pre = |origin: &'static str| {
        reqwest::Client::new()
            .request(
                reqwest::Method::OPTIONS,
                app.url(&format!("/chat/api/{chat}/messages")),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = pre(SITE).await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], SITE);
    let no = pre("https://evil.example.net").await.unwrap();
    assert_eq!(no.status(), 403);
    assert!(no.headers().get("access-control-allow-origin").is_none());

    // The frame: embeddable by the allowed websites only, and refused for any other site.
    let frame = reqwest::get(app.url(&format!("/chat/frame/{chat}?site={}", urlencode(SITE))))
        .await
        .unwrap();
    assert_eq!(frame.status(), 200);
    let csp = frame.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors https://shop.example.com https://*.example.org"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(frame.headers().get("x-frame-options").is_none());
    let refused = reqwest::get(app.url(&format!(
        "/chat/frame/{chat}?site=https%3A%2F%2Fevil.example.net"
    )))
    .await
    .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("evil.example.net is not one of the websites"));
    // An unknown chat, or an account that is not a chat.
    for id in ["999999", "1", "x"] {
        let r = reqwest::get(app.url(&format!("/chat/frame/{id}?site={}", urlencode(SITE))))
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{id}");
    }

    // The widget's code (script, frame page, its script and style) is small on the wire.
    let mut total = 0;
    for path in [
        "/chat/widget.js".to_string(),
        format!("/chat/frame/{chat}?site={}", urlencode(SITE)),
        "/chat/frame.js".into(),
        "/chat/frame.css".into(),
    ] {
        let r = reqwest::Client::new()
            .get(app.url(&path))
            .header("Accept-Encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-encoding"], "br", "{path}");
        total += r.bytes().await.unwrap().len();
    }
    assert!(total < 40 * 1024, "the widget is {total} bytes brotli");

    // Tokens: forged, altered, made for another chat, or expired are refused.
    let key = crate::support::TEST_SECRET.as_bytes();
    let visitor = visitor_of(&token);
    let forged =
        server::channels::chat::token::visitor_token(b"not-our-key", chat, &visitor, i64::MAX / 2);
    let other_chat =
        server::channels::chat::token::visitor_token(key, chat + 1, &visitor, i64::MAX / 2);
    let expired = server::channels::chat::token::visitor_token(key, chat, &visitor, 1);
    let altered = token.replacen(&visitor, &"a".repeat(26), 1);
    for bad in [
        forged,
        other_chat,
        expired,
        altered,
        "v1.garbage".into(),
        "x".repeat(5000),
    ] {
        let r = say(&app, chat, &bad, "w-forged-message", "hi").await;
        assert_eq!(r.status(), 401, "{bad}");
        let r = reqwest::get(app.url(&format!(
            "/chat/api/{chat}/stream?site={}&token={bad}",
            urlencode(SITE)
        )))
        .await
        .unwrap();
        assert_eq!(r.status(), 401, "stream with {bad}");
    }
    // A token of another visitor's session is never told about this one: a fresh session.
    let fresh = session(&app, chat, Some("v1.1.abc.1.00")).await;
    assert_ne!(visitor_of(fresh["token"].as_str().unwrap()), visitor);
}

async fn floods_markup_and_oversize_messages_are_stopped(engine: Engine) {
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let s = session(&app, chat, None).await;
    let token = s["token"].as_str().unwrap().to_string();
    let visitor = visitor_of(&token);

    // Markup is text, for the visitor and for the agent.
    let markup = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    assert_eq!(
        say(&app, chat, &token, "w-markup-0001", markup)
            .await
            .status(),
        202
    );
    // The same message sent twice (a retry) is stored once.
    let again = say(&app, chat, &token, "w-markup-0001", markup).await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.json::<Value>().await.unwrap()["duplicate"], true);
    crate::support::messages::wait_for("the message", 5, || async {
        (!stored(db, &visitor).await.is_empty()).then_some(())
    })
    .await;
    let row = sqlx::query(
        "SELECT body_text, body_html FROM messages WHERE provider_message_id = 'w-markup-0001'",
    )
    .fetch_all(&db.read)
    .await
    .unwrap();
    assert_eq!(row.len(), 1);
    assert_eq!(row[0].try_get::<String, _>("body_text").unwrap(), markup);
    assert_eq!(
        row[0].try_get::<Option<String>, _>("body_html").unwrap(),
        None
    );

    // Too long, empty, or without a valid id: refused in words, nothing stored.
    for (id, text, words) in [
        ("w-long-000001", "x".repeat(4_001), "4000 characters"),
        ("w-empty-00001", "  \n ".to_string(), "Write a message"),
        ("bad id!", "hello".to_string(), "valid id"),
    ] {
        let r = say(&app, chat, &token, id, &text).await;
        assert_eq!(r.status(), 400, "{id}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(words), "{body}");
    }
    // A body over the limit is refused before it is read.
    let r = say(&app, chat, &token, "w-huge-000001", &"y".repeat(40_000)).await;
    assert_eq!(r.status(), 413);

    // One visitor may send 20 messages a minute; the 21st is refused with Retry-After.
    let mut sent = 2; // the markup message and its retry: every request counts
    let mut refused = None;
    for n in 0..25 {
        let r = say(&app, chat, &token, &format!("w-flood-{n:05}"), "again").await;
        if r.status() == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status(), 202);
        sent += 1;
    }
    let refused = refused.expect("the flood was stopped");
    assert_eq!(sent, server::http::chat::MESSAGES_PER_VISITOR);
    assert_eq!(refused.headers()["retry-after"], "60");
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("wait a minute"),
        "{body}"
    );
    // The limit is in the database: another process (a second app on the same database would
    // read the same counter); here, the counter row itself.
    let hits: i64 = sqlx::query("SELECT hits FROM rate_counters WHERE key LIKE 'chat-msg:%'")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("hits")
        .unwrap();
    assert!(hits > server::http::chat::MESSAGES_PER_VISITOR);

    // A token opening streams without end is stopped too.
    let stream_url = app.url(&format!(
        "/chat/api/{chat}/stream?site={}&token={token}",
        urlencode(SITE)
    ));
    let mut statuses = Vec::new();
    for _ in 0..=server::http::chat::STREAMS_PER_VISITOR {
        let r = reqwest::Client::new()
            .get(&stream_url)
            .header("Origin", SITE)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count() as i64,
        server::http::chat::STREAMS_PER_VISITOR
    );
    assert_eq!(statuses.last(), Some(&429));

    // New visitors per address are limited too.
    let mut starts = 1;
    loop {
        let r = api(&app, chat, "session", SITE, json!({ "site": SITE })).await;
        if r.status() == 429 {
            break;
        }
        assert_eq!(r.status(), 200);
        starts += 1;
        assert!(
            starts <= server::http::chat::NEW_VISITORS_PER_ADDRESS,
            "no limit on new visitors"
        );
    }
    // A known visitor still gets a session.
    let known = api(
        &app,
        chat,
        "session",
        SITE,
        json!({ "site": SITE, "token": token }),
    )
    .await;
    assert_eq!(known.status(), 200);
}

/// Every page view without a token makes a visitor: those gone for a week are forgotten in
/// batches, so a busy site (or a flood from many addresses) does not grow the table forever.
/// What a forgotten visitor wrote stays in the inbox.
async fn gone_visitors_are_forgotten_and_their_words_kept(engine: Engine) {
    use server::workers::chat_followup::{forget_gone_visitors, FORGET_VISITORS_AFTER_MS};
    let app = spawn_app(engine).await;
    let chat = new_chat(&app).await;
    let db = &app.state.db;
    let wrote = session(&app, chat, None).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let silent = session(&app, chat, None).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let here = session(&app, chat, None).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        say(&app, chat, &wrote, "w-gone-000001", "Still there?")
            .await
            .status(),
        202
    );
    crate::support::messages::wait_for("the message", 5, || async {
        (!stored(db, &visitor_of(&wrote)).await.is_empty()).then_some(())
    })
    .await;

    let now = app::store::now_ms();
    let long_ago = now - FORGET_VISITORS_AFTER_MS - 60_000;
    for t in [&wrote, &silent] {
        sqlx::query("UPDATE chat_visitors SET last_active_at = $1 WHERE visitor = $2")
            .bind(long_ago)
            .bind(visitor_of(t))
            .execute(&db.write)
            .await
            .unwrap();
    }
    // A backlog larger than one batch, as after a flood.
    sqlx::query(
        "INSERT INTO chat_visitors (account_id, visitor, last_active_at, created_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) \
         SELECT $1, 'flood' || i, $2, $2 FROM n",
    )
    .bind(chat)
    .bind(long_ago - 1)
    .execute(&db.write)
    .await
    .unwrap();
    // Seen a moment inside the limit: kept.
    sqlx::query("UPDATE chat_visitors SET last_active_at = $1 WHERE visitor = $2")
        .bind(now - FORGET_VISITORS_AFTER_MS + 60_000)
        .bind(visitor_of(&here))
        .execute(&db.write)
        .await
        .unwrap();

    assert_eq!(forget_gone_visitors(db, now).await.unwrap(), 2502);
    assert_eq!(
        forget_gone_visitors(db, now).await.unwrap(),
        0,
        "nothing twice"
    );
    let left: Vec<String> = sqlx::query("SELECT visitor FROM chat_visitors")
        .fetch_all(&db.read)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get(0).unwrap())
        .collect();
    assert_eq!(left, [visitor_of(&here)]);
    let kept = stored(db, &visitor_of(&wrote)).await;
    assert_eq!(kept.len(), 1, "what a forgotten visitor wrote stays");
    assert_eq!(kept[0].1, "Still there?");
}
