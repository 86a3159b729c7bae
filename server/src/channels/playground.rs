//! The playground channel: plays the customer's side of every channel kind inside the app, so
//! the product can be tried with no provider account. Inbound payloads are JSON written by the
//! playground page; outbound messages are "delivered" to that page at once.

use super::{ParseError, Receiver, SendError, Sender, Sent};
use app::domain::DeliveryState;
use app::ports::InboundEvent;
use app::ports::InboundMessage;
use app::ports::Outbound;
use app::ports::RawInbound;
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;
use serde::Deserialize;

pub struct Playground;

#[derive(Deserialize)]
struct Payload {
    id: String,
    from: String,
    #[serde(default)]
    name: String,
    text: String,
    at: i64,
}

impl Receiver for Playground {
    fn parse(
        &self,
        account: &AccountRow,
        raw: &RawInbound,
    ) -> Result<Vec<InboundEvent>, ParseError> {
        let p: Payload = serde_json::from_slice(&raw.payload)
            .map_err(|e| ParseError(format!("playground payload is not valid: {e}")))?;
        Ok(vec![InboundEvent::Message(Box::new(InboundMessage {
            identifier_kind: account.channel.identifier_kind(),
            identifier: p.from,
            display_name: Some(p.name).filter(|n| !n.trim().is_empty()),
            provider_message_id: p.id,
            subject: None,
            body_text: p.text,
            body_html: None,
            received_at: p.at,
            thread: Default::default(),
            automatic: false,
            meta: None,
            attachments: Vec::new(),
            media: Vec::new(),
        }))])
    }
}

#[async_trait]
impl Sender for Playground {
    async fn send(&self, _account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError> {
        if msg.body_text.trim().is_empty() {
            return Err(SendError::Permanent("empty message".into()));
        }
        Ok(Sent {
            provider_message_id: format!("pg-out-{}", msg.message_id),
            state: DeliveryState::Delivered,
            rfc_message_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{ChannelKind, IdentifierKind};

    fn account(channel: ChannelKind) -> AccountRow {
        AccountRow {
            id: 1,
            channel,
            provider: "playground".into(),
            name: "P".into(),
            address: String::new(),
            settings: "{}".into(),
            secrets: "{}".into(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        }
    }

    fn raw(body: &str) -> RawInbound {
        RawInbound {
            id: 1,
            channel_account_id: 1,
            content_type: "application/json".into(),
            payload: body.as_bytes().to_vec(),
            attempts: 0,
            received_at: 0,
        }
    }

    #[test]
    fn parses_a_customer_message_for_the_accounts_channel() {
        let ev = Playground
            .parse(
                &account(ChannelKind::Sms),
                &raw(r#"{"id":"pg-1","from":"+1 555 010 2000","name":"Kim","text":"hi","at":5}"#),
            )
            .unwrap();
        let InboundEvent::Message(m) = &ev[0] else {
            panic!("not a message")
        };
        assert_eq!(m.identifier_kind, IdentifierKind::Phone);
        assert_eq!(m.identifier, "+1 555 010 2000");
        assert_eq!(m.display_name.as_deref(), Some("Kim"));
        assert_eq!(m.provider_message_id, "pg-1");
        assert_eq!(m.received_at, 5);
    }

    #[test]
    fn malformed_payloads_are_errors_not_panics() {
        for body in [
            "",
            "{",
            "[]",
            r#"{"id":1}"#,
            "\u{0}\u{1}",
            r#"{"id":"x","from":"a","text":"t"}"#,
        ] {
            assert!(
                Playground
                    .parse(&account(ChannelKind::Email), &raw(body))
                    .is_err(),
                "{body:?}"
            );
        }
    }
}
