use super::*;
use serde_json::json;

fn run(product: Product, v: Value) -> Result<Vec<InboundEvent>, String> {
    parse(product, v.to_string().as_bytes(), 99)
}

fn page(events: Value) -> Value {
    json!({"object": "page", "entry": [{"id": "1001", "time": 1_700_000_000_500i64, "messaging": events}]})
}

fn msg(e: &InboundEvent) -> &InboundMessage {
    match e {
        InboundEvent::Message(m) => m,
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn a_text_message() {
    let ev = run(
        Product::Messenger,
        page(json!([{
            "sender": {"id": "6543210987654321"}, "recipient": {"id": "1001"},
            "timestamp": 1_700_000_000_123i64,
            "message": {"mid": "m_abc", "text": "Where is my order?"}
        }])),
    )
    .unwrap();
    assert_eq!(ev.len(), 1);
    let m = msg(&ev[0]);
    assert_eq!(m.identifier_kind, IdentifierKind::Messenger);
    assert_eq!(m.identifier, "6543210987654321");
    assert_eq!(m.provider_message_id, "m_abc");
    assert_eq!(m.body_text, "Where is my order?");
    assert_eq!(m.received_at, 1_700_000_000_123);
    assert!(m.media.is_empty() && m.meta.is_none());
}

#[test]
fn instagram_uses_its_own_object_and_kind() {
    let v = json!({"object": "instagram", "entry": [{"id": "17841400000000000", "time": 5, "messaging": [{
        "sender": {"id": "IGSID-1"}, "recipient": {"id": "17841400000000000"},
        "message": {"mid": "aWdfZAG1", "text": "hi", "reply_to": {"mid": "aWdfZAG0"}}
    }]}]});
    let ev = run(Product::Instagram, v.clone()).unwrap();
    let m = msg(&ev[0]);
    assert_eq!(m.identifier_kind, IdentifierKind::Instagram);
    assert_eq!(m.received_at, 5, "the entry's time when the event has none");
    assert_eq!(m.meta, Some(json!({"reply_to": "aWdfZAG0"})));
    assert!(run(Product::Messenger, v)
        .unwrap_err()
        .contains("takes \"page\""));
}

#[test]
fn attachments_become_media_or_words() {
    let ev = run(
        Product::Messenger,
        page(json!([{
            "sender": {"id": "42"}, "recipient": {"id": "1001"}, "timestamp": 7,
            "message": {"mid": "m_1", "attachments": [
                {"type": "image", "payload": {"url": "https://scontent.example/v/t1/photo_n.png?x=1"}},
                {"type": "audio", "payload": {"url": "https://cdn.example/a/clip"}},
                {"type": "file", "payload": {"url": "https://cdn.example/f/report.pdf"}},
                {"type": "video", "payload": {"url": "javascript:alert(1)"}},
                {"type": "location", "payload": {"coordinates": {"lat": 52.5, "long": 13.4}}},
                {"type": "fallback", "title": "Our shop", "payload": {"url": "https://shop.example/"}},
                {"type": "story_mention", "payload": {"url": "https://ig.example/s/1"}}
            ]}
        }])),
    )
    .unwrap();
    let m = msg(&ev[0]);
    let media: Vec<(&str, Option<&str>)> = m
        .media
        .iter()
        .map(|r| (r.locator.as_str(), r.content_type.as_deref()))
        .collect();
    assert_eq!(
        media,
        vec![
            (
                "https://scontent.example/v/t1/photo_n.png?x=1",
                Some("image/png")
            ),
            ("https://cdn.example/a/clip", Some("audio/mpeg")),
            ("https://cdn.example/f/report.pdf", Some("application/pdf")),
        ]
    );
    assert_eq!(
        m.body_text,
        "[video]\n[location 52.5, 13.4]\n[link Our shop https://shop.example/]\n[story mention https://ig.example/s/1]"
    );
}

#[test]
fn echoes_are_skipped_and_alone_are_ignored() {
    let echo = json!({
        "sender": {"id": "1001"}, "recipient": {"id": "42"}, "timestamp": 1,
        "message": {"is_echo": true, "app_id": 1517776481860111i64, "mid": "m_ours", "text": "our reply"}
    });
    let ev = run(Product::Messenger, page(json!([echo.clone()]))).unwrap();
    match &ev[..] {
        [InboundEvent::Ignored(why)] => assert!(why.contains("echo"), "{why}"),
        other => panic!("{other:?}"),
    }
    let ev = run(
        Product::Messenger,
        page(json!([echo, {"sender": {"id": "42"}, "message": {"mid": "m_theirs", "text": "hi"}}])),
    )
    .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(msg(&ev[0]).provider_message_id, "m_theirs");
}

#[test]
fn deliveries_and_reads() {
    let ev = run(
        Product::Messenger,
        page(json!([
            {"sender": {"id": "42"}, "recipient": {"id": "1001"},
             "delivery": {"mids": ["m_a", "m_b"], "watermark": 1_458_668_856_253i64}},
            {"sender": {"id": "42"}, "recipient": {"id": "1001"}, "timestamp": 1_458_668_856_463i64,
             "read": {"watermark": 1_458_668_856_253i64}},
            {"sender": {"id": "42"}, "delivery": {"watermark": 5}}
        ])),
    )
    .unwrap();
    let delivered = |mid: &str| InboundEvent::Status {
        provider_message_id: mid.into(),
        state: DeliveryState::Delivered,
        reason: None,
    };
    assert_eq!(
        ev,
        vec![
            delivered("m_a"),
            delivered("m_b"),
            InboundEvent::ReadUpTo {
                identifier: "42".into(),
                watermark: 1_458_668_856_253
            },
        ]
    );
    let seen = json!({"object": "instagram", "entry": [{"id": "1", "time": 1, "messaging": [
        {"sender": {"id": "IGSID"}, "recipient": {"id": "1"}, "timestamp": 2, "read": {"mid": "aWdf"}}
    ]}]});
    assert_eq!(
        run(Product::Instagram, seen).unwrap(),
        vec![InboundEvent::Status {
            provider_message_id: "aWdf".into(),
            state: DeliveryState::Read,
            reason: None
        }]
    );
}

#[test]
fn several_entries_and_events_in_one_batch() {
    let v = json!({"object": "page", "entry": [
        {"id": "1001", "time": 1, "messaging": [
            {"sender": {"id": "1"}, "message": {"mid": "m_1", "text": "one"}},
            {"sender": {"id": "2"}, "message": {"mid": "m_2", "text": "two"}}
        ]},
        {"id": "1001", "time": 2, "messaging": [
            {"sender": {"id": "3"}, "postback": {"title": "Start", "payload": "GET_STARTED"}},
            {"sender": {"id": "3"}, "message": {"mid": "m_3", "text": "three"}}
        ]}
    ]});
    let ev = run(Product::Messenger, v).unwrap();
    let ids: Vec<_> = ev
        .iter()
        .map(|e| msg(e).provider_message_id.clone())
        .collect();
    assert_eq!(ids, ["m_1", "m_2", "m_3"]);
}

#[test]
fn unknown_events_alone_are_ignored_with_what_they_were() {
    let ev = run(
        Product::Messenger,
        page(json!([{"sender": {"id": "3"}, "reaction": {"mid": "m_1", "action": "react", "emoji": "❤"}}])),
    )
    .unwrap();
    match &ev[..] {
        [InboundEvent::Ignored(why)] => assert!(why.contains("\"reaction\""), "{why}"),
        other => panic!("{other:?}"),
    }
    let empty = run(Product::Messenger, json!({"object": "page", "entry": []})).unwrap();
    assert!(matches!(&empty[..], [InboundEvent::Ignored(_)]));
}

#[test]
fn broken_events_are_errors_in_words() {
    for (events, words) in [
        (
            json!([{"sender": {"id": "1"}, "message": {"text": "no mid"}}]),
            "has no mid",
        ),
        (
            json!([{"message": {"mid": "m", "text": "no sender"}}]),
            "has no sender.id",
        ),
        (json!([7]), "messaging[0] is not an object"),
        (
            json!([{"sender": {"id": "1"}, "message": "x"}]),
            "message is not an object",
        ),
        (
            json!([{"sender": {"id": "1"}, "message": {"mid": "m", "attachments": {}}}]),
            "attachments is not an array",
        ),
        (
            json!([{"sender": {"id": "1"}, "delivery": {"mids": [{}]}}]),
            "non-id",
        ),
        (json!({}), "messaging is not an array"),
    ] {
        let err = run(Product::Messenger, page(events)).unwrap_err();
        assert!(err.contains(words), "{err} / {words}");
    }
    assert!(
        run(Product::Messenger, json!({"object": "page", "entry": [1]}))
            .unwrap_err()
            .contains("entry[0]")
    );
}

#[test]
fn types_are_guessed() {
    assert_eq!(guess_type("image", "https://x/a.JPG"), "image/jpeg");
    assert_eq!(guess_type("audio", "https://x/a.mp4?y"), "audio/mp4");
    assert_eq!(guess_type("video", "https://x/a.mp4"), "video/mp4");
    assert_eq!(
        guess_type("file", "https://x/a"),
        "application/octet-stream"
    );
    assert!(
        is_http("HTTPS://x")
            && is_http("http://x")
            && !is_http("file:///etc/passwd")
            && !is_http("ht")
    );
}

proptest::proptest! {
    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = parse(Product::Messenger, &bytes, 0);
    }

    #[test]
    fn never_panics_on_json_ish(s in r#"\{"object":"(page|instagram)","entry":\[(\{"messaging":\[(\{("sender":\{"id":("1"|1|null)\},?)?("message":\{("mid":"m",?)?("text":(1|"t"),?)?("is_echo":true,?)?("attachments":\[(\{"type":"(image|location|x)","payload":(\{"url":"https://a"\}|null|1)\},?)*\])?\}|"read":\{"watermark":("1"|1)\}|"delivery":\{"mids":(\["m"\]|1)\})?\},?){0,3}\]\},?){0,2}\]\}"#) {
        let _ = parse(Product::Messenger, s.as_bytes(), 0);
        let _ = parse(Product::Instagram, s.as_bytes(), 0);
    }
}
