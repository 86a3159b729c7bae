//! The webhook: Twilio posts each inbound message to `/webhooks/twilio/{account}` and each
//! delivery report to `/webhooks/twilio/{account}/status`, as a form signed with the account's
//! auth token (`X-Twilio-Signature`).
//!
//! The signature is checked first, over the decoded form and the URL rebuilt from our public
//! URL; only then is anything in the form looked at. Requests sent through a Messaging Service
//! (`MessagingServiceSid`) are signed with the same account token and checked the same way.

use super::{form, is_sid, signature};
use crate::channels::webhook::{Accepted, HookKind, Refusal, Webhook, WebhookRequest};
use app::store::channel_accounts::AccountRow;

pub const FORM: &str = "application/x-www-form-urlencoded";

/// The empty TwiML document: Twilio sends nothing back to the customer.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

pub struct TwilioWebhook;

impl Webhook for TwilioWebhook {
    fn accept(&self, account: &AccountRow, req: &WebhookRequest) -> Result<Accepted, Refusal> {
        let ct = req.header("content-type").unwrap_or("");
        let media_type = ct.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case(FORM) {
            return Err(Refusal::Malformed(format!(
                "Twilio webhooks are {FORM} forms; this request is {}.",
                if ct.is_empty() {
                    "without a content type"
                } else {
                    ct
                }
            )));
        }
        let token = account.secret("auth_token");
        if token.is_empty() {
            return Err(Refusal::Forbidden(
                "the auth token is not configured for this Twilio account, so no request can be verified".into(),
            ));
        }
        let Some(header) = req.header("x-twilio-signature") else {
            return Err(Refusal::Forbidden(
                "the X-Twilio-Signature header is missing".into(),
            ));
        };
        if let Some(settings) = req.header("x-twilio-webhooks-signature-settings") {
            // Signed with a shared key instead of the auth token (`key=…,algorithm=…`).
            let algorithm = settings
                .split(',')
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim() == "algorithm")
                .map_or("HMAC_SHA1", |(_, v)| v.trim());
            if !algorithm.eq_ignore_ascii_case("HMAC_SHA1") {
                return Err(Refusal::Forbidden(format!(
                    "the request is signed with a Twilio webhook shared key ({algorithm}), which this account is not set up for; only auth-token signatures are verified"
                )));
            }
        }
        let params = form::decode(req.body)
            .map_err(|e| Refusal::Malformed(format!("the form cannot be read: {e}")))?;
        if !signature::verify(&token, req.url, &params, header) {
            return Err(Refusal::Forbidden(
                "the X-Twilio-Signature does not match this request (wrong auth token, URL or body)".into(),
            ));
        }
        // Verified: now the contents.
        let expected_account = account.setting("account_sid");
        match form::get(&params, "AccountSid") {
            _ if expected_account.is_empty() => {
                return Err(Refusal::Forbidden(
                    "the account SID is not configured for this Twilio account".into(),
                ))
            }
            Some(sid) if sid == expected_account => {}
            Some(sid) => {
                return Err(Refusal::Forbidden(format!(
                    "the request is for Twilio account {sid}, not this one"
                )))
            }
            None => return Err(Refusal::Forbidden("the request has no AccountSid".into())),
        }
        let sid = required(&params, "MessageSid")?;
        if !is_sid(sid, &["SM", "MM"]) {
            return Err(Refusal::Malformed(format!(
                "MessageSid {sid:?} is not a message SID (SM or MM and 32 hexadecimal digits)"
            )));
        }
        let status = form::get(&params, "MessageStatus").map(str::trim);
        let is_report = match req.kind {
            HookKind::Status => true,
            // A status callback pointed at the messages URL is still a status callback.
            HookKind::Events => {
                status.is_some_and(|s| !s.is_empty() && s != "received" && s != "receiving")
            }
        };
        let dedupe_key = if is_report {
            let status = required(&params, "MessageStatus")?;
            if !status.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                return Err(Refusal::Malformed(format!(
                    "MessageStatus {status:?} is not a Twilio status"
                )));
            }
            format!("status:{sid}:{status}")
        } else {
            required(&params, "From")?;
            required(&params, "To")?;
            format!("msg:{sid}")
        };
        Ok(Accepted {
            dedupe_key,
            content_type: FORM.to_string(),
        })
    }

    fn ack(&self) -> (&'static str, &'static str) {
        ("text/xml", EMPTY_TWIML)
    }
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, Refusal> {
    match form::get(params, name).map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Refusal::Malformed(format!("the form has no {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::twilio::tests::{account, signed, SID, TOKEN};
    use axum::http::HeaderMap;

    const URL: &str = "https://inbox.example.com/webhooks/twilio/7";

    fn accept(
        acc: &AccountRow,
        kind: HookKind,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Accepted, Refusal> {
        TwilioWebhook.accept(
            acc,
            &WebhookRequest {
                url: URL,
                kind,
                headers,
                body,
            },
        )
    }

    fn inbound() -> Vec<(&'static str, &'static str)> {
        vec![
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("AccountSid", SID),
            ("From", "+15005550006"),
            ("To", "+15550100000"),
            ("Body", "Hello"),
            ("NumMedia", "0"),
        ]
    }

    #[test]
    fn accepts_a_signed_message_and_names_its_key() {
        let (h, body) = signed(TOKEN, URL, &inbound());
        let a = accept(&account(), HookKind::Events, &h, &body).unwrap();
        assert_eq!(a.dedupe_key, "msg:SM0123456789abcdef0123456789abcdef");
        assert_eq!(a.content_type, FORM);
        let mut with_service = inbound();
        with_service.push(("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"));
        let (h, body) = signed(TOKEN, URL, &with_service);
        assert!(accept(&account(), HookKind::Events, &h, &body).is_ok());
    }

    #[test]
    fn status_reports_have_one_key_per_status() {
        let params = vec![
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("MessageStatus", "delivered"),
            ("AccountSid", SID),
        ];
        let (h, body) = signed(TOKEN, URL, &params);
        let a = accept(&account(), HookKind::Status, &h, &body).unwrap();
        assert_eq!(
            a.dedupe_key,
            "status:SM0123456789abcdef0123456789abcdef:delivered"
        );
        // The same report on the messages URL is still a report.
        let mut with_numbers = params.clone();
        with_numbers.extend([("From", "+15550100000"), ("To", "+15005550006")]);
        let (h, body) = signed(TOKEN, URL, &with_numbers);
        let a = accept(&account(), HookKind::Events, &h, &body).unwrap();
        assert!(a.dedupe_key.starts_with("status:"));
        let (h, body) = signed(TOKEN, URL, &[params[0], params[2]]);
        let e = accept(&account(), HookKind::Status, &h, &body).unwrap_err();
        assert!(
            matches!(&e, Refusal::Malformed(w) if w.contains("MessageStatus")),
            "{e}"
        );
    }

    #[test]
    fn refuses_unsigned_wrongly_signed_and_unconfigured() {
        let (mut h, body) = signed(TOKEN, URL, &inbound());
        let mut acc = account();
        acc.secrets = "{}".into();
        let e = accept(&acc, HookKind::Events, &h, &body).unwrap_err();
        assert!(
            matches!(&e, Refusal::Forbidden(w) if w.contains("not configured")),
            "{e}"
        );
        // Signed with another token.
        let (h2, b2) = signed("another-token", URL, &inbound());
        let e = accept(&account(), HookKind::Events, &h2, &b2).unwrap_err();
        assert!(
            matches!(&e, Refusal::Forbidden(w) if w.contains("does not match")),
            "{e}"
        );
        // One byte of the body changed.
        let mut tampered = body.clone();
        *tampered.last_mut().unwrap() = b'1';
        let e = accept(&account(), HookKind::Events, &h, &tampered).unwrap_err();
        assert!(matches!(e, Refusal::Forbidden(_)), "{e}");
        // Signed for another URL.
        let (h3, b3) = signed(
            TOKEN,
            "https://inbox.example.com/webhooks/twilio/8",
            &inbound(),
        );
        let e = accept(&account(), HookKind::Events, &h3, &b3).unwrap_err();
        assert!(matches!(e, Refusal::Forbidden(_)), "{e}");
        let mut shared = h.clone();
        shared.insert(
            "x-twilio-webhooks-signature-settings",
            "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
                .parse()
                .unwrap(),
        );
        let e = accept(&account(), HookKind::Events, &shared, &body).unwrap_err();
        assert!(
            matches!(&e, Refusal::Forbidden(w) if w.contains("shared key")),
            "{e}"
        );
        shared.insert(
            "x-twilio-webhooks-signature-settings",
            "key=k,algorithm=HMAC_SHA1".parse().unwrap(),
        );
        assert!(accept(&account(), HookKind::Events, &shared, &body).is_ok());
        h.remove("x-twilio-signature");
        let e = accept(&account(), HookKind::Events, &h, &body).unwrap_err();
        assert!(
            matches!(&e, Refusal::Forbidden(w) if w.contains("missing")),
            "{e}"
        );
    }

    #[test]
    fn refuses_another_account_and_bad_shapes() {
        let mut params = inbound();
        params[1].1 = "AC00000000000000000000000000000000";
        let (h, body) = signed(TOKEN, URL, &params);
        assert!(matches!(
            accept(&account(), HookKind::Events, &h, &body),
            Err(Refusal::Forbidden(_))
        ));
        for (drop, name) in [(0, "MessageSid"), (2, "From"), (3, "To")] {
            let mut p = inbound();
            p.remove(drop);
            let (h, body) = signed(TOKEN, URL, &p);
            let e = accept(&account(), HookKind::Events, &h, &body).unwrap_err();
            assert!(
                matches!(&e, Refusal::Malformed(w) if w.contains(name)),
                "{e}"
            );
        }
        let mut p = inbound();
        p[0].1 = "SM123";
        let (h, body) = signed(TOKEN, URL, &p);
        assert!(matches!(
            accept(&account(), HookKind::Events, &h, &body),
            Err(Refusal::Malformed(_))
        ));
        let (mut h, _) = signed(TOKEN, URL, &inbound());
        h.insert("content-type", "application/json".parse().unwrap());
        let e = accept(&account(), HookKind::Events, &h, b"{\"MessageSid\":1}").unwrap_err();
        assert!(
            matches!(&e, Refusal::Malformed(w) if w.contains("application/json")),
            "{e}"
        );
        let (h, _) = signed(TOKEN, URL, &inbound());
        let e = accept(&account(), HookKind::Events, &h, b"Body=%FF").unwrap_err();
        assert!(matches!(e, Refusal::Malformed(_)), "{e}");
    }

    #[test]
    fn answers_empty_twiml() {
        let (ct, body) = TwilioWebhook.ack();
        assert_eq!(ct, "text/xml");
        assert!(body.ends_with("<Response></Response>"));
    }
}
