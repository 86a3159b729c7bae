//! Sending a reply with `sendMessage`. Telegram's synchronous answer is the delivery report:
//! the message is in the customer's chat once it says `ok`, so it is `Delivered` at once.

use super::api::{self, ApiFailure};
use crate::channels::{SendError, Sender, Sent};
use app::domain::DeliveryState;
use app::ports::Outbound;
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;
use serde_json::{json, Value};

/// The longest text `sendMessage` takes.
pub const MAX_TEXT_CHARS: usize = 4096;

pub struct TelegramSender {
    pub client: reqwest::Client,
}

#[async_trait]
impl Sender for TelegramSender {
    async fn send(&self, account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError> {
        let params = request(msg)?;
        let result = api::call(&self.client, account, "sendMessage", &params)
            .await
            .map_err(send_error)?;
        Ok(sent(&result, msg))
    }
}

/// The `sendMessage` parameters for `msg`, or why it cannot be sent.
pub fn request(msg: &Outbound) -> Result<Value, SendError> {
    if !msg.files.is_empty() {
        return Err(SendError::Permanent(
            "sending files on Telegram is not supported yet; send the text without them".into(),
        ));
    }
    let text = msg.body_text.trim();
    if text.is_empty() {
        return Err(SendError::Permanent("the message is empty".into()));
    }
    let n = text.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(SendError::Permanent(format!(
            "Telegram takes at most {MAX_TEXT_CHARS} characters in one message; this one has {n}"
        )));
    }
    let to = msg.to.trim();
    if to.is_empty() {
        return Err(SendError::Permanent(
            "the recipient has no Telegram chat id".into(),
        ));
    }
    // A chat id is an integer; `@channelname` strings are taken as well.
    let chat_id = to
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(to));
    Ok(json!({"chat_id": chat_id, "text": text}))
}

/// A Bot API failure as the outbox sees it.
pub fn send_error(f: ApiFailure) -> SendError {
    if matches!(f, ApiFailure::Lost(_)) {
        // The Bot API cannot be asked whether a message went out: never sent again blindly.
        SendError::Unknown(f.words())
    } else if f.is_temporary() {
        SendError::Temporary(f.words())
    } else {
        SendError::Permanent(f.words())
    }
}

/// The sent `Message` as our delivery record: `<chat id>:<message_id>`, delivered.
pub fn sent(result: &Value, msg: &Outbound) -> Sent {
    let to = msg.to.trim();
    let chat_id = result
        .get("chat")
        .and_then(|c| c.get("id"))
        .and_then(Value::as_i64)
        .map(|c| c.to_string())
        .unwrap_or_else(|| to.to_string());
    match result.get("message_id").and_then(Value::as_i64) {
        Some(message_id) => Sent {
            provider_message_id: format!("{chat_id}:{message_id}"),
            state: DeliveryState::Delivered,
            rfc_message_id: None,
        },
        // Telegram said ok without a Message: it took the text, and sending again would
        // duplicate it. Kept as sent (unconfirmed) under an id of ours.
        None => Sent {
            provider_message_id: format!("{chat_id}:ours-{}", msg.message_id),
            state: DeliveryState::Sent,
            rfc_message_id: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ChannelKind;
    use app::ports::OutboundFile;

    fn outbound(to: &str, text: &str) -> Outbound {
        Outbound {
            message_id: 1,
            conversation_id: 1,
            channel: ChannelKind::Telegram,
            account_id: 1,
            to: to.into(),
            subject: None,
            body_text: text.into(),
            reply: Default::default(),
            files: vec![],
            last_inbound_at: None,
            identifier_id: 1,
            recipient_label: String::new(),
            customer_id: 1,
            automatic: false,
            campaign: None,
        }
    }

    #[test]
    fn the_request_names_the_chat_and_the_text() {
        assert_eq!(
            request(&outbound("5001", " Hello ")).unwrap(),
            json!({"chat_id": 5001, "text": "Hello"})
        );
        assert_eq!(
            request(&outbound("-100200", "x")).unwrap()["chat_id"],
            json!(-100200)
        );
        assert_eq!(
            request(&outbound("@acme", "x")).unwrap()["chat_id"],
            json!("@acme")
        );
    }

    #[test]
    fn what_telegram_cannot_take_is_refused_before_sending() {
        let long = "é".repeat(MAX_TEXT_CHARS + 1);
        match request(&outbound("1", &long)) {
            Err(SendError::Permanent(w)) => {
                assert!(w.contains("4096") && w.contains("4097"), "{w}")
            }
            other => panic!("{other:?}"),
        }
        assert!(request(&outbound("1", &"é".repeat(MAX_TEXT_CHARS))).is_ok());
        assert!(matches!(
            request(&outbound("1", "  ")),
            Err(SendError::Permanent(_))
        ));
        assert!(matches!(
            request(&outbound(" ", "x")),
            Err(SendError::Permanent(_))
        ));
        let mut with_file = outbound("1", "see attached");
        with_file.files.push(OutboundFile {
            filename: "a.pdf".into(),
            content_type: "application/pdf".into(),
            data: vec![1],
        });
        match request(&with_file) {
            Err(SendError::Permanent(w)) => assert!(w.contains("not supported yet"), "{w}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_map_to_retries_or_final_failures() {
        let refused = |code: u16, d: &str, retry_after| ApiFailure::Refused {
            code,
            description: d.into(),
            retry_after,
        };
        match send_error(refused(429, "Too Many Requests: retry after 5", Some(5))) {
            SendError::Temporary(w) => assert!(w.contains("wait 5 s"), "{w}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            send_error(refused(502, "Bad Gateway", None)),
            SendError::Temporary(_)
        ));
        assert!(matches!(
            send_error(ApiFailure::Network("no answer in time".into())),
            SendError::Temporary(_)
        ));
        assert_eq!(
            send_error(refused(403, "Forbidden: bot was blocked by the user", None)),
            SendError::Permanent(
                "Telegram answered 403: Forbidden: bot was blocked by the user".into()
            )
        );
        assert!(
            matches!(send_error(refused(400, "Bad Request: chat not found", None)), SendError::Permanent(w) if w.contains("chat not found"))
        );
        assert!(
            matches!(send_error(ApiFailure::NoToken), SendError::Permanent(w) if w.contains("bot token"))
        );
    }

    #[test]
    fn the_answer_is_a_delivered_message() {
        let r = json!({"message_id": 42, "from": {"id": 1, "is_bot": true}, "chat": {"id": 5001, "type": "private"}, "date": 1, "text": "x"});
        assert_eq!(
            sent(&r, &outbound("5001", "x")),
            Sent {
                provider_message_id: "5001:42".into(),
                state: DeliveryState::Delivered,
                rfc_message_id: None
            }
        );
        assert_eq!(
            sent(&json!({"message_id": 3}), &outbound(" 77 ", "x")).provider_message_id,
            "77:3"
        );
        let odd = sent(&json!(true), &outbound("9", "x"));
        assert_eq!(
            (odd.provider_message_id.as_str(), odd.state),
            ("9:ours-1", DeliveryState::Sent)
        );
    }
}
