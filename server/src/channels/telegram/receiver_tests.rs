use super::*;
use proptest::prelude::*;

fn parse(v: Value) -> Result<InboundEvent, ParseError> {
    parse_update(v.to_string().as_bytes(), 777)
}

fn message(v: Value) -> InboundMessage {
    match parse(v) {
        Ok(InboundEvent::Message(m)) => *m,
        other => panic!("not a message: {other:?}"),
    }
}

fn ignored(v: Value) -> String {
    match parse(v) {
        Ok(InboundEvent::Ignored(why)) => why,
        other => panic!("not ignored: {other:?}"),
    }
}

fn private(extra: Value) -> Value {
    let mut m = json!({
        "message_id": 11,
        "from": {"id": 5001, "is_bot": false, "first_name": "Ada", "last_name": "Lovelace", "username": "ada", "language_code": "en"},
        "chat": {"id": 5001, "first_name": "Ada", "last_name": "Lovelace", "username": "ada", "type": "private"},
        "date": 1_700_000_000
    });
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    m
}

#[test]
fn a_private_text_message_is_a_customer_message() {
    let m = message(json!({"update_id": 9, "message": private(json!({"text": "Hello bot"}))}));
    assert_eq!(m.identifier_kind, IdentifierKind::Telegram);
    assert_eq!(m.identifier, "5001");
    assert_eq!(m.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(m.provider_message_id, "5001:11");
    assert_eq!(m.received_at, 1_700_000_000_000);
    assert_eq!(m.body_text, "Hello bot");
    assert_eq!(m.meta, Some(json!({"username": "ada", "update_id": 9})));
    assert!(m.media.is_empty() && m.attachments.is_empty() && !m.automatic);
}

#[test]
fn names_fall_back_to_the_username() {
    let from = json!({"id": 1, "first_name": " ", "username": "bob"});
    let m =
        message(json!({"update_id": 1, "message": private(json!({"from": from, "text": "x"}))}));
    assert_eq!(m.display_name.as_deref(), Some("@bob"));
    let m = message(
        json!({"update_id": 1, "message": private(json!({"from": {"id": 1, "first_name": "Cy"}, "text": "x"}))}),
    );
    assert_eq!(m.display_name.as_deref(), Some("Cy"));
    assert_eq!(m.meta.unwrap()["username"], Value::Null);
    let m = message(
        json!({"update_id": 1, "message": private(json!({"from": {"id": 1}, "text": "x"}))}),
    );
    assert_eq!(m.display_name, None);
}

#[test]
fn the_chat_names_the_sender_when_from_is_missing() {
    let mut msg = private(json!({"text": "x"}));
    msg.as_object_mut().unwrap().remove("from");
    let m = message(json!({"update_id": 1, "message": msg}));
    assert_eq!(m.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(m.identifier, "5001");
}

#[test]
fn a_photo_with_a_caption_is_a_message_with_media() {
    let m = message(json!({"update_id": 3, "message": private(json!({
        "caption": "my receipt",
        "photo": [
            {"file_id": "AgAD-small", "file_unique_id": "s", "file_size": 900, "width": 90, "height": 67},
            {"file_id": "AgAD-large", "file_unique_id": "l", "file_size": 64000, "width": 1280, "height": 960}
        ]
    }))}));
    assert_eq!(m.body_text, "my receipt");
    assert_eq!(m.media.len(), 1);
    assert_eq!(m.media[0].locator, "AgAD-large");
    assert_eq!(m.media[0].content_type.as_deref(), Some("image/jpeg"));
}

#[test]
fn a_document_keeps_its_name_and_type() {
    let m = message(json!({"update_id": 3, "message": private(json!({
        "document": {"file_id": "BQAD", "file_unique_id": "u", "file_name": "order.pdf", "mime_type": "application/pdf", "file_size": 1234}
    }))}));
    assert_eq!(m.body_text, "");
    assert_eq!(m.media[0].filename.as_deref(), Some("order.pdf"));
    assert_eq!(m.media[0].content_type.as_deref(), Some("application/pdf"));
}

#[test]
fn locations_and_contacts_are_readable_text() {
    let m = message(
        json!({"update_id": 4, "message": private(json!({"location": {"latitude": 48.8584, "longitude": 2.2945}}))}),
    );
    assert!(
        m.body_text.starts_with("Location: 48.858400, 2.294500"),
        "{}",
        m.body_text
    );
    let m = message(
        json!({"update_id": 5, "message": private(json!({"contact": {"phone_number": "+33123456789", "first_name": "Jean"}}))}),
    );
    assert_eq!(m.body_text, "Contact: Jean, +33123456789");
}

#[test]
fn an_edit_is_a_new_message_marked_edited() {
    let m = message(json!({"update_id": 6, "edited_message": private(json!({
        "text": "Hello, corrected", "edit_date": 1_700_000_100,
        "photo": [{"file_id": "again", "file_size": 10}]
    }))}));
    assert_eq!(m.provider_message_id, "5001:11:edit:1700000100");
    assert_eq!(m.body_text, "(edited) Hello, corrected");
    assert_eq!(m.received_at, 1_700_000_100_000);
    assert!(m.media.is_empty(), "the file came with the original");
}

#[test]
fn groups_channels_and_other_updates_are_ignored_with_a_reason() {
    let group = json!({"update_id": 7, "message": {
        "message_id": 1, "from": {"id": 1, "first_name": "A"},
        "chat": {"id": -100123, "title": "Fans", "type": "supergroup"}, "date": 1, "text": "hi all"}});
    let why = ignored(group);
    assert!(
        why.contains("supergroup") && why.contains("Fans") && why.contains("private"),
        "{why}"
    );
    let why = ignored(
        json!({"update_id": 8, "message": {"message_id": 1, "chat": {"id": -5, "type": "group"}, "date": 1, "text": "x"}}),
    );
    assert!(why.contains("group"), "{why}");
    assert!(ignored(json!({"update_id": 9, "channel_post": {"message_id": 1, "chat": {"id": -1, "type": "channel"}}})).contains("channel"));
    assert!(
        ignored(json!({"update_id": 9, "callback_query": {"id": "1", "data": "x"}}))
            .contains("button press")
    );
    assert!(ignored(json!({"update_id": 9, "my_chat_member": {}})).contains("membership"));
    assert!(ignored(json!({"update_id": 9, "something_new": {}})).contains("something_new"));
    assert!(ignored(json!({"update_id": 9})).contains("nothing"));
}

#[test]
fn malformed_updates_are_errors_in_words() {
    let err = |body: &[u8]| parse_update(body, 0).unwrap_err().0;
    assert!(err(b"{").contains("not JSON"));
    assert!(err(b"[]").contains("not a JSON object"));
    assert!(err(br#"{"update_id":"1","message":{}}"#).contains("update_id"));
    let e = |v: Value| parse(v).unwrap_err().0;
    assert!(e(json!({"update_id": 1, "message": "hi"})).contains("not a JSON object"));
    assert!(
        e(json!({"update_id": 1, "message": {"message_id": 1, "text": "x"}})).contains("no chat")
    );
    assert!(
        e(json!({"update_id": 1, "message": {"chat": {"id": "x", "type": "private"}}}))
            .contains("chat has no integer id")
    );
    assert!(e(
        json!({"update_id": 1, "message": {"chat": {"id": 1, "type": "private"}, "text": "x"}})
    )
    .contains("message_id"));
    assert!(e(json!({"update_id": 1, "edited_message": {"message_id": 1, "chat": {"id": 1, "type": "private"}}})).contains("edit_date"));
}

#[test]
fn a_message_without_a_date_takes_the_storage_time() {
    let mut msg = private(json!({"text": "x"}));
    msg.as_object_mut().unwrap().remove("date");
    assert_eq!(
        message(json!({"update_id": 1, "message": msg})).received_at,
        777
    );
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "[a-z_ ]{0,8}".prop_map(Value::String),
        prop_oneof![
            Just("private"),
            Just("group"),
            Just("message"),
            Just("photo")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("update_id".to_string()),
                    Just("message".to_string()),
                    Just("edited_message".to_string()),
                    Just("chat".to_string()),
                    Just("id".to_string()),
                    Just("type".to_string()),
                    Just("from".to_string()),
                    Just("message_id".to_string()),
                    Just("photo".to_string()),
                    Just("file_id".to_string()),
                    Just("file_size".to_string()),
                    Just("document".to_string()),
                    Just("sticker".to_string()),
                    Just("location".to_string()),
                    Just("edit_date".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every outcome says something: an error or an ignore reason in words, a message with its ids.
fn check(r: Result<InboundEvent, ParseError>) -> Result<(), TestCaseError> {
    match r {
        Err(e) => prop_assert!(e.0.len() > 10, "{e:?}"),
        Ok(InboundEvent::Ignored(why)) => prop_assert!(why.len() > 10, "{why:?}"),
        Ok(InboundEvent::Message(m)) => {
            prop_assert!(m.provider_message_id.contains(':'));
            prop_assert!(m.identifier.parse::<i64>().is_ok());
        }
        Ok(other) => prop_assert!(false, "unexpected event {other:?}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_json_is_parsed_or_refused_in_words(v in arb_json(), id in any::<i64>(), private_chat in any::<bool>()) {
        check(parse(v.clone()))?;
        // The same shapes inside a well-formed envelope reach the deeper code paths.
        let mut msg = v;
        if let Value::Object(m) = &mut msg {
            if private_chat {
                m.insert("chat".into(), json!({"id": id, "type": "private"}));
            }
        }
        check(parse(json!({"update_id": id, "message": msg.clone()})))?;
        check(parse(json!({"update_id": id, "edited_message": msg})))?;
    }

    #[test]
    fn arbitrary_bytes_are_parsed_or_refused_in_words(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check(parse_update(&bytes, 0))?;
    }
}
