//! The sender: one `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` per message, HTTP
//! Basic `AccountSid:AuthToken`, with a status callback to our `/status` webhook so delivery
//! reports follow.

use super::{api_base, codes, form, is_sid, limit_words, snippet, ApiError};
use crate::channels::{http_client, SendError, Sender, Sent};
use app::domain::DeliveryState;
use app::ports::Outbound;
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;
use serde::Deserialize;

pub struct TwilioSender {
    client: reqwest::Client,
    public_url: String,
}

impl TwilioSender {
    pub fn new(client: reqwest::Client, public_url: &str) -> TwilioSender {
        TwilioSender {
            client,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// Where Twilio posts this account's delivery reports.
    pub fn status_callback(&self, account: &AccountRow) -> String {
        format!("{}/webhooks/twilio/{}/status", self.public_url, account.id)
    }
}

/// The parts of Twilio's Message resource we read.
#[derive(Deserialize)]
struct Created {
    sid: Option<String>,
    status: Option<String>,
    error_code: Option<serde_json::Value>,
}

/// The form fields of one send.
pub fn fields(
    account: &AccountRow,
    msg: &Outbound,
    status_callback: &str,
) -> Result<Vec<(&'static str, String)>, SendError> {
    if !msg.files.is_empty() {
        return Err(SendError::Permanent(
            "Files cannot be sent by SMS yet; share them as a link or on another channel.".into(),
        ));
    }
    if msg.body_text.trim().is_empty() {
        return Err(SendError::Permanent("An SMS needs some text.".into()));
    }
    let mut f = vec![("To", msg.to.clone())];
    let service = account.setting("messaging_service_sid");
    let from = account.setting("phone_number");
    if !service.trim().is_empty() {
        f.push(("MessagingServiceSid", service.trim().to_string()));
    } else if !from.trim().is_empty() {
        f.push(("From", from.trim().to_string()));
    } else {
        return Err(SendError::Permanent(
            "The Twilio account has neither a phone number nor a messaging service to send from."
                .into(),
        ));
    }
    f.push(("Body", msg.body_text.clone()));
    f.push(("StatusCallback", status_callback.to_string()));
    Ok(f)
}

/// What an error answer means: opted out, retry, or final.
pub fn refusal(status: u16, body: &[u8]) -> SendError {
    let retry = status >= 500 || status == 408 || status == 429;
    match ApiError::read(body) {
        Some((code, words)) if code == codes::OPTED_OUT => SendError::OptedOut(format!(
            "{words} ({}; they can text START to receive messages again)",
            codes::explain(&code).unwrap_or_default()
        )),
        Some((code, words)) => {
            let words = match codes::explain(&code) {
                Some(why) if !retry => format!("{words} ({why})"),
                _ => words,
            };
            if retry {
                SendError::Temporary(format!("{words} (HTTP {status})"))
            } else {
                SendError::Permanent(words)
            }
        }
        None => {
            let words = match snippet(body) {
                s if s.is_empty() => format!("Twilio answered HTTP {status}"),
                s => format!("Twilio answered HTTP {status}: {s}"),
            };
            if retry {
                SendError::Temporary(words)
            } else {
                SendError::Permanent(words)
            }
        }
    }
}

/// A 2xx answer: the message resource Twilio created.
pub fn accepted(body: &[u8]) -> Result<Sent, SendError> {
    let unreadable = |why: String| {
        SendError::Permanent(format!(
            "Twilio accepted the request but its answer could not be read ({why}); the message may have been sent"
        ))
    };
    let c: Created = serde_json::from_slice(body).map_err(|e| unreadable(e.to_string()))?;
    let sid = c.sid.unwrap_or_default();
    if !is_sid(&sid, &["SM", "MM"]) {
        return Err(unreadable(format!("{sid:?} is not a message SID")));
    }
    if c.status.as_deref() == Some("failed") {
        let code = match c.error_code {
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) => s,
            _ => String::new(),
        };
        return Err(SendError::Permanent(format!(
            "Twilio could not send the message: {}",
            codes::describe(&code)
        )));
    }
    Ok(Sent {
        provider_message_id: sid,
        state: DeliveryState::Sent,
        rfc_message_id: None,
    })
}

#[async_trait]
impl Sender for TwilioSender {
    async fn send(&self, account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError> {
        let sid = account.setting("account_sid");
        let token = account.secret("auth_token");
        if sid.is_empty() || token.is_empty() {
            return Err(SendError::Permanent(
                "The Twilio account SID or auth token is not configured.".into(),
            ));
        }
        let f = fields(account, msg, &self.status_callback(account))?;
        let url = format!(
            "{}/2010-04-01/Accounts/{sid}/Messages.json",
            api_base(account)
        );
        let resp = self
            .client
            .post(&url)
            .basic_auth(&sid, Some(&token))
            .header(reqwest::header::CONTENT_TYPE, super::webhook::FORM)
            .header(reqwest::header::ACCEPT, "application/json")
            .body(form::encode(f.iter().map(|(k, v)| (*k, v.as_str()))))
            .send()
            .await
            .map_err(|e| http_client::send_failure(&e))?;
        let status = resp.status();
        let body = http_client::read_limited(resp, http_client::MAX_API_BYTES)
            .await
            .map_err(|e| {
                SendError::Temporary(format!("reading Twilio's answer: {}", limit_words(&e)))
            })?;
        if status.is_success() {
            accepted(&body)
        } else {
            Err(refusal(status.as_u16(), &body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::twilio::tests::account;
    use app::domain::ChannelKind;
    use app::ports::OutboundFile;

    fn outbound(body: &str) -> Outbound {
        Outbound {
            message_id: 1,
            conversation_id: 2,
            channel: ChannelKind::Sms,
            account_id: 7,
            to: "+15005550006".into(),
            subject: None,
            body_text: body.into(),
            reply: Default::default(),
            files: vec![],
            last_inbound_at: None,
            identifier_id: 1,
            recipient_label: String::new(),
            automatic: false,
        }
    }

    #[test]
    fn the_form_names_the_sender_and_the_callback() {
        let f = fields(&account(), &outbound("Hi"), "https://x/cb").unwrap();
        assert_eq!(
            f,
            vec![
                ("To", "+15005550006".to_string()),
                ("From", "+15550100000".to_string()),
                ("Body", "Hi".to_string()),
                ("StatusCallback", "https://x/cb".to_string()),
            ]
        );
        let mut acc = account();
        acc.settings = serde_json::json!({"phone_number": "+15550100000", "messaging_service_sid": "MG0123456789abcdef0123456789abcdef"}).to_string();
        let f = fields(&acc, &outbound("Hi"), "https://x/cb").unwrap();
        assert_eq!(
            f[1],
            (
                "MessagingServiceSid",
                "MG0123456789abcdef0123456789abcdef".to_string()
            )
        );
        assert!(f.iter().all(|(k, _)| *k != "From"));
        acc.settings = "{}".into();
        assert!(matches!(
            fields(&acc, &outbound("Hi"), "cb"),
            Err(SendError::Permanent(_))
        ));
    }

    #[test]
    fn files_and_empty_texts_are_refused() {
        let mut m = outbound("see attached");
        m.files.push(OutboundFile {
            filename: "a.pdf".into(),
            content_type: "application/pdf".into(),
            data: vec![1],
        });
        assert!(
            matches!(fields(&account(), &m, "cb"), Err(SendError::Permanent(w)) if w.contains("Files"))
        );
        assert!(matches!(
            fields(&account(), &outbound("  "), "cb"),
            Err(SendError::Permanent(_))
        ));
    }

    #[test]
    fn the_callback_url_is_ours() {
        let s = TwilioSender::new(reqwest::Client::new(), "https://inbox.example.com/");
        assert_eq!(
            s.status_callback(&account()),
            "https://inbox.example.com/webhooks/twilio/7/status"
        );
    }

    fn err(code: u32, status: u16, message: &str) -> SendError {
        let body = serde_json::json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status});
        refusal(status, body.to_string().as_bytes())
    }

    #[test]
    fn errors_map_to_opt_out_retry_or_final() {
        match err(21610, 400, "Attempt to send to unsubscribed recipient") {
            SendError::OptedOut(w) => {
                assert!(
                    w.starts_with("Twilio error 21610: Attempt to send to unsubscribed recipient"),
                    "{w}"
                );
                assert!(w.contains("replied STOP"), "{w}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err(21211, 400, "The 'To' number 12 is not a valid phone number."),
            SendError::Permanent(
                "Twilio error 21211: The 'To' number 12 is not a valid phone number. (invalid 'To' number)".into()
            )
        );
        assert_eq!(
            err(21999, 400, "Something"),
            SendError::Permanent("Twilio error 21999: Something".into())
        );
        assert!(matches!(
            err(20003, 401, "Authenticate"),
            SendError::Permanent(_)
        ));
        assert!(matches!(
            err(20429, 429, "Too Many Requests"),
            SendError::Temporary(_)
        ));
        assert!(
            matches!(err(20500, 500, "Internal Server Error"), SendError::Temporary(w) if w.contains("HTTP 500"))
        );
        assert_eq!(
            refusal(502, b"<html>Bad gateway</html>"),
            SendError::Temporary("Twilio answered HTTP 502: <html>Bad gateway</html>".into())
        );
        assert_eq!(
            refusal(404, b""),
            SendError::Permanent("Twilio answered HTTP 404".into())
        );
    }

    #[test]
    fn created_messages_are_read() {
        let ok = br#"{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "error_code": null}"#;
        assert_eq!(
            accepted(ok),
            Ok(Sent {
                provider_message_id: "SM0123456789abcdef0123456789abcdef".into(),
                state: DeliveryState::Sent,
                rfc_message_id: None,
            })
        );
        assert!(
            matches!(accepted(b"nope"), Err(SendError::Permanent(w)) if w.contains("may have been sent"))
        );
        assert!(matches!(
            accepted(br#"{"sid": "x"}"#),
            Err(SendError::Permanent(_))
        ));
        let failed = br#"{"sid": "SM0123456789abcdef0123456789abcdef", "status": "failed", "error_code": 30007}"#;
        assert!(matches!(accepted(failed), Err(SendError::Permanent(w)) if w.contains("spam")));
    }
}
