//! The Send API. Messenger and Instagram: `POST {api_base}/{page_id}/messages` with the page
//! token, `messaging_type` RESPONSE inside 24 hours of the customer's last message and the
//! HUMAN_AGENT tag up to 7 days. WhatsApp: `POST {api_base}/{phone_number_id}/messages`
//! inside the 24-hour window (after it, only approved templates, which we do not send).
//! Tokens go in the Authorization header and are never logged.

use super::{api_base, credentials, graph, http_client, limit_words};
use crate::channels::{SendError, Sender, Sent};
use app::domain::window::{reply_window, ReplyWindow};
use app::domain::{ChannelKind, DeliveryState};
use app::ports::Outbound;
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;
use serde_json::{json, Value};

pub struct PageSender {
    client: reqwest::Client,
}

impl PageSender {
    pub fn new(client: reqwest::Client) -> PageSender {
        PageSender { client }
    }
}

pub struct WhatsappSender {
    client: reqwest::Client,
}

impl WhatsappSender {
    pub fn new(client: reqwest::Client) -> WhatsappSender {
        WhatsappSender { client }
    }
}

/// The request body for Messenger or Instagram, or why it may not go out at `now`.
pub fn page_body(msg: &Outbound, now: i64) -> Result<Value, SendError> {
    let label = match msg.channel {
        ChannelKind::Instagram => "Instagram",
        _ => "Messenger",
    };
    no_files(msg, label)?;
    let channel = match msg.channel {
        ChannelKind::Instagram => ChannelKind::Instagram,
        _ => ChannelKind::Messenger,
    };
    let mut body = json!({
        "recipient": {"id": msg.to},
        "messaging_type": "RESPONSE",
        "message": {"text": msg.body_text},
    });
    match reply_window(channel, msg.last_inbound_at, now) {
        ReplyWindow::Open { .. } | ReplyWindow::Always => {}
        ReplyWindow::HumanAgent { .. } => {
            body["messaging_type"] = json!("MESSAGE_TAG");
            body["tag"] = json!("HUMAN_AGENT");
        }
        ReplyWindow::Closed { .. } => {
            return Err(SendError::Permanent(format!(
                "Not sent: the customer {} — outside Messenger's 7-day human agent window. {label} only allows a reply within 7 days of the customer's last message; reply on another channel.",
                match msg.last_inbound_at {
                    Some(_) => "last wrote more than 7 days ago",
                    None => "has not written on this channel yet",
                }
            )))
        }
    }
    Ok(body)
}

/// The request body for WhatsApp, or why it may not go out at `now`.
pub fn whatsapp_body(msg: &Outbound, now: i64) -> Result<Value, SendError> {
    no_files(msg, "WhatsApp")?;
    let template = msg
        .campaign
        .as_ref()
        .and_then(|c| c.extra.template.as_ref());
    if template.is_none()
        && !reply_window(ChannelKind::Whatsapp, msg.last_inbound_at, now).allows_reply()
    {
        return Err(SendError::Permanent(
            "Not sent: the 24-hour window closed; WhatsApp needs an approved template to write to a customer who has not written in the last 24 hours. Reply on another channel, or wait for the customer to write.".into(),
        ));
    }
    let to: String = msg.to.chars().filter(char::is_ascii_digit).collect();
    if to.is_empty() {
        return Err(SendError::Permanent(format!(
            "{:?} is not a WhatsApp number.",
            msg.to
        )));
    }
    if let Some(t) = template {
        // An approved template (Cloud API `type: template`): allowed outside the window.
        let params: Vec<Value> = t
            .params
            .iter()
            .map(|p| json!({"type": "text", "text": p}))
            .collect();
        let mut template = json!({"name": t.name, "language": {"code": t.language}});
        if !params.is_empty() {
            template["components"] = json!([{"type": "body", "parameters": params}]);
        }
        return Ok(json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": template,
        }));
    }
    Ok(json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": false, "body": msg.body_text},
    }))
}

fn no_files(msg: &Outbound, label: &str) -> Result<(), SendError> {
    if msg.files.is_empty() {
        Ok(())
    } else {
        Err(SendError::Permanent(format!(
            "Sending files on {label} is not supported yet: send the text alone, or send the file on another channel."
        )))
    }
}

/// POSTs `body` to `{api_base}/{id}/messages` and returns the answer's JSON.
async fn post(
    client: &reqwest::Client,
    account: &AccountRow,
    body: &Value,
) -> Result<Value, SendError> {
    let (id, token) = credentials(account).map_err(SendError::Permanent)?;
    let url = format!("{}/{id}/messages", api_base(account));
    let resp = client
        .post(&url)
        .bearer_auth(&token)
        .json(body)
        .send()
        .await
        .map_err(|e| http_client::send_failure(&e))?;
    let status = resp.status();
    let bytes = match http_client::read_limited(resp, http_client::MAX_API_BYTES).await {
        Ok(b) => b,
        // The request went out: Meta may have the message, so it is not sent again blindly.
        Err(e) => {
            return Err(SendError::Unknown(format!(
                "Meta's answer could not be read: {}",
                limit_words(&e)
            )))
        }
    };
    if !status.is_success() {
        return Err(graph::send_error(status, &bytes));
    }
    serde_json::from_slice(&bytes).map_err(|_| {
        SendError::Unknown(format!(
            "Meta accepted the message but its answer could not be read ({}); it may have been sent.",
            http_client::not_the_api("Meta", &bytes)
        ))
    })
}

fn sent(id: Option<&str>) -> Result<Sent, SendError> {
    match id.filter(|s| !s.is_empty()) {
        Some(id) => Ok(Sent {
            provider_message_id: id.to_string(),
            state: DeliveryState::Sent,
            rfc_message_id: None,
        }),
        None => Err(SendError::Unknown(
            "Meta accepted the message but named no message id; it may have been sent.".into(),
        )),
    }
}

#[async_trait]
impl Sender for PageSender {
    async fn send(&self, account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError> {
        let body = page_body(msg, app::store::now_ms())?;
        let answer = post(&self.client, account, &body).await?;
        // {"recipient_id": "<PSID>", "message_id": "m_…"}
        sent(answer.get("message_id").and_then(Value::as_str))
    }
}

#[async_trait]
impl Sender for WhatsappSender {
    async fn send(&self, account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError> {
        let body = whatsapp_body(msg, app::store::now_ms())?;
        let answer = post(&self.client, account, &body).await?;
        // {"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid…"}]}
        sent(
            answer
                .get("messages")
                .and_then(|m| m.get(0))
                .and_then(|m| m.get("id"))
                .and_then(Value::as_str),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::window::DAY_MS;
    use app::ports::OutboundFile;

    const NOW: i64 = 1_750_000_000_000;

    fn outbound(channel: ChannelKind, to: &str, last: Option<i64>) -> Outbound {
        Outbound {
            message_id: 1,
            conversation_id: 1,
            channel,
            account_id: 1,
            to: to.into(),
            subject: None,
            body_text: "Your order ships today.".into(),
            reply: Default::default(),
            files: Vec::new(),
            last_inbound_at: last,
            identifier_id: 1,
            recipient_label: String::new(),
            customer_id: 1,
            automatic: false,
            campaign: None,
        }
    }

    #[test]
    fn messenger_inside_24_hours_is_a_response() {
        let b = page_body(
            &outbound(ChannelKind::Messenger, "6543", Some(NOW - DAY_MS + 60_000)),
            NOW,
        )
        .unwrap();
        assert_eq!(
            b,
            json!({"recipient": {"id": "6543"}, "messaging_type": "RESPONSE", "message": {"text": "Your order ships today."}})
        );
    }

    #[test]
    fn messenger_after_24_hours_uses_the_human_agent_tag_until_7_days() {
        for channel in [ChannelKind::Messenger, ChannelKind::Instagram] {
            let b = page_body(&outbound(channel, "6543", Some(NOW - 3 * DAY_MS)), NOW).unwrap();
            assert_eq!(b["messaging_type"], "MESSAGE_TAG");
            assert_eq!(b["tag"], "HUMAN_AGENT");
            for last in [Some(NOW - 7 * DAY_MS - 1), None] {
                match page_body(&outbound(channel, "6543", last), NOW) {
                    Err(SendError::Permanent(w)) => {
                        assert!(
                            w.contains("outside Messenger's 7-day human agent window"),
                            "{w}"
                        )
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn whatsapp_inside_24_hours_only() {
        let b = whatsapp_body(
            &outbound(ChannelKind::Whatsapp, "+16505551234", Some(NOW - 1000)),
            NOW,
        )
        .unwrap();
        assert_eq!(
            b,
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                   "type": "text", "text": {"preview_url": false, "body": "Your order ships today."}})
        );
        for last in [Some(NOW - DAY_MS - 1), None] {
            match whatsapp_body(&outbound(ChannelKind::Whatsapp, "+16505551234", last), NOW) {
                Err(SendError::Permanent(w)) => assert!(
                    w.contains("24-hour window closed; WhatsApp needs an approved template"),
                    "{w}"
                ),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn files_are_not_sent_yet() {
        let mut m = outbound(ChannelKind::Whatsapp, "+16505551234", Some(NOW));
        m.files.push(OutboundFile {
            filename: "a.pdf".into(),
            content_type: "application/pdf".into(),
            data: vec![1],
        });
        assert!(
            matches!(whatsapp_body(&m, NOW), Err(SendError::Permanent(w)) if w.contains("not supported yet"))
        );
        m.channel = ChannelKind::Messenger;
        assert!(
            matches!(page_body(&m, NOW), Err(SendError::Permanent(w)) if w.contains("not supported yet"))
        );
    }

    #[test]
    fn answers_name_the_message() {
        assert_eq!(sent(Some("m_1")).unwrap().provider_message_id, "m_1");
        // Accepted without an id: it may have been sent, so it is never blindly repeated.
        assert!(matches!(sent(None), Err(SendError::Unknown(_))));
        assert!(matches!(sent(Some("")), Err(SendError::Unknown(_))));
    }
}
