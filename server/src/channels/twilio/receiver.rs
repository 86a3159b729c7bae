//! The receiver: a stored Twilio form becomes an inbound SMS/MMS or a delivery report.

use super::{codes, form};
use crate::channels::{ParseError, Receiver};
use app::domain::{DeliveryState, IdentifierKind};
use app::ports::InboundEvent;
use app::ports::RawInbound;
use app::ports::{InboundMessage, MediaRef};
use app::store::channel_accounts::AccountRow;

/// Twilio takes at most 10 media per message.
pub const MAX_MEDIA: usize = 10;

pub struct TwilioReceiver;

impl Receiver for TwilioReceiver {
    fn parse(
        &self,
        _account: &AccountRow,
        raw: &RawInbound,
    ) -> Result<Vec<InboundEvent>, ParseError> {
        let params = form::decode(&raw.payload)
            .map_err(|e| ParseError(format!("the Twilio form cannot be read: {e}")))?;
        let status = form::get(&params, "MessageStatus")
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "received" && *s != "receiving");
        Ok(vec![match status {
            Some(status) => report(&params, status)?,
            None => message(&params, raw.received_at)?,
        }])
    }
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, ParseError> {
    match form::get(params, name).map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ParseError(format!("the Twilio form has no {name}"))),
    }
}

/// A status callback about one of our messages.
fn report(params: &[(String, String)], status: &str) -> Result<InboundEvent, ParseError> {
    let sid = required(params, "MessageSid")?.to_string();
    let state = match status {
        "queued" | "accepted" | "sending" | "scheduled" => {
            return Ok(InboundEvent::Ignored(format!(
                "Twilio reports the message {sid} as {status}; nothing to record until it is sent"
            )))
        }
        "sent" => DeliveryState::Sent,
        "partially_delivered" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "undelivered" | "failed" | "canceled" => {
            let code = form::get(params, "ErrorCode")
                .map(str::trim)
                .filter(|c| !c.is_empty() && *c != "0");
            let what = match status {
                "undelivered" => "could not deliver the message",
                "failed" => "could not send the message",
                _ => "canceled the message",
            };
            let reason = match code {
                Some(code) => format!("Twilio {what}: {}", codes::describe(code)),
                None => format!("Twilio {what} (no error code given)"),
            };
            return Ok(InboundEvent::Status {
                provider_message_id: sid,
                state: DeliveryState::Failed,
                reason: Some(reason),
            });
        }
        other => {
            return Ok(InboundEvent::Ignored(format!(
                "Twilio reported an unknown status {other:?} for message {sid}"
            )))
        }
    };
    Ok(InboundEvent::Status {
        provider_message_id: sid,
        state,
        reason: None,
    })
}

/// An inbound SMS or MMS.
fn message(params: &[(String, String)], received_at: i64) -> Result<InboundEvent, ParseError> {
    let sid = required(params, "MessageSid")?;
    let from = required(params, "From")?;
    let to = required(params, "To")?;
    if let Some((channel, _)) = from.split_once(':') {
        // whatsapp:+1…, messenger:… : other channels routed through Twilio.
        return Ok(InboundEvent::Ignored(format!(
            "message {sid} comes from a {channel} address, which the SMS channel does not take"
        )));
    }
    let num_media = match form::get(params, "NumMedia").map(str::trim) {
        None | Some("") => 0,
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| ParseError(format!("NumMedia {n:?} is not a number")))?,
    };
    let mut media = Vec::new();
    for i in 0..num_media.min(MAX_MEDIA) {
        let url = required(params, &format!("MediaUrl{i}"))?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ParseError(format!(
                "MediaUrl{i} {url:?} is not a web address"
            )));
        }
        media.push(MediaRef {
            locator: url.to_string(),
            content_type: form::get(params, &format!("MediaContentType{i}"))
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty()),
            filename: None,
        });
    }
    let segments = form::get(params, "NumSegments").and_then(|n| n.trim().parse::<u32>().ok());
    let service = form::get(params, "MessagingServiceSid").filter(|s| !s.is_empty());
    let mut meta = serde_json::json!({
        "to": to,
        "segments": segments,
        "messaging_service_sid": service,
    });
    if num_media > MAX_MEDIA {
        meta["media_dropped"] = serde_json::json!(num_media - MAX_MEDIA);
    }
    Ok(InboundEvent::Message(Box::new(InboundMessage {
        identifier_kind: IdentifierKind::Phone,
        identifier: from.to_string(),
        display_name: None,
        provider_message_id: sid.to_string(),
        subject: None,
        body_text: form::get(params, "Body").unwrap_or("").to_string(),
        body_html: None,
        received_at,
        thread: Default::default(),
        automatic: false,
        meta: Some(meta),
        attachments: Vec::new(),
        media,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::twilio::tests::account;
    use proptest::prelude::*;

    fn raw(pairs: &[(&str, &str)]) -> RawInbound {
        RawInbound {
            id: 1,
            channel_account_id: 7,
            content_type: "application/x-www-form-urlencoded".into(),
            payload: form::encode(pairs.iter().copied()).into_bytes(),
            attempts: 0,
            received_at: 1_700_000_000_000,
        }
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Vec<InboundEvent>, ParseError> {
        TwilioReceiver.parse(&account(), &raw(pairs))
    }

    fn one(pairs: &[(&str, &str)]) -> InboundEvent {
        let mut v = parse(pairs).unwrap();
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    const SMS: &[(&str, &str)] = &[
        ("ToCountry", "US"),
        ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("NumMedia", "0"),
        ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
        ("SmsStatus", "received"),
        ("Body", "Where is my order?"),
        ("To", "+15550100000"),
        ("NumSegments", "1"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("From", "+15005550006"),
        ("ApiVersion", "2010-04-01"),
    ];

    #[test]
    fn an_sms_becomes_a_message() {
        let InboundEvent::Message(m) = one(SMS) else {
            panic!("not a message")
        };
        assert_eq!(m.identifier_kind, IdentifierKind::Phone);
        assert_eq!(m.identifier, "+15005550006");
        assert_eq!(m.provider_message_id, "SM0123456789abcdef0123456789abcdef");
        assert_eq!(m.body_text, "Where is my order?");
        assert_eq!(m.received_at, 1_700_000_000_000);
        assert_eq!(m.display_name, None);
        assert!(m.media.is_empty());
        assert_eq!(
            m.meta,
            Some(
                serde_json::json!({"to": "+15550100000", "segments": 1, "messaging_service_sid": null})
            )
        );
    }

    #[test]
    fn an_mms_carries_its_media() {
        let mut p = SMS.to_vec();
        p.retain(|(k, _)| *k != "NumMedia" && *k != "Body");
        p.extend([
            ("NumMedia", "2"),
            ("Body", ""),
            (
                "MediaUrl0",
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
            ),
            ("MediaContentType0", "image/JPEG"),
            (
                "MediaUrl1",
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
            ),
            ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
        ]);
        let InboundEvent::Message(m) = one(&p) else {
            panic!("not a message")
        };
        assert_eq!(m.body_text, "");
        assert_eq!(m.media.len(), 2);
        assert!(m.media[0].locator.ends_with("/Media/ME1"));
        assert_eq!(m.media[0].content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(m.media[1].content_type, None);
        assert_eq!(
            m.meta.unwrap()["messaging_service_sid"],
            "MG0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn media_are_bounded_and_must_be_there() {
        let urls: Vec<String> = (0..12)
            .map(|i| format!("https://api.twilio.com/m/{i}"))
            .collect();
        let names: Vec<String> = (0..12).map(|i| format!("MediaUrl{i}")).collect();
        let mut p: Vec<(&str, &str)> = SMS.to_vec();
        p.retain(|(k, _)| *k != "NumMedia");
        p.push(("NumMedia", "12"));
        for (name, url) in names.iter().zip(&urls) {
            p.push((name, url));
        }
        let InboundEvent::Message(m) = one(&p) else {
            panic!("not a message")
        };
        assert_eq!(m.media.len(), MAX_MEDIA);
        assert_eq!(m.meta.unwrap()["media_dropped"], 2);

        let mut p = SMS.to_vec();
        p.retain(|(k, _)| *k != "NumMedia");
        p.push(("NumMedia", "1"));
        assert!(parse(&p).unwrap_err().0.contains("MediaUrl0"));
        p.push(("MediaUrl0", "file:///etc/passwd"));
        assert!(parse(&p).unwrap_err().0.contains("web address"));
        let mut p = SMS.to_vec();
        p.retain(|(k, _)| *k != "NumMedia");
        p.push(("NumMedia", "-1"));
        assert!(parse(&p).unwrap_err().0.contains("NumMedia"));
    }

    #[test]
    fn missing_fields_are_errors_in_words() {
        for name in ["MessageSid", "From", "To"] {
            let p: Vec<_> = SMS.iter().copied().filter(|(k, _)| *k != name).collect();
            let e = parse(&p).unwrap_err();
            assert!(e.0.contains(name), "{e}");
        }
        let bad = RawInbound {
            payload: b"Body=%C3%28".to_vec(),
            ..raw(&[])
        };
        assert!(TwilioReceiver.parse(&account(), &bad).is_err());
    }

    #[test]
    fn other_channels_through_twilio_are_ignored() {
        let mut p = SMS.to_vec();
        p.retain(|(k, _)| *k != "From");
        p.push(("From", "whatsapp:+15005550006"));
        assert!(matches!(one(&p), InboundEvent::Ignored(w) if w.contains("whatsapp")));
    }

    fn status(s: &str, code: Option<&str>) -> InboundEvent {
        let mut p = vec![
            ("MessageSid", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("SmsSid", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("MessageStatus", s),
            ("SmsStatus", s),
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("From", "+15550100000"),
            ("To", "+15005550006"),
            ("ApiVersion", "2010-04-01"),
        ];
        if let Some(c) = code {
            p.push(("ErrorCode", c));
        }
        one(&p)
    }

    fn state_of(e: &InboundEvent) -> Option<(DeliveryState, Option<String>)> {
        match e {
            InboundEvent::Status {
                provider_message_id,
                state,
                reason,
            } => {
                assert_eq!(provider_message_id, "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
                Some((*state, reason.clone()))
            }
            _ => None,
        }
    }

    #[test]
    fn statuses_map_to_delivery_states() {
        for s in ["queued", "accepted", "sending", "scheduled", "mystery"] {
            assert!(matches!(status(s, None), InboundEvent::Ignored(_)), "{s}");
        }
        for (s, want) in [
            ("sent", DeliveryState::Sent),
            ("delivered", DeliveryState::Delivered),
            ("read", DeliveryState::Read),
        ] {
            assert_eq!(state_of(&status(s, None)), Some((want, None)), "{s}");
        }
        let (st, why) = state_of(&status("undelivered", Some("30003"))).unwrap();
        assert_eq!(st, DeliveryState::Failed);
        let why = why.unwrap();
        assert!(
            why.contains("30003") && why.contains("unreachable handset"),
            "{why}"
        );
        let (_, why) = state_of(&status("failed", Some("21610"))).unwrap();
        assert!(why.unwrap().contains("STOP"));
        let (_, why) = state_of(&status("failed", None)).unwrap();
        assert!(why.unwrap().contains("no error code"));
        let (_, why) = state_of(&status("undelivered", Some("39999"))).unwrap();
        assert!(why.unwrap().contains("error 39999"));
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let r = RawInbound { payload, ..raw(&[]) };
            let _ = TwilioReceiver.parse(&account(), &r);
        }

        #[test]
        fn never_panics_on_any_form(fields in proptest::collection::vec(
            (prop_oneof![
                Just("MessageSid".to_string()), Just("From".to_string()), Just("To".to_string()),
                Just("NumMedia".to_string()), Just("MediaUrl0".to_string()), Just("MessageStatus".to_string()),
                Just("ErrorCode".to_string()), Just("Body".to_string()), ".{0,8}"
            ], ".{0,12}"), 0..12)) {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let _ = parse(&pairs);
        }
    }
}
