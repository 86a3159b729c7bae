//! The sender: one `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` per message, HTTP
//! Basic `AccountSid:AuthToken`, with a status callback to our `/status` webhook so delivery
//! reports follow.

use super::{api_base, codes, form, is_sid, limit_words, snippet, ApiError};
use crate::channels::{http_client, Lookup, SendError, Sender, Sent};
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
        SendError::Unknown(format!(
            "Twilio accepted the request but its answer could not be read ({why}); the message may have been sent"
        ))
    };
    let c: Created = serde_json::from_slice(body)
        .map_err(|_| unreadable(http_client::not_the_api("Twilio", body)))?;
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
                SendError::Unknown(format!("reading Twilio's answer: {}", limit_words(&e)))
            })?;
        if status.is_success() {
            accepted(&body)
        } else {
            Err(refusal(status.as_u16(), &body))
        }
    }

    /// Twilio has no idempotency key for sends, but lists an account's messages filtered by
    /// `To` and `From` (`GET .../Messages.json?To=&From=&PageSize=`), newest first: the message
    /// is the outbound one with our text, from our number or messaging service, created since
    /// the request left (with a minute for clocks apart).
    async fn lookup(
        &self,
        account: &AccountRow,
        msg: &Outbound,
        since: i64,
    ) -> Result<Lookup, SendError> {
        let sid = account.setting("account_sid");
        let token = account.secret("auth_token");
        if sid.is_empty() || token.is_empty() {
            return Err(SendError::Permanent(
                "The Twilio account SID or auth token is not configured.".into(),
            ));
        }
        let service = account.setting("messaging_service_sid").trim().to_string();
        let from = account.setting("phone_number").trim().to_string();
        let mut query = vec![("To", msg.to.clone()), ("PageSize", "50".to_string())];
        if service.is_empty() {
            query.push(("From", from.clone()));
        }
        let url = format!(
            "{}/2010-04-01/Accounts/{sid}/Messages.json?{}",
            api_base(account),
            form::encode(query.iter().map(|(k, v)| (*k, v.as_str())))
        );
        let resp = self
            .client
            .get(&url)
            .basic_auth(&sid, Some(&token))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| SendError::Temporary(http_client::words(&e)))?;
        let status = resp.status();
        let body = http_client::read_limited(resp, http_client::MAX_API_BYTES)
            .await
            .map_err(|e| {
                SendError::Temporary(format!("reading Twilio's answer: {}", limit_words(&e)))
            })?;
        if !status.is_success() {
            return Err(match refusal(status.as_u16(), &body) {
                SendError::Permanent(w) | SendError::OptedOut(w) => SendError::Permanent(w),
                other => other,
            });
        }
        let list: MessageList = serde_json::from_slice(&body).map_err(|e| {
            SendError::Temporary(format!("Twilio's message list could not be read: {e}"))
        })?;
        Ok(find_sent(&list.messages, msg, &from, &service, since))
    }
}

/// A page of Twilio's Message list.
#[derive(Deserialize)]
pub struct MessageList {
    #[serde(default)]
    pub messages: Vec<Listed>,
}

/// The fields of a listed message we compare.
#[derive(Deserialize)]
pub struct Listed {
    pub sid: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
}

/// How far apart our clock and Twilio's may be.
const CLOCK_SKEW_MS: i64 = 60_000;

/// The message of ours in `listed` that a request sent at `since` created, if any.
pub fn find_sent(
    listed: &[Listed],
    msg: &Outbound,
    from: &str,
    service: &str,
    since: i64,
) -> Lookup {
    let found = listed.iter().find(|m| {
        let ours = if service.is_empty() {
            m.from.as_deref() == Some(from)
        } else {
            m.messaging_service_sid.as_deref() == Some(service)
        };
        let created = m
            .date_created
            .as_deref()
            .and_then(parse_rfc2822_ms)
            .unwrap_or(i64::MAX);
        ours && m.to.as_deref() == Some(msg.to.as_str())
            && m.direction
                .as_deref()
                .is_none_or(|d| d.starts_with("outbound"))
            && m.body.as_deref() == Some(msg.body_text.as_str())
            && created >= since - CLOCK_SKEW_MS
            && is_sid(&m.sid, &["SM", "MM"])
    });
    match found {
        Some(m) => Lookup::Found(Sent {
            provider_message_id: m.sid.clone(),
            state: DeliveryState::Sent,
            rfc_message_id: None,
        }),
        None => Lookup::NotFound,
    }
}

/// `Thu, 24 Aug 2023 05:01:45 +0000` (Twilio's `date_created`) as unix ms.
pub fn parse_rfc2822_ms(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let s = s.split_once(',').map_or(s, |(_, rest)| rest);
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [day, month, year, clock, zone] = parts.as_slice() else {
        return None;
    };
    let d: i64 = day.parse().ok()?;
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(month))? as i64 + 1;
    let y: i64 = year.parse().ok()?;
    let mut hms = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, sec) = (
        hms.next()??,
        hms.next()??,
        hms.next().flatten().unwrap_or(0),
    );
    let offset = match zone.as_bytes() {
        [sign @ (b'+' | b'-'), ..] if zone.len() == 5 => {
            let hh: i64 = zone[1..3].parse().ok()?;
            let mm: i64 = zone[3..5].parse().ok()?;
            let o = hh * 3600 + mm * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ if zone.eq_ignore_ascii_case("GMT") || zone.eq_ignore_ascii_case("UT") => 0,
        _ => return None,
    };
    // Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset) * 1000)
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
            customer_id: 1,
            automatic: false,
            campaign: None,
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
            SendError::Temporary(
                "Twilio answered HTTP 502: a web page saying “Bad gateway”".into()
            )
        );
        assert_eq!(
            refusal(404, b""),
            SendError::Permanent("Twilio answered HTTP 404".into())
        );
    }

    #[test]
    fn twilio_dates_are_read() {
        assert_eq!(
            parse_rfc2822_ms("Thu, 24 Aug 2023 05:01:45 +0000"),
            Some(1_692_853_305_000)
        );
        assert_eq!(
            parse_rfc2822_ms("Tue, 29 Feb 2000 01:00:00 +0100"),
            Some(951_782_400_000)
        );
        assert_eq!(parse_rfc2822_ms("yesterday"), None);
    }

    #[test]
    fn a_lost_send_is_found_by_number_text_and_time() {
        let listed = |sid: &str, body: &str, from: &str, date: &str| Listed {
            sid: sid.into(),
            body: Some(body.into()),
            to: Some("+15005550006".into()),
            from: Some(from.into()),
            messaging_service_sid: None,
            direction: Some("outbound-api".into()),
            date_created: Some(date.into()),
        };
        let since = 1_692_853_305_000;
        let ours = "SM0123456789abcdef0123456789abcdef";
        let list = vec![
            listed(
                "SM1111111111abcdef0123456789abcdef",
                "Other text",
                "+15550100000",
                "Thu, 24 Aug 2023 05:02:00 +0000",
            ),
            listed(
                "SM2222222222abcdef0123456789abcdef",
                "Hi",
                "+15550100999",
                "Thu, 24 Aug 2023 05:02:00 +0000",
            ),
            // Same text, sent the day before: an older message, not this one.
            listed(
                "SM3333333333abcdef0123456789abcdef",
                "Hi",
                "+15550100000",
                "Wed, 23 Aug 2023 05:01:45 +0000",
            ),
            listed(
                ours,
                "Hi",
                "+15550100000",
                "Thu, 24 Aug 2023 05:01:46 +0000",
            ),
        ];
        assert_eq!(
            find_sent(&list, &outbound("Hi"), "+15550100000", "", since),
            Lookup::Found(Sent {
                provider_message_id: ours.into(),
                state: DeliveryState::Sent,
                rfc_message_id: None
            })
        );
        assert_eq!(
            find_sent(&list[..3], &outbound("Hi"), "+15550100000", "", since),
            Lookup::NotFound
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
            matches!(accepted(b"nope"), Err(SendError::Unknown(w)) if w.contains("may have been sent"))
        );
        assert!(matches!(
            accepted(br#"{"sid": "x"}"#),
            Err(SendError::Unknown(_))
        ));
        let failed = br#"{"sid": "SM0123456789abcdef0123456789abcdef", "status": "failed", "error_code": 30007}"#;
        assert!(matches!(accepted(failed), Err(SendError::Permanent(w)) if w.contains("spam")));
    }
}
