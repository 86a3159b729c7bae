use super::*;

fn batch(value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"value": value, "field": "messages"}
    ]}]})
}

fn value(messages: Value) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": messages
    })
}

fn run(v: Value) -> Result<Vec<InboundEvent>, String> {
    parse(v.to_string().as_bytes(), 99)
}

fn only_message(v: Value) -> InboundMessage {
    match run(v).unwrap().as_slice() {
        [InboundEvent::Message(m)] => (**m).clone(),
        other => panic!("{other:?}"),
    }
}

fn one(m: Value) -> InboundMessage {
    only_message(batch(value(json!([m]))))
}

#[test]
fn a_text_message_from_the_docs() {
    let m = one(json!({
        "from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "timestamp": "1749416383", "type": "text", "text": {"body": "Does it come in another color?"}
    }));
    assert_eq!(m.identifier_kind, IdentifierKind::Whatsapp);
    assert_eq!(m.identifier, "+16505551234");
    assert_eq!(m.display_name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(
        m.provider_message_id,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
    assert_eq!(m.received_at, 1_749_416_383_000);
    assert_eq!(m.body_text, "Does it come in another color?");
}

#[test]
fn files_are_media_ids_with_their_caption() {
    let m = one(json!({
        "from": "16505551234", "id": "wamid.2", "timestamp": "1", "type": "image",
        "image": {"caption": "the broken part", "mime_type": "image/jpeg", "sha256": "dY3K=", "id": "1003383421387256"}
    }));
    assert_eq!(m.body_text, "the broken part");
    assert_eq!(
        m.media,
        vec![MediaRef {
            locator: "1003383421387256".into(),
            content_type: Some("image/jpeg".into()),
            filename: None
        }]
    );
    let d = one(json!({
        "from": "16505551234", "id": "wamid.3", "timestamp": "1", "type": "document",
        "document": {"filename": "invoice.pdf", "mime_type": "application/pdf", "id": "77"}
    }));
    assert_eq!(d.media[0].filename.as_deref(), Some("invoice.pdf"));
    assert_eq!(d.body_text, "");
    for ty in ["audio", "video", "sticker"] {
        let m = one(
            json!({"from": "1", "id": "w", "timestamp": "1", "type": ty, ty: {"id": "5", "mime_type": "x/y"}}),
        );
        assert_eq!(m.media.len(), 1, "{ty}");
    }
    let lost = one(json!({"from": "1", "id": "w", "timestamp": "1", "type": "image", "image": {}}));
    assert!(lost.media.is_empty());
    assert_eq!(lost.body_text, "[image without a media id]");
}

#[test]
fn other_kinds_become_short_notes() {
    let cases = [
        (
            json!({"type": "location", "location": {"latitude": 52.5, "longitude": 13.4, "name": "Office", "address": "Main St 1"}}),
            "[location 52.5, 13.4: Office, Main St 1]",
        ),
        (
            json!({"type": "location", "location": {"latitude": "1.25", "longitude": -3}}),
            "[location 1.25, -3]",
        ),
        (
            json!({"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}}),
            "[reaction 👍]",
        ),
        (
            json!({"type": "reaction", "reaction": {"message_id": "wamid.x"}}),
            "[reaction removed]",
        ),
        (
            json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}}}),
            "[button: Yes]",
        ),
        (
            json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "l1", "title": "Blue", "description": "d"}}}),
            "[list choice: Blue]",
        ),
        (
            json!({"type": "button", "button": {"payload": "P", "text": "Stop promotions"}}),
            "[button: Stop promotions]",
        ),
        (
            json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Jane Doe"}, "phones": [{"phone": "+1 555 0100", "type": "CELL"}]}]}),
            "[contact Jane Doe +1 555 0100]",
        ),
        (
            json!({"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]}),
            "[a message WhatsApp cannot show here: Message type unknown]",
        ),
        (json!({"type": "order", "order": {}}), "[order message]"),
    ];
    for (mut m, want) in cases {
        m["from"] = json!("16505551234");
        m["id"] = json!("wamid.n");
        m["timestamp"] = json!("1");
        assert_eq!(one(m).body_text, want);
    }
    let r = one(
        json!({"from": "1", "id": "w", "type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "❤"}}),
    );
    assert_eq!(r.meta, Some(json!({"reaction_to": "wamid.x"})));
    assert_eq!(r.received_at, 99, "no timestamp: when we stored it");
}

#[test]
fn statuses_with_failures_in_words() {
    let v = batch(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [
            {"id": "wamid.a", "status": "sent", "timestamp": "1750263773", "recipient_id": "16505551234",
             "conversation": {"id": "c", "origin": {"type": "service"}}, "pricing": {"billable": true, "pricing_model": "CBP", "category": "service"}},
            {"id": "wamid.a", "status": "delivered", "timestamp": "1750263774", "recipient_id": "16505551234"},
            {"id": "wamid.b", "status": "failed", "timestamp": "1750263775", "recipient_id": "16505551234",
             "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                         "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
                         "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]},
            {"id": "wamid.c", "status": "deleted", "timestamp": "1", "recipient_id": "1"}
        ]
    }));
    let ev = run(v).unwrap();
    assert_eq!(ev.len(), 3);
    assert_eq!(
        ev[0],
        InboundEvent::Status {
            provider_message_id: "wamid.a".into(),
            state: DeliveryState::Sent,
            reason: None
        }
    );
    assert_eq!(
        ev[1],
        InboundEvent::Status {
            provider_message_id: "wamid.a".into(),
            state: DeliveryState::Delivered,
            reason: None
        }
    );
    match &ev[2] {
        InboundEvent::Status {
            provider_message_id,
            state: DeliveryState::Failed,
            reason: Some(r),
        } => {
            assert_eq!(provider_message_id, "wamid.b");
            assert!(r.starts_with("WhatsApp error 131047: Re-engagement message (Message failed to send because more than 24 hours"), "{r}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_batch_holds_messages_and_statuses() {
    let mut v = value(json!([
        {"from": "16505551234", "id": "wamid.m1", "timestamp": "10", "type": "text", "text": {"body": "one"}},
        {"from": "4915123456789", "id": "wamid.m2", "timestamp": "11", "type": "text", "text": {"body": "two"}}
    ]));
    v["statuses"] = json!([{"id": "wamid.out", "status": "read", "timestamp": "12", "recipient_id": "16505551234"}]);
    let ev = run(batch(v)).unwrap();
    assert_eq!(ev.len(), 3);
    let InboundEvent::Message(b) = &ev[1] else {
        panic!()
    };
    assert_eq!(
        (b.identifier.as_str(), b.display_name.as_deref()),
        ("+4915123456789", None)
    );
    assert!(matches!(
        &ev[2],
        InboundEvent::Status {
            state: DeliveryState::Read,
            ..
        }
    ));
}

#[test]
fn other_fields_and_error_reports_are_ignored_in_words() {
    let v = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}},
        {"field": "messages", "value": {"messaging_product": "whatsapp", "errors": [{"code": 130429, "title": "Rate limit hit", "error_data": {"details": "Cloud API message throughput has been reached."}}]}}
    ]}]});
    match run(v).unwrap().as_slice() {
        [InboundEvent::Ignored(why)] => {
            assert!(why.contains("message_template_status_update"), "{why}");
            assert!(
                why.contains("WhatsApp error 130429: Rate limit hit"),
                "{why}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn broken_items_are_errors_in_words() {
    for (v, words) in [
        (
            batch(value(json!([{"id": "w", "type": "text"}]))),
            "messages[0] has no from",
        ),
        (
            batch(value(json!([{"from": "1", "type": "text"}]))),
            "messages[0] has no id",
        ),
        (batch(value(json!("x"))), "messages is not an array"),
        (
            batch(json!({"statuses": [{"status": "sent"}]})),
            "statuses[0] has no id",
        ),
        (
            batch(json!({"statuses": [{"id": "w"}]})),
            "statuses[0] has no status",
        ),
        (batch(json!([])), "value is not an object"),
        (
            json!({"object": "whatsapp_business_account", "entry": [{"changes": 1}]}),
            "changes is not an array",
        ),
        (
            json!({"object": "page", "entry": []}),
            "takes \"whatsapp_business_account\"",
        ),
    ] {
        let err = run(v).unwrap_err();
        assert!(err.contains(words), "{err} / {words}");
    }
}

proptest::proptest! {
    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = parse(&bytes, 0);
    }

    #[test]
    fn never_panics_on_json_ish(s in r#"\{"object":"whatsapp_business_account","entry":\[(\{"changes":\[(\{"field":("messages"|1),"value":\{("contacts":\[\{"wa_id":(1|"1"),"profile":\{"name":(1|"n")\}\}\],?)?("messages":\[(\{"from":("1"|1|"x"),"id":("w"|1),"timestamp":("99999999999999999999"|"-5"|1),"type":"(text|image|location|contacts|reaction|interactive|zz)","(text|image|location|contacts|reaction|interactive)":(\{("body"|"id"|"latitude"|"emoji"|"type"):(1|"a"|null|\[\])\}|\[1\]|null)\},?){0,2}\],?)?("statuses":\[\{"id":"w","status":"(failed|sent|x)","errors":(\[\{"code":"c"\}\]|1)\}\])?\}\},?){0,2}\]\},?){0,2}\]\}"#) {
        let _ = parse(s.as_bytes(), 0);
    }
}
