//! The SMS/MMS channel through Twilio's REST API (or any provider speaking the same wire
//! format at another `api_base`).
//!
//! - `webhook`: verifies `X-Twilio-Signature` and names the dedupe key of each inbound message
//!   (`msg:<MessageSid>`) and status callback (`status:<MessageSid>:<MessageStatus>`).
//! - `receiver`: turns a stored form into an inbound message (with its media) or a delivery
//!   report.
//! - `sender`: `POST /2010-04-01/Accounts/{sid}/Messages.json` with a status callback URL.
//! - `media`: downloads the files of an MMS, only from the API's own host.
//! - `signature`, `form` (from the `wire` crate), `codes`: the signing scheme, form bodies,
//!   error codes in words.

pub mod codes;
pub mod media;
pub mod receiver;
pub mod sender;
pub mod webhook;

/// The wire format, shared with the provider stand-in (the `wire` crate).
pub use wire::twilio::{form, is_sid, signature};

use super::{http_client, ChannelConfig, Registry};
use app::store::channel_accounts::AccountRow;
use serde::Deserialize;
use std::sync::Arc;

/// `channel_accounts.provider` of Twilio accounts.
pub const PROVIDER: &str = "twilio";
/// Where Twilio's REST API lives when the account does not say otherwise.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// Adds this provider's adapters to `r`.
pub fn register(r: &mut Registry, config: &ChannelConfig) {
    let client = config.client();
    r.add(
        PROVIDER,
        Arc::new(receiver::TwilioReceiver),
        Arc::new(sender::TwilioSender::new(client, &config.public_url)),
    );
    r.add_webhook(PROVIDER, Arc::new(webhook::TwilioWebhook));
    r.add_media(
        PROVIDER,
        Arc::new(media::TwilioMedia::new(
            config.media_client(),
            config.media_policy.clone(),
        )),
    );
}

/// The account's API base URL, without a trailing slash.
pub fn api_base(account: &AccountRow) -> String {
    let base = account.setting("api_base");
    let base = base.trim().trim_end_matches('/');
    if base.is_empty() {
        DEFAULT_API_BASE.to_string()
    } else {
        base.to_string()
    }
}

/// (scheme, host, port) of an http(s) URL, lower-cased, with the scheme's default port. None
/// for anything else, including URLs with user information.
pub fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let after_bracket = authority.rfind(']').map_or(0, |i| i + 1);
    let (host, port) = match authority[after_bracket..].rfind(':') {
        Some(i) => {
            let i = after_bracket + i;
            (&authority[..i], authority[i + 1..].parse::<u16>().ok()?)
        }
        None => (authority, default_port),
    };
    if host.is_empty() {
        return None;
    }
    Some((scheme, host.to_ascii_lowercase(), port))
}

/// Twilio's error answer: `{"code", "message", "more_info", "status"}`.
#[derive(Debug, Deserialize)]
pub struct ApiError {
    pub code: Option<i64>,
    pub message: Option<String>,
}

impl ApiError {
    /// The error's code (as text) and `Twilio error <code>: <message>`, from an answer body.
    pub fn read(body: &[u8]) -> Option<(String, String)> {
        let e: ApiError = serde_json::from_slice(body).ok()?;
        let message = e.message.unwrap_or_default();
        let code = e.code.map(|c| c.to_string()).unwrap_or_default();
        if code.is_empty() && message.is_empty() {
            return None;
        }
        let words = match (code.is_empty(), message.is_empty()) {
            (false, false) => format!("Twilio error {code}: {message}"),
            (false, true) => format!("Twilio {}", codes::describe(&code)),
            _ => format!("Twilio: {message}"),
        };
        Some((code, words))
    }
}

/// A failed bounded read in words.
pub fn limit_words(e: &http_client::LimitError) -> String {
    match e {
        http_client::LimitError::TooLarge(n) => {
            format!(
                "the answer is over {} bytes ({n})",
                http_client::MAX_API_BYTES
            )
        }
        http_client::LimitError::Io(w) => w.clone(),
    }
}

/// The start of a non-JSON answer, made safe to show.
pub fn snippet(body: &[u8]) -> String {
    http_client::body_words(body)
}

#[derive(Deserialize)]
struct AccountInfo {
    sid: Option<String>,
    friendly_name: Option<String>,
    status: Option<String>,
}

/// Checks the account's credentials with a cheap authenticated call (the Account resource)
/// and says what it found.
pub async fn test_connection(
    client: &reqwest::Client,
    account: &AccountRow,
) -> Result<String, String> {
    let sid = account.setting("account_sid");
    let token = account.secret("auth_token");
    if sid.is_empty() {
        return Err("The account SID is not set.".into());
    }
    if token.is_empty() {
        return Err("The auth token is not set.".into());
    }
    let url = format!("{}/2010-04-01/Accounts/{sid}.json", api_base(account));
    let resp = client
        .get(&url)
        .basic_auth(&sid, Some(&token))
        .send()
        .await
        .map_err(|e| format!("Twilio could not be reached: {}", http_client::words(&e)))?;
    let status = resp.status();
    let body = http_client::read_limited(resp, http_client::MAX_API_BYTES)
        .await
        .map_err(|e| format!("Twilio's answer could not be read: {}", limit_words(&e)))?;
    if !status.is_success() {
        return Err(match ApiError::read(&body) {
            Some((_, words)) => format!("{words} (HTTP {})", status.as_u16()),
            None => format!(
                "Twilio answered HTTP {}: {}",
                status.as_u16(),
                snippet(&body)
            ),
        });
    }
    let info: AccountInfo =
        serde_json::from_slice(&body).map_err(|_| http_client::not_the_api("Twilio", &body))?;
    let name = info.friendly_name.unwrap_or_default();
    let mut text = format!(
        "Signed in to Twilio account “{name}” ({})",
        info.sid.unwrap_or(sid)
    );
    if let Some(st) = info.status.filter(|s| s != "active") {
        text.push_str(&format!("; its status is {st}"));
    }
    Ok(text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use app::domain::ChannelKind;
    use axum::http::HeaderMap;

    pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
    pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    pub fn account() -> AccountRow {
        AccountRow {
            id: 7,
            channel: ChannelKind::Sms,
            provider: PROVIDER.into(),
            name: "SMS".into(),
            address: "+15550100000".into(),
            settings: serde_json::json!({
                "account_sid": SID,
                "phone_number": "+15550100000",
                "api_base": "https://api.twilio.com/",
            })
            .to_string(),
            secrets: serde_json::json!({ "auth_token": TOKEN }).to_string(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        }
    }

    /// Headers and body of a form posted to `url`, signed with `token`.
    pub fn signed(token: &str, url: &str, params: &[(&str, &str)]) -> (HeaderMap, Vec<u8>) {
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut h = HeaderMap::new();
        h.insert("content-type", webhook::FORM.parse().unwrap());
        h.insert(
            "x-twilio-signature",
            signature::signature(token, url, &owned).parse().unwrap(),
        );
        (h, form::encode(params.iter().copied()).into_bytes())
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            origin("https://API.twilio.com/2010-04-01/x"),
            Some(("https".into(), "api.twilio.com".into(), 443))
        );
        assert_eq!(
            origin("https://api.twilio.com:443"),
            origin("https://api.twilio.com/")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080?x"),
            Some(("http".into(), "127.0.0.1".into(), 8080))
        );
        assert_eq!(origin("https://api.twilio.com@evil.example/"), None);
        assert_eq!(origin("ftp://api.twilio.com/"), None);
        assert_eq!(origin("https://:80/"), None);
        assert_eq!(origin("https://h:99999/"), None);
        assert_eq!(api_base(&account()), "https://api.twilio.com");
    }

    #[test]
    fn error_answers_are_read() {
        let body = br#"{"code": 21211, "message": "The 'To' number 12 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#;
        assert_eq!(
            ApiError::read(body),
            Some((
                "21211".into(),
                "Twilio error 21211: The 'To' number 12 is not a valid phone number.".into()
            ))
        );
        assert_eq!(ApiError::read(b"<html>"), None);
        assert_eq!(ApiError::read(b"{}"), None);
        assert_eq!(snippet(b"  bad\r\ngateway "), "bad  gateway");
    }
}
