//! Turns one stored raw email into inbound events: a message for the customer's conversation,
//! a bounce that fails the outbound message it refers to, or nothing (our own mail).

use super::parse::{self, AutoKind, Limits, ParsedEmail};
use crate::channels::{ParseError, Receiver};
use app::domain::{DeliveryState, IdentifierKind};
use app::ports::InboundEvent;
use app::ports::RawInbound;
use app::ports::{InboundMessage, NewAttachment, ThreadHints};
use app::store::channel_accounts::AccountRow;
use serde_json::json;

pub struct EmailReceiver {
    key: Vec<u8>,
    limits: Limits,
}

impl EmailReceiver {
    pub fn new(secret_key: &str) -> EmailReceiver {
        EmailReceiver {
            key: secret_key.as_bytes().to_vec(),
            limits: Limits::default(),
        }
    }
}

/// Mail dated within this long before arrival counts as arriving as it was written.
const RECENT_MS: i64 = 15 * 60 * 1000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn same_address(a: &str, b: &str) -> bool {
    let n = |s: &str| IdentifierKind::Email.normalize(s).ok();
    match (n(a), n(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

impl Receiver for EmailReceiver {
    fn parse(
        &self,
        account: &AccountRow,
        raw: &RawInbound,
    ) -> Result<Vec<InboundEvent>, ParseError> {
        let p = parse::parse(&raw.payload, &self.limits).map_err(|e| ParseError(e.0))?;
        if let Some(b) = &p.bounce {
            return Ok(match &b.original_message_id {
                Some(orig) if b.action == "failed" => vec![InboundEvent::Status {
                    provider_message_id: format!("mid:{orig}"),
                    state: DeliveryState::Failed,
                    reason: Some(format!(
                        "bounced{}: {}",
                        b.recipient
                            .as_deref()
                            .map(|r| format!(" by {r}"))
                            .unwrap_or_default(),
                        b.reason
                    )),
                }],
                Some(_) => vec![InboundEvent::Ignored(format!(
                    "delivery report ({}) for one of our messages",
                    b.action
                ))],
                None => vec![InboundEvent::Ignored(
                    "a delivery report that names no message of ours".into(),
                )],
            });
        }
        let Some(from) = p.from.clone().or_else(|| p.reply_to.clone()) else {
            return Err(ParseError("the message has no From address".into()));
        };
        if same_address(&from.address, &account.address) {
            return Ok(vec![InboundEvent::Ignored(
                "sent from our own address".into(),
            )]);
        }
        Ok(vec![InboundEvent::Message(Box::new(self.message(
            raw,
            p,
            from.address,
            from.name,
        )))])
    }
}

impl EmailReceiver {
    fn message(
        &self,
        raw: &RawInbound,
        p: ParsedEmail,
        from: String,
        name: Option<String>,
    ) -> InboundMessage {
        let now = now_ms();
        // Old mail (an import, a delayed message) is placed by its Date header; mail that
        // arrives as it is written is placed at arrival, so a quick answer never sorts before
        // the reply it answers (Date has whole seconds and the sender's clock).
        let at = p
            .date
            .filter(|d| *d > 0 && *d < now - RECENT_MS)
            .unwrap_or(now);
        let token_conversation = p
            .recipients
            .iter()
            .find_map(|r| super::token::verify(r, &self.key));
        let mut refs = p.in_reply_to.clone();
        refs.extend(p.references.iter().rev().cloned());
        refs.dedup();
        let auto = p.auto.as_ref().map(|a| match a {
            AutoKind::AutoReply => "auto-reply",
            AutoKind::Bulk => "bulk",
            AutoKind::Bounce => "bounce",
        });
        let meta = json!({
            "references": p.references,
            "in_reply_to": p.in_reply_to,
            "to": p.recipients.iter().take(20).collect::<Vec<_>>(),
            "auto": auto,
            "truncated": p.truncated,
            "reply_to": p.reply_to.as_ref().map(|m| m.address.clone()),
        });
        InboundMessage {
            identifier_kind: IdentifierKind::Email,
            identifier: from,
            display_name: name,
            provider_message_id: parse::dedupe_key(&raw.payload),
            subject: p.subject,
            body_text: p.text,
            body_html: p.html,
            received_at: at,
            thread: ThreadHints {
                rfc_message_id: p.message_id,
                refs,
                token_conversation,
            },
            automatic: p.auto.is_some(),
            meta: Some(meta),
            attachments: p
                .attachments
                .into_iter()
                .map(|a| NewAttachment {
                    filename: a.filename,
                    content_type: a.content_type,
                    content_id: a.content_id,
                    data: a.data,
                })
                .collect(),
            media: Vec::new(),
        }
    }
}
