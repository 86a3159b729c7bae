//! The Twilio SMS/MMS channel end to end: the real app (router, webhook, inbound worker,
//! outbox) against the Twilio stand-in speaking Twilio's wire format, on SQLite and PostgreSQL.
//! Signatures are also checked against the official twilio-python library.

use crate::support::twilio::*;
use crate::support::Engine;
use app::store::attachments;
use base64::Engine as _;
use serde_json::json;
use server::channels::twilio::{self, form, signature};
use sqlx::Row;
use std::time::Duration;

mod delivery;

both_engines!(
    inbound_text_creates_a_customer_and_conversation,
    inbound_mms_stores_the_image,
    replies_are_sent_and_delivered_through_status_callbacks,
    replayed_inbound_is_stored_once,
    bad_signatures_are_refused_and_nothing_is_stored,
    malformed_and_oversized_payloads_are_refused,
    the_official_library_signs_what_we_accept,
);

async fn inbound_text_creates_a_customer_and_conversation(engine: Engine) {
    let c = Ctx::new(engine).await;
    let before = scalar(
        c.db(),
        "SELECT COUNT(*) AS n FROM customers WHERE id > $1",
        0,
    )
    .await;
    let r = c
        .inbound(json!({"from": "+15005550006", "body": "Where is my order 1234?"}))
        .await;
    assert_eq!(r["status"], 200, "{r}");
    assert!(
        r["body"]
            .as_str()
            .unwrap()
            .ends_with("<Response></Response>"),
        "{r}"
    );
    let sid = r["message_sid"].as_str().unwrap().to_string();
    assert!(twilio::is_sid(&sid, &["SM"]), "{sid}");
    let m = wait_for("the message", 15, || message(c.db(), &sid)).await;
    assert_eq!(m.direction, "in");
    assert_eq!(m.body, "Where is my order 1234?");
    let after = scalar(
        c.db(),
        "SELECT COUNT(*) AS n FROM customers WHERE id > $1",
        0,
    )
    .await;
    assert_eq!(after, before + 1, "a new customer");
    let owner = scalar_str(
        c.db(),
        "SELECT customer_id AS n FROM identifiers WHERE kind = 'phone' AND value = $1",
        "+15005550006",
    )
    .await;
    assert_eq!(owner, m.customer_id);
    let conv_customer = scalar(
        c.db(),
        "SELECT customer_id AS n FROM conversations WHERE id = $1",
        m.conversation_id,
    )
    .await;
    assert_eq!(conv_customer, m.customer_id);
}

async fn inbound_mms_stores_the_image(engine: Engine) {
    let c = Ctx::new(engine).await;
    // A real PNG header and some bytes.
    let png: Vec<u8> = [&b"\x89PNG\r\n\x1a\n"[..], &(0u8..=255).collect::<Vec<_>>()].concat();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let r = c
        .inbound(json!({"from": "+15005550006", "body": "", "media": [{"content_type": "image/png", "base64": b64}]}))
        .await;
    assert_eq!(r["status"], 200, "{r}");
    let sid = r["message_sid"].as_str().unwrap().to_string();
    assert!(sid.starts_with("MM"), "{sid}");
    let m = wait_for("the MMS", 20, || message(c.db(), &sid)).await;
    let att: i64 = wait_for("its attachment", 10, || async {
        sqlx::query("SELECT id FROM attachments WHERE message_id = $1")
            .bind(m.id)
            .fetch_optional(&c.db().read)
            .await
            .unwrap()
            .map(|r| r.try_get::<i64, _>("id").unwrap())
    })
    .await;
    let a = attachments::get(c.db(), att).await.unwrap().unwrap();
    assert_eq!(a.data, png);
    assert_eq!(a.content_type, "image/png");
    assert!(
        a.filename.starts_with("ME") && a.filename.ends_with(".png"),
        "{}",
        a.filename
    );
    // Downloaded from the API host with the account's credentials.
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    );
    let gets: Vec<_> =
        c.si.state
            .requests(Some("twilio"))
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.contains("/Media/ME"))
            .collect();
    assert_eq!(gets.len(), 1, "{gets:?}");
    assert!(gets[0]
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && *v == auth));
}

async fn replies_are_sent_and_delivered_through_status_callbacks(engine: Engine) {
    let c = Ctx::new(engine).await;
    let mid = c.reply_to("+15005550006", "Your order ships today.").await;
    let m = wait_state(&c, mid, "delivered", 20).await;
    let sends = c.sends();
    assert_eq!(sends.len(), 1, "{sends:?}");
    let s = &sends[0];
    assert_eq!(s.path, format!("/2010-04-01/Accounts/{SID}/Messages.json"));
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    );
    assert!(
        s.headers
            .iter()
            .any(|(k, v)| k == "authorization" && *v == auth),
        "{:?}",
        s.headers
    );
    let f = form::decode(s.body.as_bytes()).unwrap();
    assert_eq!(form::get(&f, "To"), Some("+15005550006"));
    assert_eq!(form::get(&f, "From"), Some(NUMBER));
    assert_eq!(form::get(&f, "Body"), Some("Your order ships today."));
    assert_eq!(
        form::get(&f, "StatusCallback").map(str::to_string),
        Some(c.app.url(&format!("/webhooks/twilio/{}/status", c.account)))
    );
    let sid = m.provider_id.unwrap();
    assert!(twilio::is_sid(&sid, &["SM"]), "{sid}");
    for status in ["sent", "delivered"] {
        let key = format!("status:{sid}:{status}");
        assert_eq!(
            scalar_str(
                c.db(),
                "SELECT COUNT(*) AS n FROM raw_inbound WHERE dedupe_key = $1",
                &key
            )
            .await,
            1,
            "{key}"
        );
    }
}

async fn replayed_inbound_is_stored_once(engine: Engine) {
    let c = Ctx::new(engine).await;
    let first = c
        .inbound(json!({"from": "+15005550006", "body": "Once"}))
        .await;
    let sid = first["message_sid"].as_str().unwrap().to_string();
    let again = c
        .inbound(json!({"from": "+15005550006", "body": "Once", "message_sid": sid}))
        .await;
    assert_eq!(first["status"], 200);
    assert_eq!(again["status"], 200, "a replay is acknowledged: {again}");
    wait_for("the message", 15, || message(c.db(), &sid)).await;
    // A third time, after processing.
    let third = c
        .inbound(json!({"from": "+15005550006", "body": "Once", "message_sid": sid}))
        .await;
    assert_eq!(third["status"], 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(c.raw_count(c.account).await, 1);
    assert_eq!(
        scalar_str(
            c.db(),
            "SELECT COUNT(*) AS n FROM messages WHERE provider_message_id = $1",
            &sid
        )
        .await,
        1
    );
}

async fn bad_signatures_are_refused_and_nothing_is_stored(engine: Engine) {
    let c = Ctx::new(engine).await;
    let p = inbound_params(SMS_SID, "Hello");
    let form_ct = "application/x-www-form-urlencoded";
    let body = form::encode(p.iter().map(|(k, v)| (k.as_str(), v.as_str()))).into_bytes();
    // A wrong signature, none at all, another token's.
    let (st, why) = c
        .post(
            &c.hook(),
            &[("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==")],
            form_ct,
            body.clone(),
        )
        .await;
    assert_eq!(st, 403, "{why}");
    assert!(why.contains("does not match"), "{why}");
    let (st, why) = c.post(&c.hook(), &[], form_ct, body.clone()).await;
    assert_eq!(st, 403, "{why}");
    let (st, _) = c.post_signed("another-token", &p, |_| {}).await;
    assert_eq!(st, 403);
    // One byte of the body changed after signing: "Hello" becomes "Hellp".
    let (st, why) = c
        .post_signed(TOKEN, &p, |b| {
            let i = b.windows(5).position(|w| w == b"Hello").unwrap();
            b[i + 4] = b'p';
        })
        .await;
    assert_eq!(st, 403, "{why}");
    // Signed for another URL (another account's webhook).
    let sig = signature::signature(TOKEN, &c.app.url("/webhooks/twilio/999"), &p);
    let (st, _) = c
        .post(
            &c.hook(),
            &[("X-Twilio-Signature", &sig)],
            form_ct,
            body.clone(),
        )
        .await;
    assert_eq!(st, 403);
    assert_eq!(c.raw_count(c.account).await, 0);

    // An account with no auth token refuses everything, even a request signed with "".
    let bare = create_account(c.db(), &c.si.base_url, "").await;
    let url = c.app.url(&format!("/webhooks/twilio/{bare}"));
    let sig = signature::signature("", &url, &p);
    let (st, why) = c
        .post(&url, &[("X-Twilio-Signature", &sig)], form_ct, body.clone())
        .await;
    assert_eq!(st, 403, "{why}");
    assert!(why.contains("not configured"), "{why}");
    assert_eq!(c.raw_count(bare).await, 0);

    // The correctly signed request is taken, so the refusals above were about the signature.
    let (st, _) = c.post_signed(TOKEN, &p, |_| {}).await;
    assert_eq!(st, 200);
    assert_eq!(c.raw_count(c.account).await, 1);
}

async fn malformed_and_oversized_payloads_are_refused(engine: Engine) {
    let c = Ctx::new(engine).await;
    let sig = signature::signature(TOKEN, &c.hook(), &[]);
    let json_body =
        serde_json::to_vec(&json!({"MessageSid": SMS_SID, "From": "+15005550006"})).unwrap();
    let (st, why) = c
        .post(
            &c.hook(),
            &[("X-Twilio-Signature", &sig)],
            "application/json",
            json_body,
        )
        .await;
    assert_eq!(st, 400, "{why}");
    assert!(why.contains("application/x-www-form-urlencoded"), "{why}");

    let mut p = inbound_params(SMS_SID, "Hi");
    p.retain(|(k, _)| k != "MessageSid");
    let (st, why) = c.post_signed(TOKEN, &p, |_| {}).await;
    assert_eq!(st, 400, "{why}");
    assert!(why.contains("MessageSid"), "{why}");

    let mut p = inbound_params(SMS_SID, "Hi");
    for (k, v) in p.iter_mut() {
        if k == "MessageSid" {
            *v = "SM-not-a-sid".into();
        }
    }
    let (st, why) = c.post_signed(TOKEN, &p, |_| {}).await;
    assert_eq!(st, 400, "{why}");

    let garbage: Vec<u8> = (0..400u32).map(|i| (i * 7919 % 251) as u8 | 0x80).collect();
    let (st, why) = c
        .post(
            &c.hook(),
            &[("X-Twilio-Signature", &sig)],
            "application/x-www-form-urlencoded",
            garbage,
        )
        .await;
    assert_eq!(st, 400, "{why}");
    assert!(why.contains("UTF-8"), "{why}");

    let big = inbound_params(SMS_SID, &"x".repeat(300 * 1024));
    let (st, _) = c.post_signed(TOKEN, &big, |_| {}).await;
    assert_eq!(st, 413);
    assert_eq!(c.raw_count(c.account).await, 0);
}

/// Runs scripts/twilio_sign.py (twilio-python's RequestValidator) over `requests`.
async fn the_official_library_signs_what_we_accept(engine: Engine) {
    let c = Ctx::new(engine).await;
    let sids = [
        "SMa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
        "SMb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
        "MMc0c1c2c3c4c5c6c7c8c9cacbcccdcecf",
    ];
    let mut with_service = inbound_params(sids[0], "Via a number pool ✓ & more = fun");
    with_service.push((
        "MessagingServiceSid".into(),
        "MG0123456789abcdef0123456789abcdef".into(),
    ));
    let mut repeated = inbound_params(sids[1], "Repeated keys");
    repeated.extend(params(&[
        ("Tag", "zeta"),
        ("Tag", "alpha"),
        ("Tag", "alpha"),
    ]));
    let mut mms = inbound_params(sids[2], "");
    mms.retain(|(k, _)| k != "NumMedia");
    mms.extend(params(&[
        ("NumMedia", "1"),
        ("MediaContentType0", "image/jpeg"),
        (
            "MediaUrl0",
            &format!(
                "{}/2010-04-01/Accounts/{SID}/Messages/{}/Media/ME0123456789abcdef0123456789abcdef",
                c.si.base_url, sids[2]
            ),
        ),
    ]));
    let sets = [with_service, repeated, mms];
    let requests: Vec<(String, Vec<(String, String)>)> =
        sets.iter().map(|p| (c.hook(), p.clone())).collect();
    let theirs = official_signatures(TOKEN, &requests);
    for (p, sig) in sets.iter().zip(&theirs) {
        assert_eq!(
            &signature::signature(TOKEN, &c.hook(), p),
            sig,
            "same signature as twilio-python"
        );
        let body = form::encode(p.iter().map(|(k, v)| (k.as_str(), v.as_str()))).into_bytes();
        let mut changed = body.clone();
        let last = changed.len() - 1;
        changed[last] = if changed[last] == b'1' { b'2' } else { b'1' };
        let ct = "application/x-www-form-urlencoded";
        let (st, why) = c
            .post(&c.hook(), &[("X-Twilio-Signature", sig)], ct, changed)
            .await;
        assert_eq!(st, 403, "one byte changed: {why}");
        let (st, why) = c
            .post(&c.hook(), &[("X-Twilio-Signature", sig)], ct, body)
            .await;
        assert_eq!(st, 200, "{why}");
    }
    assert_eq!(c.raw_count(c.account).await, 3);

    // More parameter sets, compared without posting: other URLs, tokens, odd characters.
    let extra: Vec<(String, Vec<(String, String)>)> = vec![
        (
            "https://inbox.example.com/webhooks/twilio/7?x=1&y=%20".into(),
            params(&[("Body", "ünïcödé 😀"), ("a", ""), ("A", "b")]),
        ),
        (
            "http://127.0.0.1:8080/webhooks/twilio/3/status".into(),
            params(&[("MessageStatus", "delivered"), ("MessageSid", sids[0])]),
        ),
        ("https://inbox.example.com/w".into(), vec![]),
    ];
    let theirs = official_signatures("another token with spaces", &extra);
    for ((url, p), sig) in extra.iter().zip(&theirs) {
        assert_eq!(
            &signature::signature("another token with spaces", url, p),
            sig,
            "{url}"
        );
    }
}

#[tokio::test]
async fn test_connection_reads_the_account() {
    let si = standin::spawn("127.0.0.1:0").await.unwrap();
    let client = reqwest::Client::new();
    let ok = twilio::test_connection(&client, &row(&si.base_url, TOKEN))
        .await
        .unwrap();
    assert!(
        ok.starts_with("Signed in to Twilio account “") && ok.contains(SID),
        "{ok}"
    );
    reqwest::Client::new()
        .post(format!("{}/_standin/twilio/account", si.base_url))
        .json(&json!({"account_sid": SID, "auth_token": TOKEN, "friendly_name": "Acme Support"}))
        .send()
        .await
        .unwrap();
    let ok = twilio::test_connection(&client, &row(&si.base_url, TOKEN))
        .await
        .unwrap();
    assert_eq!(
        ok,
        format!("Signed in to Twilio account “Acme Support” ({SID})")
    );
    let err = twilio::test_connection(&client, &row(&si.base_url, "wrong"))
        .await
        .unwrap_err();
    assert!(err.contains("20003") && err.contains("401"), "{err}");
    let err = twilio::test_connection(&client, &row("http://127.0.0.1:1", TOKEN))
        .await
        .unwrap_err();
    assert!(err.contains("could not be reached"), "{err}");
    assert!(!err.contains(TOKEN));
}
