//! The Twilio stand-in's control endpoints, and the webhooks it posts to our app the way Twilio
//! does: signed inbound messages, and status callbacks after a send.
//!
//! - `POST /_standin/twilio/inbound` `{url, auth_token, account_sid, from, to, body,
//!   message_sid?, media?: [{content_type, base64}], messaging_service_sid?}`: a customer's
//!   SMS/MMS, posted to `url` with every field Twilio sends. Answers `{status, body,
//!   message_sid, signature, params}`.
//! - `POST /_standin/twilio/status` `{url, auth_token, account_sid, message_sid, status,
//!   error_code?, from?, to?}`: one status callback.
//! - `POST /_standin/twilio/outcome` `{to, status, error_code?}`: sends to `to` end in `status`
//!   (e.g. `undelivered` with 30003) instead of `delivered`.
//! - `POST /_standin/twilio/account` `{account_sid, auth_token?, friendly_name?, status?}`:
//!   what the Account resource says, and the only auth token accepted for it.

use super::{dlr_date, new_sid, segments, API_VERSION};
use crate::{deliver, now_secs, StandIn};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use wire::twilio::{form, signature};

pub fn routes() -> Router<StandIn> {
    Router::new()
        .route("/_standin/twilio/inbound", post(inbound))
        .route("/_standin/twilio/status", post(status))
        .route("/_standin/twilio/outcome", post(outcome))
        .route("/_standin/twilio/account", post(account))
}

/// How long Twilio takes between the steps of a delivery.
const STEP: Duration = Duration::from_millis(300);

/// Signs `params` for `url` and posts them as Twilio does; returns (status, body, signature).
pub async fn post_signed(
    s: &StandIn,
    url: &str,
    auth_token: &str,
    params: &[(String, String)],
) -> (u16, String, String) {
    let sig = signature::signature(auth_token, url, params);
    let body = form::encode(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let headers = [
        ("X-Twilio-Signature", sig.clone()),
        ("I-Twilio-Idempotency-Token", new_sid("")),
        ("User-Agent", "TwilioProxy/1.1".to_string()),
    ];
    let (st, text) = deliver(
        s,
        url,
        &headers,
        "application/x-www-form-urlencoded; charset=utf-8",
        body.into_bytes(),
    )
    .await;
    (st, text, sig)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The country Twilio names for a number (a few calling codes; empty when unknown).
fn country(number: &str) -> &'static str {
    const CODES: [(&str, &str); 8] = [
        ("+1", "US"),
        ("+44", "GB"),
        ("+49", "DE"),
        ("+33", "FR"),
        ("+34", "ES"),
        ("+39", "IT"),
        ("+61", "AU"),
        ("+31", "NL"),
    ];
    CODES
        .iter()
        .find(|(p, _)| number.starts_with(p))
        .map_or("", |(_, c)| c)
}

#[derive(Deserialize)]
struct MediaIn {
    content_type: String,
    base64: String,
}

#[derive(Deserialize)]
struct InboundIn {
    url: String,
    auth_token: String,
    account_sid: String,
    from: String,
    to: String,
    #[serde(default)]
    body: String,
    message_sid: Option<String>,
    #[serde(default)]
    media: Vec<MediaIn>,
    messaging_service_sid: Option<String>,
}

async fn inbound(
    State(s): State<StandIn>,
    Json(req): Json<InboundIn>,
) -> (StatusCode, Json<Value>) {
    let mut files = Vec::new();
    for m in &req.media {
        match base64::engine::general_purpose::STANDARD.decode(m.base64.trim()) {
            Ok(data) => files.push((m.content_type.clone(), data)),
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": format!("media base64: {e}")})),
                )
            }
        }
    }
    let sid = req
        .message_sid
        .clone()
        .unwrap_or_else(|| new_sid(if files.is_empty() { "SM" } else { "MM" }));
    let segments = segments::count(&req.body).max(1).to_string();
    let num_media = files.len().to_string();
    let (to_country, from_country) = (country(&req.to), country(&req.from));
    let mut params = pairs(&[
        ("ToCountry", to_country),
        ("ToState", ""),
        ("SmsMessageSid", &sid),
        ("NumMedia", &num_media),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", &sid),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", &req.body),
        ("FromCountry", from_country),
        ("To", &req.to),
    ]);
    if let Some(service) = req
        .messaging_service_sid
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        params.push(("MessagingServiceSid".into(), service.into()));
    }
    params.extend(pairs(&[
        ("ToZip", ""),
        ("NumSegments", &segments),
        ("MessageSid", &sid),
        ("AccountSid", &req.account_sid),
        ("From", &req.from),
        ("ApiVersion", API_VERSION),
    ]));
    for (i, (ct, data)) in files.into_iter().enumerate() {
        let path = format!(
            "/2010-04-01/Accounts/{}/Messages/{sid}/Media/{}",
            req.account_sid,
            new_sid("ME")
        );
        let url = s.put_file(&path, &ct, data);
        params.push((format!("MediaContentType{i}"), ct));
        params.push((format!("MediaUrl{i}"), url));
    }
    let (status, body, sig) = post_signed(&s, &req.url, &req.auth_token, &params).await;
    (
        StatusCode::OK,
        Json(json!({
            "status": status,
            "body": body,
            "message_sid": sid,
            "signature": sig,
            "params": params,
        })),
    )
}

/// One status callback to post.
pub struct Report {
    pub url: String,
    pub auth_token: String,
    pub account_sid: String,
    pub message_sid: String,
    pub from: String,
    pub to: String,
    pub messaging_service_sid: String,
}

/// The form of one status callback, as Twilio sends it.
fn callback_params(r: &Report, status: &str, error_code: Option<&str>) -> Vec<(String, String)> {
    let mut p = Vec::new();
    if let Some(code) = error_code {
        p.push(("ErrorCode".to_string(), code.to_string()));
    }
    p.extend(pairs(&[
        ("SmsSid", &r.message_sid),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", &r.to),
    ]));
    if !r.messaging_service_sid.is_empty() {
        p.push((
            "MessagingServiceSid".into(),
            r.messaging_service_sid.clone(),
        ));
    }
    p.extend(pairs(&[
        ("MessageSid", &r.message_sid),
        ("AccountSid", &r.account_sid),
        ("From", &r.from),
        ("ApiVersion", API_VERSION),
    ]));
    if status == "delivered" || status == "undelivered" {
        p.push(("RawDlrDoneDate".into(), dlr_date(now_secs())));
    }
    p
}

async fn post_report(s: &StandIn, r: &Report, status: &str, error_code: Option<&str>) {
    let params = callback_params(r, status, error_code);
    let (st, body, _) = post_signed(s, &r.url, &r.auth_token, &params).await;
    s.set_config(
        &format!("twilio:callback:{}:{status}", r.message_sid),
        json!({"status": st, "body": body}),
    );
}

/// After a send: `sent`, then `delivered` (or the outcome registered for the number: `failed`
/// alone, or `sent` then e.g. `undelivered`), each after a short pause.
pub async fn report_progress(s: &StandIn, r: Report, outcome: Option<Value>) {
    let final_status = outcome
        .as_ref()
        .and_then(|o| o.get("status").and_then(Value::as_str))
        .unwrap_or("delivered")
        .to_string();
    let code = outcome.as_ref().and_then(|o| match o.get("error_code") {
        Some(Value::String(c)) => Some(c.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    });
    if final_status != "failed" {
        tokio::time::sleep(STEP).await;
        post_report(s, &r, "sent", None).await;
        if final_status == "sent" {
            return;
        }
    }
    tokio::time::sleep(STEP).await;
    let code = code.or_else(|| {
        matches!(final_status.as_str(), "failed" | "undelivered").then(|| "30008".to_string())
    });
    post_report(s, &r, &final_status, code.as_deref()).await;
}

#[derive(Deserialize)]
struct StatusIn {
    url: String,
    auth_token: String,
    account_sid: String,
    message_sid: String,
    status: String,
    error_code: Option<Value>,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn status(State(s): State<StandIn>, Json(req): Json<StatusIn>) -> Json<Value> {
    let r = Report {
        url: req.url,
        auth_token: req.auth_token,
        account_sid: req.account_sid,
        message_sid: req.message_sid,
        from: req.from,
        to: req.to,
        messaging_service_sid: String::new(),
    };
    let code = match req.error_code {
        Some(Value::String(c)) => Some(c),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let params = callback_params(&r, &req.status, code.as_deref());
    let (st, body, sig) = post_signed(&s, &r.url, &r.auth_token, &params).await;
    Json(json!({"status": st, "body": body, "signature": sig, "params": params}))
}

#[derive(Deserialize)]
struct OutcomeIn {
    to: String,
    status: String,
    error_code: Option<Value>,
}

async fn outcome(State(s): State<StandIn>, Json(req): Json<OutcomeIn>) -> StatusCode {
    s.set_config(
        &format!("twilio:outcome:{}", req.to),
        json!({"status": req.status, "error_code": req.error_code}),
    );
    StatusCode::NO_CONTENT
}

async fn account(State(s): State<StandIn>, Json(req): Json<Value>) -> StatusCode {
    let Some(sid) = req.get("account_sid").and_then(Value::as_str) else {
        return StatusCode::BAD_REQUEST;
    };
    s.set_config(&format!("twilio:account:{sid}"), req.clone());
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_carry_twilio_fields() {
        let r = Report {
            url: "http://x/status".into(),
            auth_token: "t".into(),
            account_sid: "AC1".into(),
            message_sid: "SM1".into(),
            from: "+15550100000".into(),
            to: "+15005550006".into(),
            messaging_service_sid: String::new(),
        };
        let p = callback_params(&r, "undelivered", Some("30003"));
        let get = |k| form::get(&p, k);
        assert_eq!(get("MessageStatus"), Some("undelivered"));
        assert_eq!(get("SmsStatus"), Some("undelivered"));
        assert_eq!(get("ErrorCode"), Some("30003"));
        assert_eq!(get("MessageSid"), Some("SM1"));
        assert_eq!(get("SmsSid"), Some("SM1"));
        assert_eq!(get("ApiVersion"), Some("2010-04-01"));
        assert_eq!(get("MessagingServiceSid"), None);
        assert!(form::get(&callback_params(&r, "sent", None), "ErrorCode").is_none());
        assert_eq!(country("+447700900000"), "GB");
        assert_eq!(country("+999"), "");
    }
}
