//! Reads a stored visitor message ([`VisitorPayload`]) into an inbound message: the visitor id
//! is the identifier (kind `chat`), the widget's message id the dedupe id. Pure; refuses what
//! the edge would never have stored rather than trusting it.

use super::{client_id_ok, VisitorPayload, PAYLOAD_TYPE};
use crate::channels::{ParseError, Receiver};
use app::domain::chat_settings::visitor_text;
use app::domain::IdentifierKind;
use app::ports::{InboundEvent, InboundMessage, RawInbound, ThreadHints};
use app::store::channel_accounts::AccountRow;

pub struct ChatReceiver;

impl Receiver for ChatReceiver {
    fn parse(
        &self,
        _account: &AccountRow,
        raw: &RawInbound,
    ) -> Result<Vec<InboundEvent>, ParseError> {
        if raw.content_type != PAYLOAD_TYPE {
            return Err(ParseError(format!(
                "a website chat payload was expected, not {}",
                raw.content_type
            )));
        }
        let p: VisitorPayload = serde_json::from_slice(&raw.payload)
            .map_err(|e| ParseError(format!("the chat payload is not readable: {e}")))?;
        if !client_id_ok(&p.client_id) {
            return Err(ParseError("the chat message has no valid id".into()));
        }
        let text = visitor_text(&p.text).map_err(ParseError)?;
        let display_name = p
            .name
            .as_deref()
            .map(|n| {
                app::domain::identifier::clean_label(
                    &n.split_whitespace().collect::<Vec<_>>().join(" "),
                )
            })
            .filter(|n| !n.is_empty());
        let meta = p
            .page
            .as_ref()
            .map(|page| serde_json::json!({ "page": app::domain::text::preview(page, 500) }));
        Ok(vec![InboundEvent::Message(Box::new(InboundMessage {
            identifier_kind: IdentifierKind::Chat,
            identifier: p.visitor,
            display_name,
            provider_message_id: p.client_id,
            subject: None,
            body_text: text,
            body_html: None,
            received_at: if p.at > 0 { p.at } else { raw.received_at },
            thread: ThreadHints::default(),
            automatic: false,
            meta,
            attachments: Vec::new(),
            media: Vec::new(),
        }))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ChannelKind;

    fn account() -> AccountRow {
        AccountRow {
            id: 3,
            channel: ChannelKind::Chat,
            provider: "chat".into(),
            name: "Website".into(),
            address: String::new(),
            settings: "{}".into(),
            secrets: "{}".into(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        }
    }

    fn raw(payload: &[u8], content_type: &str) -> RawInbound {
        RawInbound {
            id: 1,
            channel_account_id: 3,
            content_type: content_type.into(),
            payload: payload.to_vec(),
            attempts: 0,
            received_at: 1_700_000_000_000,
        }
    }

    #[test]
    fn a_visitor_message_becomes_an_inbound_message_of_the_visitor() {
        let p = VisitorPayload {
            visitor: "abcdefghijklmnopqrstuvwxyz".into(),
            client_id: "m-0001-abcd".into(),
            text: "  Hello <b>there</b>\u{7}  ".into(),
            at: 1_700_000_000_500,
            name: Some(" Ada\nLovelace ".into()),
            page: Some("https://shop.example.com/cart".into()),
        };
        let events = ChatReceiver
            .parse(
                &account(),
                &raw(&serde_json::to_vec(&p).unwrap(), PAYLOAD_TYPE),
            )
            .unwrap();
        let [InboundEvent::Message(m)] = events.as_slice() else {
            panic!("one message expected: {events:?}");
        };
        assert_eq!(m.identifier_kind, IdentifierKind::Chat);
        assert_eq!(m.identifier, "abcdefghijklmnopqrstuvwxyz");
        assert_eq!(m.provider_message_id, "m-0001-abcd");
        // Markup stays text; the bell character is gone.
        assert_eq!(m.body_text, "Hello <b>there</b>");
        assert_eq!(m.body_html, None);
        assert_eq!(m.display_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(m.received_at, 1_700_000_000_500);
        assert_eq!(
            m.meta.as_ref().and_then(|v| v["page"].as_str()),
            Some("https://shop.example.com/cart")
        );
    }

    #[test]
    fn payloads_the_edge_would_never_store_are_refused_in_words() {
        let ok = |id: &str, text: &str| {
            serde_json::to_vec(&serde_json::json!({
                "visitor": "abcdefghijklmnopqrstuvwxyz", "client_id": id, "text": text, "at": 1
            }))
            .unwrap()
        };
        for (payload, ct, words) in [
            (
                ok("m-0001-abcd", "hi"),
                "application/json",
                "website chat payload",
            ),
            (b"{not json".to_vec(), PAYLOAD_TYPE, "not readable"),
            (ok("short", "hi"), PAYLOAD_TYPE, "no valid id"),
            (ok("m-0001-abcd", "   "), PAYLOAD_TYPE, "Write a message"),
            (
                ok("m-0001-abcd", &"x".repeat(5000)),
                PAYLOAD_TYPE,
                "in parts",
            ),
        ] {
            let e = ChatReceiver
                .parse(&account(), &raw(&payload, ct))
                .unwrap_err();
            assert!(e.0.contains(words), "{words}: {}", e.0);
        }
    }
}
