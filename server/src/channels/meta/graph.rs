//! Graph API error answers (`{"error": {"message", "type", "code", "error_subcode",
//! "error_data", "is_transient", "fbtrace_id"}}`) in words, and whether they are worth a retry.

use super::snippet;
use crate::channels::{http_client, MediaError, SendError};
use serde_json::Value;

/// Codes Meta documents as throttling or a passing outage: retried with backoff.
pub const TRANSIENT_CODES: &[i64] = &[
    1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131048, 131056, 133004,
];

#[derive(Clone, Debug, PartialEq)]
pub struct GraphError {
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub message: String,
    pub kind: Option<String>,
    pub is_transient: bool,
    /// WhatsApp's `error_data.details`.
    pub details: Option<String>,
}

impl GraphError {
    /// The error in a Graph answer body, if it holds one.
    pub fn read(body: &[u8]) -> Option<GraphError> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let e = v.get("error")?;
        if !e.is_object() {
            return None;
        }
        let str_of = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        Some(GraphError {
            code: super::fields::int(e.get("code")),
            subcode: super::fields::int(e.get("error_subcode")),
            message: str_of(e.get("message")).unwrap_or_default(),
            kind: str_of(e.get("type")),
            is_transient: e
                .get("is_transient")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            details: str_of(e.get("error_data").and_then(|d| d.get("details")))
                .or_else(|| str_of(e.get("error_user_msg"))),
        })
    }

    pub fn transient(&self) -> bool {
        self.is_transient || self.code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
    }

    /// `Meta error <code>: <message> (<details>). <what it means>`
    pub fn words(&self) -> String {
        describe(
            "Meta error",
            self.code,
            self.subcode,
            &self.message,
            self.details.as_deref(),
        )
    }
}

/// An error in words: `<prefix> <code>: <message> (<details>). <explanation>`.
pub fn describe(
    prefix: &str,
    code: Option<i64>,
    subcode: Option<i64>,
    message: &str,
    details: Option<&str>,
) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(500)
            .collect::<String>()
            .trim()
            .to_string()
    };
    let mut message = clean(message);
    if let Some(c) = code {
        // Graph repeats the code in the message: "(#100) The parameter recipient is required".
        if let Some(rest) = message.strip_prefix(&format!("(#{c})")) {
            message = rest.trim().to_string();
        }
    }
    let mut s = match code {
        Some(c) => format!("{prefix} {c}"),
        None => prefix.to_string(),
    };
    if !message.is_empty() {
        s.push_str(": ");
        s.push_str(&message);
    }
    if let Some(d) = details
        .map(clean)
        .filter(|d| !d.is_empty() && *d != message)
    {
        s.push_str(&format!(" ({d})"));
    }
    if let Some(x) = explain(code, subcode) {
        s.push_str(". ");
        s.push_str(x);
    }
    s
}

/// What a code means for the agent, for the codes that need it.
pub fn explain(code: Option<i64>, subcode: Option<i64>) -> Option<&'static str> {
    match (code, subcode) {
        (_, Some(2018278)) | (Some(2018278), _) => Some(
            "The message is outside the allowed window: the customer last wrote more than 24 hours ago (7 days with the human agent tag).",
        ),
        (_, Some(2018108)) | (Some(551), _) => Some(
            "This person is not available right now: the reply window has closed, or they blocked or left the conversation.",
        ),
        (Some(131047), _) => Some(
            "Re-engagement needed: more than 24 hours have passed since the customer last wrote, so WhatsApp only accepts an approved template message.",
        ),
        (Some(131026), _) => Some(
            "WhatsApp could not deliver it: the number may not use WhatsApp, may run an old version, or has not accepted WhatsApp's terms.",
        ),
        (Some(131051), _) => Some("WhatsApp does not support this message type."),
        (Some(131030), _) => Some("The recipient is not on the allowed list of this test number."),
        (Some(190), _) => Some(
            "The access token is invalid or has expired: paste a new one in the channel settings.",
        ),
        (Some(10 | 200..=299), _) => {
            Some("The token lacks the permission for this: check the app's permissions.")
        }
        (Some(368), _) => Some("The page or number is temporarily blocked for policy reasons."),
        _ => None,
    }
}

/// A failed send answer as a retry or a final failure.
pub fn send_error(status: reqwest::StatusCode, body: &[u8]) -> SendError {
    match GraphError::read(body) {
        Some(e) if e.transient() || status.is_server_error() => {
            SendError::Temporary(format!("{} (HTTP {})", e.words(), status.as_u16()))
        }
        Some(e) => SendError::Permanent(e.words()),
        None => http_client::status_failure(status, &snippet(body)),
    }
}

/// A failed media answer.
pub fn media_error(status: reqwest::StatusCode, body: &[u8]) -> MediaError {
    match GraphError::read(body) {
        Some(e) if e.transient() || status.is_server_error() => MediaError::Temporary(e.words()),
        Some(e) => MediaError::Permanent(e.words()),
        None if status.is_server_error() || status.as_u16() == 429 => {
            MediaError::Temporary(format!("Meta answered {status}"))
        }
        None => MediaError::Permanent(format!("Meta answered {status}: {}", snippet(body))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn body(code: i64, subcode: Option<i64>, message: &str) -> Vec<u8> {
        let mut e = serde_json::json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"});
        if let Some(s) = subcode {
            e["error_subcode"] = s.into();
        }
        serde_json::json!({ "error": e }).to_string().into_bytes()
    }

    #[test]
    fn throttling_and_outages_are_retried() {
        for code in [1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131048, 131056] {
            assert!(
                matches!(
                    send_error(StatusCode::BAD_REQUEST, &body(code, None, "slow down")),
                    SendError::Temporary(_)
                ),
                "{code}"
            );
        }
        let transient = br#"{"error":{"message":"An unexpected error has occurred.","code":99,"is_transient":true}}"#;
        assert!(matches!(
            send_error(StatusCode::BAD_REQUEST, transient),
            SendError::Temporary(_)
        ));
        assert!(matches!(
            send_error(StatusCode::INTERNAL_SERVER_ERROR, &body(100, None, "x")),
            SendError::Temporary(_)
        ));
        assert!(matches!(
            send_error(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>"),
            SendError::Temporary(_)
        ));
        assert!(matches!(
            send_error(StatusCode::TOO_MANY_REQUESTS, b""),
            SendError::Temporary(_)
        ));
    }

    #[test]
    fn other_errors_are_final_in_words() {
        for code in [10, 100, 190, 200, 551, 131026, 131047, 131051] {
            match send_error(StatusCode::BAD_REQUEST, &body(code, None, "nope")) {
                SendError::Permanent(w) => {
                    assert!(w.starts_with(&format!("Meta error {code}: nope")), "{w}")
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        let wa = br#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A"}}"#;
        let SendError::Permanent(w) = send_error(StatusCode::BAD_REQUEST, wa) else {
            panic!()
        };
        assert!(w.starts_with("Meta error 131047: Re-engagement message (Message failed to send because more than 24 hours"), "{w}");
        assert!(
            w.contains("more than 24 hours have passed since the customer last wrote"),
            "{w}"
        );
        let SendError::Permanent(w) = send_error(
            StatusCode::BAD_REQUEST,
            &body(
                10,
                Some(2018278),
                "(#10) This message is sent outside of allowed window.",
            ),
        ) else {
            panic!()
        };
        assert!(
            w.starts_with("Meta error 10: This message is sent outside of allowed window."),
            "{w}"
        );
        assert!(w.contains("outside the allowed window"), "{w}");
        let SendError::Permanent(w) = send_error(
            StatusCode::BAD_REQUEST,
            &body(551, None, "This person isn't available right now."),
        ) else {
            panic!()
        };
        assert!(w.contains("not available right now"), "{w}");
        assert!(
            matches!(send_error(StatusCode::FORBIDDEN, b"forbidden"), SendError::Permanent(w) if w.contains("forbidden"))
        );
    }

    #[test]
    fn error_bodies_are_read_leniently() {
        assert_eq!(GraphError::read(b"{}"), None);
        assert_eq!(GraphError::read(br#"{"error":"x"}"#), None);
        assert_eq!(GraphError::read(b"\xff"), None);
        let e = GraphError::read(br#"{"error":{"code":"4"}}"#).unwrap();
        assert!(e.transient());
        assert_eq!(e.words(), "Meta error 4");
        assert!(matches!(
            media_error(
                StatusCode::NOT_FOUND,
                &body(100, Some(33), "Unsupported get request.")
            ),
            MediaError::Permanent(_)
        ));
        assert!(matches!(
            media_error(StatusCode::SERVICE_UNAVAILABLE, b""),
            MediaError::Temporary(_)
        ));
    }
}
