//! WhatsApp (Cloud API), Messenger and Instagram end to end: the real app (router, webhook,
//! inbound worker, outbox) against the Meta stand-in speaking the Graph API's wire formats,
//! with signed webhooks, on SQLite and PostgreSQL.

mod ctx;
mod failures;

use crate::support::Engine;
use app::store::attachments;
use base64::Engine as _;
use ctx::*;
use serde_json::{json, Value};
use sqlx::Row;

const WA_FROM: &str = "16505551234";
const PSID: &str = "6543210987654321";
const IGSID: &str = "5432109876543210";

both_engines!(
    each_channel_takes_a_message_from_an_unknown_customer,
    files_are_downloaded_and_stored,
    replies_go_out_and_are_delivered_and_read,
    replays_are_acknowledged_and_stored_once,
    a_batch_holds_two_messages_and_a_status,
    a_status_before_its_message_is_applied,
    messenger_after_24_hours_uses_the_human_agent_tag,
);

async fn text_of(c: &Ctx, sql: &str, id: i64) -> String {
    sqlx::query(sql)
        .bind(id)
        .fetch_one(&c.db().read)
        .await
        .unwrap()
        .try_get("t")
        .unwrap()
}

async fn each_channel_takes_a_message_from_an_unknown_customer(engine: Engine) {
    let c = Ctx::new(engine).await;
    for (provider, from) in [
        ("whatsapp", WA_FROM),
        ("messenger", PSID),
        ("instagram", IGSID),
    ] {
        let acc = c.account(provider).await;
        let text = format!("Where is my order? ({provider})");
        let r = c
            .inbound(
                &acc,
                json!({"from": from, "name": "Sheena Nelson", "text": text}),
            )
            .await;
        assert_eq!(r["body"], "EVENT_RECEIVED", "{r}");
        let mid = r["id"].as_str().unwrap();
        let m = wait_message(c.db(), mid).await;
        assert_eq!(
            (m.direction.as_str(), m.body.as_str(), m.state.as_str()),
            ("in", text.as_str(), "received")
        );
        let (kind, value) = acc.identifier(from);
        let owner = int(
            c.db(),
            "SELECT customer_id AS n FROM identifiers WHERE kind = $1 AND value = $2",
            &[kind, &value],
        )
        .await;
        assert_eq!(
            owner, m.customer_id,
            "{provider}: the sender became the customer's identifier"
        );
        let conv_owner = text_of(
            &c,
            "SELECT CAST(customer_id AS TEXT) AS t FROM conversations WHERE id = $1",
            m.conversation_id,
        )
        .await;
        assert_eq!(conv_owner, m.customer_id.to_string());
        let name = text_of(
            &c,
            "SELECT name AS t FROM customers WHERE id = $1",
            m.customer_id,
        )
        .await;
        if provider == "whatsapp" {
            assert_eq!(name, "Sheena Nelson", "WhatsApp names its senders");
        } else {
            assert_eq!(name, from, "Messenger and Instagram give only the id");
        }
    }
}

async fn attachment_of(c: &Ctx, message_id: i64) -> attachments::AttachmentData {
    let id: i64 = wait_for("the attachment", 10, || async {
        sqlx::query("SELECT id FROM attachments WHERE message_id = $1")
            .bind(message_id)
            .fetch_optional(&c.db().read)
            .await
            .unwrap()
            .map(|r| r.try_get::<i64, _>("id").unwrap())
    })
    .await;
    attachments::get(c.db(), id).await.unwrap().unwrap()
}

async fn files_are_downloaded_and_stored(engine: Engine) {
    let c = Ctx::new(engine).await;
    let png: Vec<u8> = [&b"\x89PNG\r\n\x1a\n"[..], &(0u8..=255).collect::<Vec<_>>()].concat();
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let wa = c.account("whatsapp").await;
    let r = c
        .inbound(&wa, json!({"from": WA_FROM, "text": "the broken part", "media": {"content_type": "image/png", "base64": b64(&png)}}))
        .await;
    let media_id = r["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let m = wait_message(c.db(), r["id"].as_str().unwrap()).await;
    assert_eq!(m.body, "the broken part", "the caption is the text");
    let a = attachment_of(&c, m.id).await;
    assert_eq!(a.data, png);
    assert_eq!(a.content_type, "image/png");
    assert!(a.filename.ends_with(".png"), "{}", a.filename);
    // The media id was looked up, then the file fetched, both with the token.
    let gets: Vec<_> =
        c.si.state
            .requests(Some("meta"))
            .into_iter()
            .filter(|r| r.method == "GET")
            .collect();
    let paths: Vec<&str> = gets.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/v21.0/{media_id}"),
            format!("/_standin/meta/media/{media_id}")
        ],
        "{paths:?}"
    );
    let bearer = format!("Bearer {TOKEN}");
    assert!(gets
        .iter()
        .all(|g| header(g, "authorization") == Some(bearer.as_str())));

    let ms = c.account("messenger").await;
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let r = c
        .inbound(&ms, json!({"from": PSID, "media": {"content_type": "application/pdf", "base64": b64(&pdf), "filename": "invoice.pdf"}}))
        .await;
    let m = wait_message(c.db(), r["id"].as_str().unwrap()).await;
    let a = attachment_of(&c, m.id).await;
    assert_eq!(
        (a.data, a.content_type.as_str(), a.filename.as_str()),
        (pdf, "application/pdf", "invoice.pdf")
    );
}

async fn replies_go_out_and_are_delivered_and_read(engine: Engine) {
    let c = Ctx::new(engine).await;
    let bearer = format!("Bearer {TOKEN}");
    // WhatsApp: statuses sent, delivered, read.
    let wa = c.account("whatsapp").await;
    let id = c.reply_to(&wa, WA_FROM, "Your order ships today.").await;
    let m = wait_state(c.db(), id, "read", 20).await;
    let sends = c.sends(&wa);
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(header(&sends[0], "authorization"), Some(bearer.as_str()));
    assert_eq!(
        serde_json::from_str::<Value>(&sends[0].body).unwrap(),
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_FROM, "type": "text",
               "text": {"preview_url": false, "body": "Your order ships today."}})
    );
    assert!(m.provider_id.unwrap().starts_with("wamid."));

    // Messenger: a delivery report by mid, then a read by watermark.
    let ms = c
        .account_with("messenger", json!({"app_secret": SECRET}), "delivered")
        .await;
    let id = c.reply_to(&ms, PSID, "We are on it.").await;
    let m = wait_state(c.db(), id, "delivered", 20).await;
    let sends = c.sends(&ms);
    assert_eq!(sends.len(), 1);
    assert_eq!(header(&sends[0], "authorization"), Some(bearer.as_str()));
    assert_eq!(
        serde_json::from_str::<Value>(&sends[0].body).unwrap(),
        json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "We are on it."}})
    );
    assert!(m.provider_id.unwrap().starts_with("m_"));
    let now = app::store::now_ms();
    let read = json!({"object": "page", "entry": [{"id": ms.graph_id, "time": now, "messaging": [
        {"sender": {"id": PSID}, "recipient": {"id": ms.graph_id}, "timestamp": now, "read": {"watermark": now}}
    ]}]});
    assert_eq!(c.raw(&ms, &read.to_string(), None).await.0, 200);
    wait_state(c.db(), id, "read", 20).await;

    // Instagram: messaging_seen names the message.
    let ig = c.account("instagram").await;
    let id = c.reply_to(&ig, IGSID, "Thanks for writing!").await;
    wait_state(c.db(), id, "read", 20).await;
    assert_eq!(c.sends(&ig).len(), 1);
}

async fn replays_are_acknowledged_and_stored_once(engine: Engine) {
    let c = Ctx::new(engine).await;
    let acc = c.account("messenger").await;
    let r = c
        .inbound(&acc, json!({"from": PSID, "text": "only once"}))
        .await;
    let mid = r["id"].as_str().unwrap().to_string();
    wait_message(c.db(), &mid).await;
    // The same bytes again (Meta's retry): acknowledged, not stored again.
    let (status, body) = c.raw(&acc, &r["payload"].to_string(), None).await;
    assert_eq!((status, body.as_str()), (200, "EVENT_RECEIVED"));
    assert_eq!(c.raw_count(&acc).await, 1);
    // A new batch repeating the message: stored as a batch, de-duplicated on the mid.
    c.inbound(&acc, json!({"from": PSID, "text": "only once", "mid": mid}))
        .await;
    assert_eq!(c.raw_count(&acc).await, 2);
    wait_for("both batches processed", 20, || async {
        let pending = int(
            c.db(),
            "SELECT COUNT(*) AS n FROM raw_inbound WHERE state = $1",
            &["pending"],
        )
        .await;
        (pending == 0).then_some(())
    })
    .await;
    assert_eq!(
        int(
            c.db(),
            "SELECT COUNT(*) AS n FROM messages WHERE provider_message_id = $1",
            &[&mid]
        )
        .await,
        1
    );
}

async fn a_batch_holds_two_messages_and_a_status(engine: Engine) {
    let c = Ctx::new(engine).await;
    let wa = c
        .account_with("whatsapp", json!({"app_secret": SECRET}), "none")
        .await;
    let out = c.reply_to(&wa, WA_FROM, "Sent earlier").await;
    let wamid = wait_state(c.db(), out, "sent", 20)
        .await
        .provider_id
        .unwrap();
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1065403522429220", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100000", "phone_number_id": wa.graph_id},
        "contacts": [{"profile": {"name": "Kai"}, "wa_id": "4915123456789"}, {"profile": {"name": "Ada"}, "wa_id": WA_FROM}],
        "messages": [
            {"from": "4915123456789", "id": "wamid.batch-one", "timestamp": "1750000000", "type": "text", "text": {"body": "first"}},
            {"from": WA_FROM, "id": "wamid.batch-two", "timestamp": "1750000001", "type": "location",
             "location": {"latitude": 52.52, "longitude": 13.405}}
        ],
        "statuses": [{"id": wamid, "status": "delivered", "timestamp": "1750000002", "recipient_id": WA_FROM}]
    }}]}]});
    assert_eq!(c.raw(&wa, &body.to_string(), None).await.0, 200);
    assert_eq!(wait_message(c.db(), "wamid.batch-one").await.body, "first");
    assert_eq!(
        wait_message(c.db(), "wamid.batch-two").await.body,
        "[location 52.52, 13.405]"
    );
    wait_state(c.db(), out, "delivered", 20).await;
}

async fn a_status_before_its_message_is_applied(engine: Engine) {
    let c = Ctx::new(engine).await;
    let wa = c
        .account_with("whatsapp", json!({"app_secret": SECRET}), "none")
        .await;
    let r = c.inbound(&wa, json!({"from": WA_FROM, "text": "hi"})).await;
    let inbound = wait_message(c.db(), r["id"].as_str().unwrap()).await;
    let wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";
    // WhatsApp's "delivered" overtakes the answer to the send.
    let status = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100000", "phone_number_id": wa.graph_id},
        "statuses": [{"id": wamid, "status": "delivered", "timestamp": "1750000002", "recipient_id": WA_FROM}]
    }}]}]});
    assert_eq!(c.raw(&wa, &status.to_string(), None).await.0, 200);
    wait_for("the early status to be looked at", 10, || async {
        let pending = int(
            c.db(),
            "SELECT COUNT(*) AS n FROM raw_inbound WHERE state = $1",
            &["pending"],
        )
        .await;
        (pending == 0).then_some(())
    })
    .await;
    c.control(
        "next_message_id",
        json!({"id": wa.graph_id, "message_id": wamid}),
    )
    .await;
    let id = c
        .reply(&wa, inbound.conversation_id, WA_FROM, "Late answer")
        .await;
    let m = wait_state(c.db(), id, "delivered", 20).await;
    assert_eq!(m.provider_id.as_deref(), Some(wamid));
}

async fn messenger_after_24_hours_uses_the_human_agent_tag(engine: Engine) {
    let c = Ctx::new(engine).await;
    let ms = c
        .account_with("messenger", json!({"app_secret": SECRET}), "delivered")
        .await;
    let r = c.inbound(&ms, json!({"from": PSID, "text": "hello"})).await;
    let inbound = wait_message(c.db(), r["id"].as_str().unwrap()).await;
    let three_days_ago = app::store::now_ms() - 3 * 24 * 3_600_000;
    sqlx::query(
        "UPDATE identifiers SET last_inbound_at = $1 WHERE kind = 'messenger' AND value = $2",
    )
    .bind(three_days_ago)
    .bind(PSID)
    .execute(&c.db().write)
    .await
    .unwrap();
    let id = c
        .reply(&ms, inbound.conversation_id, PSID, "Sorry for the wait")
        .await;
    wait_state(c.db(), id, "delivered", 20).await;
    let sends = c.sends(&ms);
    let sent: Value = serde_json::from_str(&sends[0].body).unwrap();
    assert_eq!(
        sent,
        json!({"recipient": {"id": PSID}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT", "message": {"text": "Sorry for the wait"}})
    );
}

#[tokio::test]
async fn test_connection_names_the_page_and_the_number() {
    use app::domain::ChannelKind;
    use app::store::channel_accounts::AccountRow;
    let si = standin::spawn("127.0.0.1:0").await.unwrap();
    let http = reqwest::Client::new();
    for (object, id) in [
        ("page", "104502931234567"),
        ("whatsapp_business_account", "106540352242922"),
    ] {
        let r = http
            .post(format!("{}/_standin/meta/subscribe", si.base_url))
            .json(&json!({"object": object, "id": id, "access_token": TOKEN, "name": "Acme Shoes", "display_phone_number": "+1 555-010-0000"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let row = |provider: &str, token: &str| {
        let (channel, settings, secrets) = if provider == "whatsapp" {
            (
                ChannelKind::Whatsapp,
                json!({"phone_number_id": "106540352242922"}),
                json!({"access_token": token}),
            )
        } else {
            (
                ChannelKind::Messenger,
                json!({"page_id": "104502931234567"}),
                json!({"page_access_token": token}),
            )
        };
        let mut settings = settings;
        settings["api_base"] = json!(format!("{}/v21.0/", si.base_url));
        AccountRow {
            id: 1,
            channel,
            provider: provider.into(),
            name: provider.into(),
            address: String::new(),
            settings: settings.to_string(),
            secrets: secrets.to_string(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        }
    };
    let client = reqwest::Client::new();
    let t = server::channels::meta::test_connection;
    assert_eq!(
        t(&client, &row("messenger", TOKEN)).await,
        Ok("Connected to page “Acme Shoes” (104502931234567)".into())
    );
    assert_eq!(
        t(&client, &row("whatsapp", TOKEN)).await,
        Ok("Connected to WhatsApp number +1 555-010-0000 (Acme Shoes)".into())
    );
    let err = t(&client, &row("whatsapp", "stale-token"))
        .await
        .unwrap_err();
    assert!(
        err.contains("Meta error 190") && err.contains("HTTP 401"),
        "{err}"
    );
    let gets = si.state.requests(Some("meta"));
    assert!(
        gets.iter()
            .any(|g| g.path == "/v21.0/104502931234567?fields=name,id"),
        "{gets:?}"
    );
}
